"""spike — a short jump of the loss that recovered.

What it detects: points that stand far above the running median of their neighbourhood — more
than `threshold` robust standard deviations of the local noise and at least `min_rise` above the
local level, and `dip_ratio` times as far as the deepest dip below the curve within `dip_span`
of the run around them — for at most `max_width` points, after which the loss is back within
its noise. A loss that dips as far as it jumps (heavy-tailed noise of small batches, a running
mean that restarts each epoch) has noise, not spikes.
Algorithm: residuals from a running median of `window` points, measured against a running
median absolute deviation of the residuals (the local noise), in log space so that a spike is a
ratio; long curves are first cut into blocks whose peaks keep every one-step spike. The jump
must also be at least `min_share` of the run's whole range in the loss's own units, so that the
rounding of a near-zero loss (0.0001 to 0.0002) is no spike.
A jump that takes longer to decay (a bad data shard: up at once, back over a hundred steps) is
a spike too when the loss's level over 1 % of the run stands `jump_ratio` times above the best
level before it, as long as it lasts under `max_share` of the run; longer ones are
instabilities.
Why it matters: spikes come from bad batches or from the edge of stability; a few are harmless,
many foretell divergence.
Parameters: threshold (6 sigma), min_rise (0.1 = 10.5 % in log space), max_width (5 points),
window (31 points), min_share (0.02), jump_ratio (3), max_share (0.1 of the run), dip_ratio (1.5),
dip_span (0.2 of the run).
What to do: find the batches at those steps (data loader order, seed); if spikes repeat, lower
the learning rate or clip gradients; PaLM-style: restart from a checkpoint before the spike and
skip the batches in `skip_steps` of the evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import num, pct, rounded
from ..report import Finding, Mark, Severity
from ..signal import diff_noise, rolling_max, rolling_median, runs_of
from .shape import excursions, train_shape

KIND = "spike"
CODE = "LT103"
SEVERITY = Severity.WARN

MARKS = (Mark("peak", "#d81b60"),)
TALLY = ("spikes", None)  # leaderboard column: how many spikes


@dataclass(frozen=True)
class Params:
    threshold: float = 6.0  # robust standard deviations of the local noise
    min_rise: float = 0.1  # above the local level: log units, or IQRs for a loss crossing zero
    max_width: int = 5  # points (or blocks, on a long curve)
    window: int = 31  # points in the running median
    min_share: float = 0.02  # of the run's range (highest to lowest trend level), in its units
    jump_ratio: float = 3.0  # a slowly decaying jump: its peak over the best level before it
    max_share: float = 0.1  # of the run's steps; a longer blow-up is an instability
    dip_ratio: float = 1.5  # a jump over the deepest dip nearby, both in noise units
    dip_span: float = 0.2  # of the run's points around a jump, where dips are looked at
    min_points: int = 12


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None:
        return []
    curve = curves.train
    b = shape.fine
    base = rolling_median(b.median, params.window)
    if b.size == 1:
        noise = diff_noise(b.median, params.window)
        allowance = 0.0
    else:  # the peak of a block of noise sits above its median by about sqrt(2 ln size) sigma
        noise = np.maximum(rolling_median(b.spread, params.window, trend=False), b.spread)
        allowance = math.sqrt(2 * math.log(b.size))
    noise = np.maximum(noise, 0.25 * float(np.median(noise)))
    excess = b.peak - base
    # out of the local noise, and dip_ratio times as far as the deepest dip below the curve
    # nearby: a loss that dips as far as it jumps (heavy-tailed noise of small batches, a
    # running mean that restarts each epoch) has noise, not spikes
    near = _near(params, len(base))
    depth = np.divide(base - b.median, noise, out=np.zeros_like(noise), where=noise > 0)
    dips = rolling_max(depth, near)
    above = excess > np.maximum(params.threshold + allowance, params.dip_ratio * dips) * noise
    # and big enough: in log units, and in the loss's own units too (near a tiny loss, rounding
    # alone doubles a value)
    min_rise = params.min_rise if shape.is_log else 5 * params.min_rise
    trend = shape.trend()
    span = shape.unscale(float(trend.max())) - shape.unscale(float(trend.min()))
    level = np.exp(base) if shape.is_log else base
    peak_level = np.exp(b.peak) if shape.is_log else b.peak
    unit = 1 if shape.is_log else shape.unscale(1.0)
    big = above & (excess > min_rise) & ((peak_level - level) * unit >= params.min_share * span)
    starts, ends = runs_of(above)
    # a spike jumps from the curve and is back within its noise a few points later (a running
    # mean that restarts each epoch decays back slowly): not the first or last point
    has_big = np.concatenate([[0], np.cumsum(big)])
    short = (
        (ends - starts + 1 <= params.max_width)
        & (starts > 0)
        & (ends < len(b.median) - 1)
        & (has_big[ends + 1] > has_big[starts])
    )
    steps = np.asarray(curve.step)
    interval = curve.interval
    margin = max(interval, int(0.002 * (steps[-1] - steps[0])))
    found = []
    narrow = []
    for s, e in zip(starts[short], ends[short], strict=True):  # one finding per spike
        at = s + int(np.argmax(excess[s : e + 1]))
        peak, level = shape.unscale(float(b.peak[at])), shape.unscale(float(base[at]))
        first, last = int(b.peak_step[s]), int(b.peak_step[e])
        narrow.append((first, last))
        sigmas = float(excess[at] / noise[at]) if noise[at] > 0 else math.inf
        change = f" ({pct(peak / level)})" if shape.is_log else ""
        found.append(
            Finding(
                KIND,
                SEVERITY,
                curve.metric,
                first,
                last,
                f"{curve.metric} jumped to {num(peak)} at step {int(b.peak_step[at])} from a "
                f"level of {num(level)}{change} and recovered",
                {
                    "peak": rounded(peak),
                    "level": rounded(level),
                    "peak_step": int(b.peak_step[at]),
                    "sigmas": rounded(sigmas),
                    "skip_steps": [max(int(steps[0]), first - margin), last + margin],
                },
            )  # fmt: skip
        )
    return found + _slow(shape, curve.metric, params, narrow, margin)


def _near(params: Params, points: int) -> int:
    """How many points around a jump its dips are looked for among."""
    return max(4 * params.window + 1, round(params.dip_span * points))


def _stands_out(smooth: np.ndarray, x, near: int, ratio: float) -> bool:
    """As for a spike: a jump's rise over the level around it (a stretch four times its length,
    or `near` points) must be `ratio` times the deepest fall of the level below it there; a
    loss whose level swings both ways, as the per-batch loss of tiny batches does, swings."""
    width = max(near, 4 * (x.end - x.start + 1))
    around = smooth[max(0, x.peak - width // 2) : x.peak + width // 2 + 1]
    level = float(np.median(around))
    return smooth[x.peak] - level >= ratio * float(np.max(level - around))


def _slow(shape, metric: str, params: Params, narrow: list, margin: int) -> list[Finding]:
    """Jumps that decay over more points than a spike's width, but not for long."""
    steps, level = shape.blocks.step, shape.blocks.median
    span = max(1, int(shape.step[-1] - shape.step[0]))
    smooth = shape.trend(0.01)
    near = _near(params, len(smooth))
    found = []
    for x in excursions(shape, math.log(params.jump_ratio)):
        first, last, peak_step = int(steps[x.start]), int(steps[x.end]), int(steps[x.peak])
        taken = any(a <= peak_step <= b for a, b in narrow)
        wide = x.end - x.start + 1 > params.max_width  # narrower: the test above judged it
        if taken or not wide or not x.recovered or last - first >= params.max_share * span:
            continue
        if not _stands_out(smooth, x, near, params.dip_ratio):
            continue
        before = float(np.min(level[: x.start])) if x.start else float(level[0])
        peak, level_v = shape.unscale(float(level[x.peak])), shape.unscale(before)
        found.append(
            Finding(
                KIND,
                SEVERITY,
                metric,
                first,
                last,
                f"{metric} jumped to {num(peak)} at step {peak_step} from a level of "
                f"{num(level_v)} ({pct(peak / level_v)}) and took {last - first} steps to recover",
                {
                    "peak": rounded(peak),
                    "level": rounded(level_v),
                    "peak_step": peak_step,
                    "recovery_steps": last - first,
                    "skip_steps": [max(int(shape.step[0]), first - margin), last + margin],
                },
            )  # fmt: skip
        )
    return found


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """A jump of a loss that has diverged or oscillates is part of that, not a spike that
    recovered."""
    return finding.starts_within(findings, ("divergence", "oscillation"))


def identity(finding: Finding) -> tuple:
    """Spikes are told apart by their peak."""
    return (finding.kind, finding.metric, finding.evidence.get("peak_step"))
