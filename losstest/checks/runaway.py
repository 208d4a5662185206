"""runaway — the loss falls without bound below zero: the objective is broken.

What it detects: a loss that ends below zero, far beyond anything its start would suggest — at
least `min_growth` times the whole range it moved over in the first tenth of the run — and is
still falling fast: at least `min_late_drop` of its final size over the last tenth. A loss that
settles below zero (a Gaussian negative log-likelihood levelling off) is not one.
Algorithm: in the loss's own units, the level (a running median): its range over the first
tenth, its value at nine tenths, and at the end (the median of the last 5 % of points).
Why it matters: a loss that can fall for ever is a bug, not a model learning: an unbounded
likelihood (a variance or a scale going to zero), a sign flipped in the objective, a term that
rewards growing weights. Every other check sees a loss going down and calls it healthy.
Parameters: min_growth (100), min_late_drop (0.1).
What to do: bound what the model predicts (a floor on the variance, a clamp on the log-scale),
check the sign of every term of the loss, and look at the weights' norm over the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    min_growth: float = 100.0  # size of the final level / range of the first tenth
    min_late_drop: float = 0.1  # fall over the last tenth, as a share of the final level's size
    min_points: int = 12


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None or shape.is_log:  # a loss that stays above zero cannot run away below it
        return []
    trend, steps = shape.trend(0.05), shape.blocks.step
    tenth, late = max(2, len(trend) // 10), (9 * len(trend)) // 10
    early = shape.unscale(float(np.ptp(trend[:tenth])))
    late_v = shape.unscale(float(trend[late]))
    final_v = shape.unscale(shape.edge(0.05, at_end=True))
    if final_v >= 0 or -final_v < params.min_growth * early:
        return []
    if late_v - final_v < params.min_late_drop * abs(final_v):
        return []
    below = np.flatnonzero(trend < 0)
    metric, start, last = curves.train.metric, int(steps[below[0]]), int(shape.step[-1])
    first_v = float(shape.value[0])
    growth = -final_v / early if early else None
    return [
        Finding(
            KIND,
            SEVERITY,
            metric,
            start,
            last,
            f"{metric} fell without bound: from {num(first_v)} to {num(final_v)} by step {last}"
            f"{f' ({growth:.3g} times its early range)' if growth else ''}, and still falling",
            {
                "first": rounded(first_v),
                "early_range": rounded(early),
                "late": rounded(late_v),
                "last": rounded(final_v),
                "growth": rounded(growth) if growth else None,
            },
        )  # fmt: skip
    ]
