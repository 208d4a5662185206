"""restart — steps went backwards: a run resumed from a checkpoint, or steps logged twice.

What it detects: each place where the step of the training or validation loss goes back, and
steps logged more than once; the values written last are the ones analysed.
Why it matters: an overwritten stretch of the curve hides what happened before the resume, and a
log that mixes two runs misleads every other check.
Parameters: none.
What to do: nothing, if the run was resumed on purpose; else write each run to its own log.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..curves import Curve, RunCurves
from ..report import Finding, Mark, Severity

KIND = "restart"
CODE = "LT401"
SEVERITY = Severity.INFO

MARKS = (Mark("start", "#546e7a", "restart"),)


@dataclass(frozen=True)
class Params:
    pass


def _check(curve: Curve) -> list[Finding]:
    found = [
        Finding(
            KIND,
            SEVERITY,
            curve.metric,
            resumed,
            reached,
            f"{curve.metric} steps went back from {reached} to {resumed} (a resumed run); "
            "the values written last are kept",
            {"from_step": reached, "to_step": resumed},
        )  # fmt: skip
        for reached, resumed in curve.restarts
    ]
    if curve.duplicates and not curve.restarts:
        first, last = int(curve.step[0]), int(curve.step[-1])
        found.append(
            Finding(
                KIND,
                SEVERITY,
                curve.metric,
                first,
                last,
                f"{curve.metric} has {curve.duplicates} values logged again at a step already "
                "logged; the values written last are kept",
                {"duplicates": curve.duplicates},
            )  # fmt: skip
        )
    return found


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    return [f for c in (curves.train, curves.val) if c is not None for f in _check(c)]


def identity(finding: Finding) -> tuple:
    """Each resume is its own."""
    return (finding.kind, finding.metric, finding.start_step, finding.message)
