"""short — too few points of the loss to judge the shape of its curve.

What it detects: a training loss (or, where only evaluations were logged, the validation loss)
of fewer than `min_points` logged points: fewer than any check of the curve's shape needs
(divergence needs 8; spikes and instabilities 12; plateaus and stalls 20; oscillations 24).
Why it matters: such a run passes because nothing could be judged, not because it is healthy;
a renamed or rarely logged metric, a run that stopped at once, or a log of one line per
epoch over a few epochs all look like this.
Parameters: min_points (8).
What to do: log the loss more often (every few steps), or pass the metric logged most often
with `--metric`; judge the run again when it has run longer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..curves import RunCurves
from ..report import Finding, Mark, Severity

KIND = "short"
CODE = "LT402"
SEVERITY = Severity.INFO

MARKS = (Mark("span", "#9e9e9e"),)


@dataclass(frozen=True)
class Params:
    min_points: int = 8


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    curve = curves.train
    if curve is None:
        return []
    steps = curve.step
    if not 0 < len(steps) < params.min_points:
        return []
    count = len(steps)
    return [
        Finding(
            KIND,
            SEVERITY,
            curve.metric,
            int(steps[0]),
            int(steps[-1]),
            f"{curve.metric} has only {count} point{'s' * (count > 1)}: too few to judge its "
            f"shape ({params.min_points} or more needed)",
            {"points": count, "needed": params.min_points},
        )  # fmt: skip
    ]


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """A loss that became NaN is the nan check's to tell, however short."""
    return any(f.kind == "nan" and f.metric == finding.metric for f in findings)
