"""nan — the loss became NaN or infinite.

What it detects: the first step at which the training or validation loss is NaN, +inf or -inf,
and how many such values follow. A loss that came back (finite after its last non-finite value)
with no more than `recovered_share` of its values non-finite lost a few batches, not the run
(a bad batch, a step the fp16 loss scaler skipped): a warning.
Why it matters: once a loss is NaN the weights usually are too; every later step is wasted.
Parameters: recovered_share (0.05 of the values).
What to do: lower the learning rate or lengthen warmup, clip gradients (max norm 1.0), check the
data for empty or corrupt batches, use bf16 instead of fp16 or a loss scaler, look for log(0) or
division by zero in the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..curves import Curve, RunCurves
from ..formatting import num, rounded
from ..report import Finding, Mark, Severity

KIND = "nan"
CODE = "LT101"
SEVERITY = Severity.FAIL

MARKS = (Mark("start", "#c62828", "first NaN / inf", linestyle="--"),)
BLOWS_UP = True


@dataclass(frozen=True)
class Params:
    recovered_share: float = 0.05  # of the values, non-finite at most, for a warning


def _check(curve: Curve, params: Params) -> Finding | None:
    bad = ~curve.finite
    if not bad.any():
        return None
    where = np.flatnonzero(bad)
    first, last = where[0], where[-1]
    nans = int(np.isnan(curve.value[bad]).sum())
    recovered = bool(curve.finite[last + 1 :].any())
    before = np.flatnonzero(curve.finite[:first])
    what = "NaN" if np.isnan(curve.value[first]) else num(curve.value[first])
    passing = recovered and len(where) <= params.recovered_share * len(curve)
    tail = (
        f"; {len(where)} of {len(curve)} values are not finite"
        + (", but it came back" if recovered else "")
        + (": a few batches lost, not the run" if passing else "")
    )
    evidence = {
        "first_step": int(curve.step[first]),
        "non_finite": int(len(where)),
        "nan": nans,
        "inf": int(len(where)) - nans,
        "recovered": recovered,
    }
    if len(before):
        evidence["last_finite_step"] = int(curve.step[before[-1]])
        evidence["last_finite_value"] = rounded(float(curve.value[before[-1]]))
    return Finding(
        KIND, Severity.WARN if passing else SEVERITY, curve.metric,
        int(curve.step[first]), int(curve.step[last]),
        f"{curve.metric} became {what} at step {curve.step[first]}{tail}", evidence,
    )  # fmt: skip


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    found = (_check(c, params) for c in (curves.train, curves.val) if c is not None)
    return [f for f in found if f is not None]
