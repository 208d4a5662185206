"""divergence — the loss rose far above its best and did not come back.

What it detects: the smoothed loss at the end of the run stands well above the lowest level the
run reached (by `min_ratio`), and that rise is a real part of what the run had learned
(`min_fraction` of the drop from its start to its best), so noise near a tiny loss is not a rise.
Algorithm: a running median over `window` of the run gives the trend; its minimum is the best
level, the median of the last `window` of points the final level; the onset is where the trend
leaves the best level on its way up. The rise must also stand `significance` standard errors
above what noise alone gives.
Why it matters: a diverged run has thrown away what it learned; continuing burns compute.
Also a loss that blew up right away (`blowup` times its first value) and never came back below
where it began.
Parameters: min_ratio (1.3), min_fraction (0.15), window (0.05 of the run), significance (4),
blowup (2).
What to do: restart from the checkpoint before the onset with a lower learning rate (or a longer
warmup), clip gradients, and check for bad data around the onset step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import num, pct, rounded
from ..report import Finding, Mark, Severity
from .shape import train_shape

KIND = "divergence"
CODE = "LT102"
SEVERITY = Severity.FAIL

MARKS = (Mark("span", "#e53935"),)
BLOWS_UP = True


@dataclass(frozen=True)
class Params:
    min_ratio: float = 1.3  # final level / best level (for a positive loss)
    blowup: float = 2.0  # a loss that rose this far above its first value and never got back
    min_fraction: float = 0.15  # rise / (start level - best level), in the loss's own units
    window: float = 0.05  # trend window, as a fraction of the run
    significance: float = 4.0  # standard errors of the levels compared
    min_points: int = 8


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None:
        return []
    curve = curves.train
    trend = shape.trend(params.window)
    never_back = _blown_up(curve.metric, shape, trend, params)
    if never_back:
        return never_back
    best_at = int(np.argmin(trend))
    best, final = float(trend[best_at]), shape.edge(params.window, at_end=True)
    start = float(trend[: best_at + 1].max())
    rise = final - best
    if rise <= 0:
        return []
    best_v, final_v, start_v = (shape.unscale(x) for x in (best, final, start))
    drop = start_v - best_v
    fraction = (final_v - best_v) / drop if drop > 0 else math.inf
    # both levels are medians over a window: their difference must stand out of the noise
    big = rise >= params.significance * math.sqrt(2) * shape.level_error(
        shape.window(params.window)
    )
    if shape.is_log:  # no ratio for a loss that crosses zero
        big = big and rise >= math.log(params.min_ratio)
    if not (big and fraction >= params.min_fraction):
        return []
    after = trend[best_at:]
    half = best_at + int(np.argmax(after >= best + 0.5 * rise))
    calm = np.flatnonzero(trend[best_at:half] <= best + 0.1 * rise)
    onset = best_at + (int(calm[-1]) + 1 if len(calm) else 0)
    if len(trend) - onset < max(3, round(params.window * len(trend))):
        return []  # a rise in the last few points is not yet a divergence
    steps = shape.blocks.step
    best_step, onset_step, last_step = int(steps[best_at]), int(steps[onset]), int(shape.step[-1])
    change = f" ({pct(final_v / best_v)})" if shape.is_log else ""
    return [
        Finding(
            KIND,
            SEVERITY,
            curve.metric,
            onset_step,
            last_step,
            f"{curve.metric} rose from {num(best_v)} at step {best_step} to {num(final_v)} "
            f"by step {last_step}{change} and did not recover",
            {
                "best": rounded(best_v),
                "best_step": best_step,
                "last": rounded(final_v),
                "onset_step": onset_step,
                "rise_fraction": rounded(fraction),
            },
        )  # fmt: skip
    ]


def _blown_up(metric: str, shape, trend: np.ndarray, params: Params) -> list[Finding]:
    """The loss rose far above its very first value at once and never came back below it."""
    first = float(shape.z[0])
    if not shape.is_log or trend.min() < first or trend.max() - first < math.log(params.blowup):
        return []
    onset = int(np.argmax(trend >= first + math.log(params.blowup)))
    steps = shape.blocks.step
    first_v, top_v = shape.unscale(first), shape.unscale(float(trend.max()))
    final_v = shape.unscale(shape.edge(params.window, at_end=True))
    start_step, last_step = int(shape.step[0]), int(shape.step[-1])
    return [
        Finding(
            KIND,
            SEVERITY,
            metric,
            int(steps[max(onset - 1, 0)]),
            last_step,
            f"{metric} blew up from {num(first_v)} at step {start_step} to {num(top_v)} and never "
            f"came back below where it began ({num(final_v)} at step {last_step})",
            {
                "best": rounded(first_v),
                "best_step": start_step,
                "last": rounded(final_v),
                "peak": rounded(top_v),
                "onset_step": int(steps[max(onset - 1, 0)]),
            },
        )  # fmt: skip
    ]


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """A loss that keeps swinging back has not diverged: the oscillation says it."""
    return finding.starts_within(findings, ("oscillation",))
