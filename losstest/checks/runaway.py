"""runaway — the loss falls without bound below zero: the objective is broken.

What it detects: a loss that ends below zero and is still falling fast: its level grew at least
`min_growth` times in size over the second half of the run and moved at least `min_late_drop`
of its final size over the last tenth. A loss that settles below zero (a Gaussian negative
log-likelihood levelling off) is not one.
Algorithm: in the loss's own units, the level (a running median) at the middle of the run, at
nine tenths and at the end (the median of the last 5 % of points).
Why it matters: a loss that can fall for ever is a bug, not a model learning: an unbounded
likelihood (a variance or a scale going to zero), a sign flipped in the objective, a term that
rewards growing weights. Every other check sees a loss going down and calls it healthy.
Parameters: min_growth (10), min_late_drop (0.1).
What to do: bound what the model predicts (a floor on the variance, a clamp on the log-scale),
check the sign of every term of the loss, and look at the weights' norm over the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..curves import RunCurves
from ..formatting import num, rounded
from ..report import Finding, Mark, Severity
from .shape import train_shape

KIND = "runaway"
CODE = "LT106"
SEVERITY = Severity.FAIL

MARKS = (Mark("span", "#4a148c"),)
BLOWS_UP = True


@dataclass(frozen=True)
class Params:
    min_growth: float = 10.0  # final level / level at the middle of the run, both below zero
    min_late_drop: float = 0.1  # fall over the last tenth, as a share of the final level's size
    min_points: int = 12


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None or shape.is_log:  # a loss that stays above zero cannot run away below it
        return []
    trend, steps = shape.trend(0.05), shape.blocks.step
    mid, late = len(trend) // 2, (9 * len(trend)) // 10
    middle_v, late_v = shape.unscale(float(trend[mid])), shape.unscale(float(trend[late]))
    final_v = shape.unscale(shape.edge(0.05, at_end=True))
    if final_v >= 0 or final_v > params.min_growth * min(middle_v, 0.0):
        return []
    if late_v - final_v < params.min_late_drop * abs(final_v):
        return []
    metric, start, last = curves.train.metric, int(steps[mid]), int(shape.step[-1])
    return [
        Finding(
            KIND,
            SEVERITY,
            metric,
            start,
            last,
            f"{metric} fell without bound: from {num(middle_v)} at step {start} to "
            f"{num(final_v)} by step {last}, and still falling",
            {
                "middle": rounded(middle_v),
                "middle_step": start,
                "late": rounded(late_v),
                "last": rounded(final_v),
                "growth": rounded(final_v / middle_v) if middle_v else None,
            },
        )  # fmt: skip
    ]
