"""The shape of a curve as the shape checks share it: computed once per curve."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from weakref import WeakKeyDictionary

import numpy as np

from ..curves import Curve, RunCurves
from ..signal import (
    Blocks,
    blocks,
    coarser,
    odd,
    rolling_median,
    rounded_to,
    runs_of,
    to_log,
    typical_noise,
)  # fmt: skip

# Checks look at most this many points; longer curves are cut into blocks whose
# median, peak and spread keep the level, every spike and the noise.
WORKING_POINTS = 4000
ZERO_SHARE = 1e-3  # of a loss's starting level: as good as zero
ROUNDING_STEPS = 2  # of the rounding a logged loss went through: as good as zero
SPIKE_POINTS = 50_000  # spikes are looked for at a finer resolution: one step, up to this many


class Shape:
    """The finite part of a curve in a scale-free space (log, or IQR units), blocked to a
    working resolution, with a trend line: what the shape checks share."""

    def __init__(self, step: np.ndarray, value: np.ndarray):
        self.step = step
        self.value = value
        self.z, self.is_log = to_log(value)
        #  the resolution spikes are looked for at, and the working one; a curve longer than
        #  SPIKE_POINTS is read once, its working blocks made of whole fine ones
        self.fine: Blocks = blocks(step, self.z, SPIKE_POINTS)
        self.blocks: Blocks = (
            coarser(self.fine, step, WORKING_POINTS)
            if self.fine.size > 1
            else blocks(step, self.z, WORKING_POINTS)
        )
        self._trends: dict[float, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.blocks.median)

    @cached_property
    def noise(self) -> float:
        """Standard deviation of the working points around the curve's trend."""
        b = self.blocks
        if b.size == 1:
            return typical_noise(b.median, 31) if len(b.median) > 2 else 0.0
        return float(np.median(b.spread)) * 1.25 / np.sqrt(b.size)

    def level_error(self, window: int) -> float:
        """Standard error of a median over `window` working points: how far two trend levels
        may differ by noise alone."""
        return self.noise * 1.25 / np.sqrt(max(window, 1))

    def window(self, fraction: float, minimum: int = 3) -> int:
        return odd(max(minimum, round(fraction * len(self))), len(self))

    def trend(self, fraction: float = 0.05) -> np.ndarray:
        """Running median over `fraction` of the run; computed once for the checks sharing it."""
        if fraction not in self._trends:
            self._trends[fraction] = rolling_median(self.blocks.median, self.window(fraction))
        return self._trends[fraction]

    def edge(self, fraction: float, at_end: bool) -> float:
        """Median level of the first or last `fraction` of the curve."""
        k = max(3, round(fraction * len(self)))
        part = self.blocks.median[-k:] if at_end else self.blocks.median[:k]
        return float(np.median(part))

    def level_at(self, step: int) -> float:
        """The level around a step (the median of the points within a fortieth of the run of
        it), where the curve of another metric is compared with it."""
        near = np.abs(self.step - step) <= max(1, (self.step[-1] - self.step[0]) // 40)
        if near.any():
            return float(np.median(self.z[near]))
        return float(np.interp(step, self.step, self.z))

    @cached_property
    def resumed(self) -> bool:
        """A stretch of a resumed run, logged only from past the middle of its steps on (picked
        up from a checkpoint late in its schedule): it has no start to judge its progress by."""
        return bool(self.step[0] > 0.5 * self.step[-1])

    def reached_zero(self, level: float) -> bool:
        """A loss at a thousandth of its starting level or below (in its own units), or within
        a step or two of the rounding it was logged with (0.0001 printed to four decimals; the
        HF Trainer rounds to four decimals too): it fits its training data as exactly as the log
        can tell, and flat there has nothing left to learn (boosting that stops splitting)."""
        start = self.unscale(self.edge(0.05, at_end=False))
        floor = max(ZERO_SHARE * start, ROUNDING_STEPS * (self.rounding or 0.0))
        return start > 0 and 0 <= level <= floor

    @cached_property
    def rounding(self) -> float | None:
        return rounded_to(self.value)

    def unscale(self, z: float) -> float:
        """A level in the working space back in the curve's own units."""
        return float(np.exp(z)) if self.is_log else float(z * self._scale)

    @cached_property
    def _scale(self) -> float:
        """What `to_log` divided a curve that crosses zero by: its interquartile range."""
        q1, q3 = np.percentile(self.value, [25, 75])
        return float(q3 - q1 or np.ptp(self.value) or 1.0)


_SHAPES: WeakKeyDictionary[Curve, Shape] = WeakKeyDictionary()


def shape_of(curve: Curve) -> Shape:
    """The curve's finite part as a Shape, made once however many checks ask for it."""
    if curve not in _SHAPES:
        ok = curve.finite
        every = bool(ok.all())  # the usual curve: no copy of ten million points
        _SHAPES[curve] = Shape(
            curve.step if every else curve.step[ok], curve.value if every else curve.value[ok]
        )
    return _SHAPES[curve]


def train_shape(curves: RunCurves, min_points: int) -> Shape | None:
    """The training curve's shape, or None when there is too little of it to judge."""
    curve = curves.train
    if curve is None:
        return None
    shape = shape_of(curve)
    return shape if len(shape) >= min_points else None


@dataclass(frozen=True)
class Excursion:
    """A stretch where the working level stood far above the best level reached before it:
    indices into `Shape.blocks`, and whether the level came back below the threshold."""

    start: int
    end: int  # the last point above
    peak: int
    recovered: bool


def excursions(shape: Shape, rise: float) -> list[Excursion]:
    """The stretches of a positive loss at least `rise` (log units) above the lowest level it
    had reached before them: blow-ups, whether they last a few steps or most of the run, from
    the first steps on. Levels are the trend over 1 % of the run, so that noise, however large,
    is no blow-up (and jumps shorter than that are the spike test's)."""
    if not shape.is_log or len(shape) < 3:
        return []
    level = shape.blocks.median
    smooth = shape.trend(0.01)
    start = float(np.min(level[:3]))  # reached at once, even by a loss blowing up at step 2
    height = smooth - np.minimum.accumulate(np.minimum(smooth, start))
    rise = max(rise, 6 * shape.level_error(shape.window(0.01)))
    # up past `rise`, and over until it is back below half of it: noise at the edge does not
    # cut one blow-up into many
    starts, ends = runs_of(height > rise / 2)
    high = np.concatenate([[0], np.cumsum(height > rise)])
    keep = high[ends + 1] > high[starts]
    starts, ends = starts[keep], ends[keep]
    peaks = [s + int(np.argmax(level[s : e + 1])) for s, e in zip(starts, ends, strict=True)]
    return [
        Excursion(int(s), int(e), p, bool(e < len(level) - 1))
        for s, e, p in zip(starts, ends, peaks, strict=True)
    ]
