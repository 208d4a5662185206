"""oscillation — the loss swings up and down far more than a learning curve should.

What it detects: repeated rises and falls of the loss level itself (not of single noisy points):
at least `min_swings` up-and-down swings, each at least `min_amplitude` and well beyond the
noise of the level.
Algorithm: the curve is cut into `bins` equal parts (of `bin_points` or more points) whose
medians form the level; the legs of that level's zigzag shorter than the larger of
`min_amplitude` and `significance` standard errors of a bin median (from the point-to-point
noise of the whole curve) are set aside, and the remaining up-then-down pairs are counted.
Swings faster than about twenty logged points a cycle, which the bins cannot resolve, are found
by their regularity instead: the level around its trend (a running median over `trend_span` of
the run) correlates with itself at least `period_correlation` one period on and at most minus
that half a period on, over at least `min_swings` periods of four points or more.
Swings that died out, the level over the last `settled_share` of the run moving less than
`settled_ratio` of the largest swing, were ringing the run left behind. Swings that are a few
isolated jumps above `jump_ratio` times the level before them, up less
than `max_duty` of the run, are spikes or instabilities instead.
Why it matters: a learning rate too high makes the loss bounce instead of descend; the run
wastes steps and often diverges later.
Parameters: min_swings (3), min_amplitude (0.2 = 22 % in log space), significance (4),
bins (64), bin_points (5), jump_ratio (3), max_duty (0.3), period_correlation (0.55), trend_span
(0.125), settled_share (0.3), settled_ratio (0.25).
What to do: lower the learning rate (by 3-10x), lower Adam's beta2 or momentum, add warmup,
clip gradients, or raise the batch size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import rounded
from ..report import Finding, Mark, Severity
from ..signal import autocorrelation, blocks, sign_runs
from .shape import Shape, excursions, train_shape

KIND = "oscillation"
CODE = "LT104"
SEVERITY = Severity.FAIL

MARKS = (Mark("span", "#8e24aa"),)
TALLY = ("swings", "swings")  # leaderboard column: swings of every oscillation
# Logged points a regular swing takes at least: a loss up and down at every other point
# bounces at the edge of stability (an instability while it lasts), or is noise.
MIN_PERIOD = 4


@dataclass(frozen=True)
class Params:
    min_swings: int = 3
    min_amplitude: float = 0.2  # log units, or IQRs for a loss crossing zero
    significance: float = 4.0  # standard errors of a bin median
    bins: int = 64
    bin_points: int = 5  # at least, for a median that noise does not swing
    jump_ratio: float = 3.0  # swings this far above the best level before them are jumps ...
    max_duty: float = 0.3  # ... when the loss spends less than this share of the run up there
    min_points: int = 24
    period_correlation: float = 0.55  # of the level with itself a period on (and -, half one)
    trend_span: float = 0.125  # of the run: the trend the regular swings are measured around
    settled_share: float = 0.3  # of the run, at its end, where swings that died out are ...
    settled_ratio: float = 0.25  # ... a level moving less than this share of the largest swing


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None:
        return []
    swings = _zigzag(shape, params) or _regular(shape, params)
    if swings is None or _settled(shape, swings, params):
        return []
    metric = curves.train.metric
    size = f"x{math.exp(swings.typical):.2g}" if shape.is_log else f"{swings.typical:.2g} IQR"
    return [
        Finding(
            KIND,
            SEVERITY,
            metric,
            swings.start,
            swings.end,
            f"{metric} swung up and down {swings.count} times between steps {swings.start} "
            f"and {swings.end} (typical swing {size})",
            {
                "swings": swings.count,
                "typical_swing": rounded(swings.typical),
                "log_space": shape.is_log,
                "period_steps": swings.period,
            },
        )  # fmt: skip
    ]


@dataclass(frozen=True)
class Swings:
    count: int
    start: int
    end: int
    typical: float  # height of a swing, in the shape's units
    largest: float
    period: int | None  # steps


def _zigzag(shape: Shape, params: Params) -> Swings | None:
    """The swings of the level's zigzag, bin by bin."""
    level = shape.blocks.median
    bins = min(params.bins, len(level) // params.bin_points)
    coarse = blocks(shape.blocks.step, level, bins)
    noise = shape.noise * 1.25 / math.sqrt(coarse.size)  # standard error of a bin's median
    threshold = max(params.min_amplitude, params.significance * math.sqrt(2) * noise)
    starts, ends, amplitude = sign_runs(np.diff(coarse.median), threshold)
    up = amplitude > 0
    swing = np.flatnonzero(up[:-1] & ~up[1:])
    if len(swing) < params.min_swings:
        return None
    steps = coarse.step
    peaks = steps[ends[swing] + 1]
    if _isolated_jumps(shape, peaks, params):
        return None
    first, last = swing[0], swing[-1] + 1
    heights = np.minimum(amplitude[swing], -amplitude[swing + 1])
    return Swings(
        int(len(swing)),
        int(steps[starts[first]]),
        int(steps[ends[last] + 1]),
        float(np.median(heights)),
        float(np.max(heights)),
        int(np.median(np.diff(peaks))) if len(peaks) > 1 else None,
    )


def _regular(shape: Shape, params: Params) -> Swings | None:
    """Swings too fast for the bins (a few logged points a cycle): the level around its trend
    repeats itself every period, and is opposite itself half a period later. Noise, spikes at
    a fixed batch and an epoch's sawtooth do not swing back that far."""
    residual = shape.blocks.median - shape.trend(params.trend_span)
    n = len(residual)
    longest = n // params.min_swings
    a = autocorrelation(residual)[: longest + 1]
    d = np.diff(a)
    troughs = np.flatnonzero((d[:-1] < 0) & (d[1:] >= 0)) + 1
    if not len(troughs):
        return None
    trough = int(troughs[0])
    period = trough + int(np.argmax(a[trough:]))
    correlation = params.period_correlation
    if period < MIN_PERIOD or a[period] < correlation or a[trough] > -correlation:
        return None
    # a sine's swing from trough to peak is 2 sqrt(2) standard deviations of its periodic part
    typical = 2 * math.sqrt(2) * float(np.std(residual)) * math.sqrt(float(a[period]))
    if typical < params.min_amplitude:
        return None
    steps = shape.blocks.step
    return Swings(
        n // period,
        int(steps[0]),
        int(steps[-1]),
        typical,
        typical,
        int(np.median(steps[period:] - steps[:-period])),
    )


def _settled(shape: Shape, swings: Swings, params: Params) -> bool:
    """Swings that died out: a loss ringing after a start at the edge of stability (momentum at
    a high rate) that the run left behind, its level over the last `settled_share` moving less
    than `settled_ratio` of the largest swing."""
    level = shape.blocks.median
    tail = level[-max(3, round(params.settled_share * len(level))) :]
    moving = float(np.percentile(tail, 95) - np.percentile(tail, 5))
    return moving < params.settled_ratio * swings.largest


def _isolated_jumps(shape, peaks: np.ndarray, params: Params) -> bool:
    """Swings that are a few jumps far above a loss that otherwise goes on as before (bad data,
    each recovering): spikes or instabilities, not a loss that swings. An oscillation spends
    much of its time up; such jumps little."""
    jumps = excursions(shape, math.log(params.jump_ratio))
    if not jumps:
        return False
    steps = shape.blocks.step
    spans = np.array([(steps[x.start], steps[x.end]) for x in jumps])
    inside = (peaks[:, None] >= spans[:, 0] - 1) & (peaks[:, None] <= spans[:, 1] + 1)
    up = sum(x.end - x.start + 1 for x in jumps) / len(steps)
    return bool(inside.any(axis=1).mean() >= 2 / 3 and up < params.max_duty)
