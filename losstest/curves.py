"""Curves as the detectors see them: one metric of one run, sorted by step, one value a step."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .signal import Blocks, blocks, diff_noise, odd, rolling_median, to_log

# Detectors look at most this many points; longer curves are cut into blocks whose
# median, peak and spread keep the level, every spike and the noise.
WORKING_POINTS = 4000
SPIKE_POINTS = 50_000  # spikes are looked for at a finer resolution: one step, up to this many


@dataclass(frozen=True, eq=False)
class Curve:
    metric: str
    step: np.ndarray  # sorted, unique, int64
    value: np.ndarray  # float64; NaN and inf kept
    restarts: tuple[tuple[int, int], ...] = ()  # (step reached, step resumed from) each time
    duplicates: int = 0  # values overwritten by a later value at the same step
    epoch: np.ndarray | None = None  # aligned with step, where the format has it
    wall_time: np.ndarray | None = None

    @classmethod
    def from_log_order(
        cls,
        metric: str,
        step: np.ndarray,
        value: np.ndarray,
        epoch: np.ndarray | None = None,
        wall_time: np.ndarray | None = None,
    ) -> Curve:
        """Sort by step keeping, for each step, the value written last (a resumed run)."""
        back = np.flatnonzero(np.diff(step) < 0)
        restarts = tuple((int(step[i]), int(step[i + 1])) for i in back)
        order = np.argsort(step, kind="stable")
        sorted_step = step[order]
        last = np.append(sorted_step[1:] != sorted_step[:-1], True)
        keep = order[last]
        return cls(
            metric, sorted_step[last], value[keep], restarts, int(len(step) - last.sum()),
            None if epoch is None else epoch[keep], None if wall_time is None else wall_time[keep],
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.step)

    @cached_property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.value)

    @cached_property
    def shape(self) -> Shape:
        return Shape(self.step[self.finite], self.value[self.finite])


class Shape:
    """The finite part of a curve in a scale-free space (log, or IQR units), blocked to a
    working resolution, with a trend line: what the shape detectors share."""

    def __init__(self, step: np.ndarray, value: np.ndarray):
        self.step = step
        self.value = value
        self.z, self.is_log = to_log(value)
        self.blocks: Blocks = blocks(step, self.z, WORKING_POINTS)
        self._trends: dict[float, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.blocks.median)

    @cached_property
    def fine(self) -> Blocks:
        """The curve at the resolution spikes are looked for at."""
        return blocks(self.step, self.z, SPIKE_POINTS)

    @cached_property
    def noise(self) -> float:
        """Standard deviation of the working points around the curve's trend."""
        b = self.blocks
        if b.size == 1:
            return float(np.median(diff_noise(b.median, 31))) if len(b.median) > 2 else 0.0
        return float(np.median(b.spread)) * 1.25 / np.sqrt(b.size)

    def level_error(self, window: int) -> float:
        """Standard error of a median over `window` working points: how far two trend levels
        may differ by noise alone."""
        return self.noise * 1.25 / np.sqrt(max(window, 1))

    def window(self, fraction: float, minimum: int = 3) -> int:
        return odd(max(minimum, round(fraction * len(self))), len(self))

    def trend(self, fraction: float = 0.05) -> np.ndarray:
        """Running median over `fraction` of the run; computed once for the detectors sharing it."""
        if fraction not in self._trends:
            self._trends[fraction] = rolling_median(self.blocks.median, self.window(fraction))
        return self._trends[fraction]

    def edge(self, fraction: float, at_end: bool) -> float:
        """Median level of the first or last `fraction` of the curve."""
        k = max(3, round(fraction * len(self)))
        part = self.blocks.median[-k:] if at_end else self.blocks.median[:k]
        return float(np.median(part))

    def unscale(self, z: float) -> float:
        """A level in the working space back in the curve's own units."""
        if self.is_log:
            return float(np.exp(z))
        q1, q3 = np.percentile(self.value, [25, 75])
        return float(z * (q3 - q1 or np.ptp(self.value) or 1.0))


@dataclass(frozen=True, eq=False)
class RunCurves:
    """What one run offers the detectors."""

    train: Curve | None
    val: Curve | None
    chance: float | None = None  # the loss of guessing, ln(vocabulary or classes), if known
    target: float | None = None  # a loss the run must get below, if configured
    lr: Curve | None = None  # the learning rate and gradient norm, for plots
    grad_norm: Curve | None = None
