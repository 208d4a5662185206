"""stall — the loss fell, then stopped improving for most of the run.

What it detects: a positive loss that fell by at least `min_early_drop` early on and then moved
less than `max_progress` over the last `tail` of the run (its level at the start of that
stretch against its level at the end). A loss that never fell is a plateau; one that rose
again has diverged.
Algorithm: levels are medians over `window` of the run, in log space, so a loss near zero that
still halves is still learning; the starting level is the higher of the first window's and the
first three points' (a loss that fell within the first window still fell). A loss flat at a
thousandth of its start has nothing left to learn.
Why it matters: the steps after the stall bought nothing: the learning rate may have decayed to
nothing, the model may be at its capacity, or the data may have run out of signal. It is a
warning, not a failure: a run trained on past convergence on purpose stalls too.
Parameters: max_progress (0.01 = 1 % in log space), tail (0.6 of the run), min_early_drop
(0.2 in log space), window (0.05 of the run).
What to do: stop earlier (early stopping on the validation loss) or spend the steps better: a
schedule that keeps the learning rate useful, a larger model, more or fresher data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import num, pct, rounded
from ..report import Finding, Mark, Severity
from .shape import train_shape

KIND = "stall"
CODE = "LT203"
SEVERITY = Severity.WARN

MARKS = (Mark("span", "#9e9d24"),)


@dataclass(frozen=True)
class Params:
    max_progress: float = 0.01  # log units over the tail
    tail: float = 0.6  # of the run
    min_early_drop: float = 0.2  # log units before the tail
    window: float = 0.05
    min_points: int = 20


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None or not shape.is_log:
        return []
    level, steps = shape.blocks.median, shape.blocks.step
    n = len(level)
    cut = round((1 - params.tail) * n)
    half = max(1, round(params.window * n / 2))
    # where it began: a loss that fell within the first `window` of the run still fell
    start = max(shape.edge(params.window, at_end=False), float(np.median(shape.z[:3])))
    at_cut = float(np.median(level[max(0, cut - half) : cut + half + 1]))
    final = shape.edge(params.window, at_end=True)
    if start - at_cut < params.min_early_drop or abs(at_cut - final) >= params.max_progress:
        return []
    if shape.reached_zero(shape.unscale(final)):  # nothing left to learn
        return []
    since, last = int(steps[cut]), int(shape.step[-1])
    metric, since_v, final_v = curves.train.metric, shape.unscale(at_cut), shape.unscale(final)
    return [
        Finding(
            KIND,
            SEVERITY,
            metric,
            since,
            last,
            f"{metric} stalled: {num(since_v)} at step {since}, {num(final_v)} by step {last} "
            f"({pct(final_v / since_v)} over the last {params.tail:.0%} of the run)",
            {
                "start": rounded(shape.unscale(start)),
                "since_step": since,
                "level_then": rounded(since_v),
                "last": rounded(final_v),
                "progress": rounded(at_cut - final),
            },
        )  # fmt: skip
    ]


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """A plateau, a divergence or an oscillation already says the loss is not improving."""
    return any(f.kind in ("plateau", "divergence", "oscillation") for f in findings)
