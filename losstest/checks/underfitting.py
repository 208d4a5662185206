"""underfitting — the loss stays high: near the level of guessing or above a configured target.

What it detects: a final loss (median of the last `window` of the run) that is above a
configured `target` (fail), or within `chance_fraction` of the chance level ln(V) when the
vocabulary size or class count is known, or — knowing neither — still within
`min_improvement` of where the run started (for a run logged from its first steps on).
Why it matters: the model learned little: too small, too short, a learning rate too low, or
inputs and labels that do not match.
Parameters: chance_fraction (0.9), min_improvement (0.1 = the loss fell by less than 10 %),
window (0.05 of the run); target and chance level from the configuration or --vocab-size.
What to do: train longer or with a higher learning rate, use a larger model, and check the data
pipeline (shuffled labels, wrong targets, padding counted in the loss).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..curves import RunCurves
from ..formatting import num, rounded
from ..report import Finding, Mark, Severity
from .shape import shape_of

KIND = "underfitting"
CODE = "LT202"
SEVERITY = Severity.WARN

MARKS = (
    Mark("level", "#757575", "chance level", evidence="chance"),
    Mark("level", "#c62828", "target", evidence="target"),
)


@dataclass(frozen=True)
class Params:
    chance_fraction: float = 0.9
    min_improvement: float = 0.1
    window: float = 0.05
    min_points: int = 10


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    curve = curves.train
    if curve is None or len(shape_of(curve)) < min(params.min_points, 3 if curves.target else 10):
        return []
    shape = shape_of(curve)
    final = shape.unscale(shape.edge(params.window, at_end=True))
    start = shape.unscale(max(shape.edge(params.window, at_end=False), float(shape.z[0])))
    first, last = int(shape.step[0]), int(shape.step[-1])

    def found(severity: Severity, message: str, **evidence: object) -> list[Finding]:
        evidence = {"final": rounded(final), **evidence}
        return [Finding(KIND, severity, curve.metric, first, last, message, evidence)]

    if curves.target is not None:
        if final > curves.target:
            return found(
                Severity.FAIL,
                f"{curve.metric} ended at {num(final)}, above the target {num(curves.target)}",
                target=curves.target,
            )
        return []
    if curves.chance is not None:
        if final >= params.chance_fraction * curves.chance:
            return found(
                SEVERITY,
                f"{curve.metric} ended at {num(final)}, near the chance level "
                f"{num(curves.chance)} of guessing",
                chance=rounded(curves.chance),
            )
        return []
    from_scratch = first <= 0.01 * last  # a resumed stretch has no start to judge by
    if shape.is_log and from_scratch and final >= (1 - params.min_improvement) * start:
        fell = 1 - final / start
        return found(
            SEVERITY,
            f"{curve.metric} fell only {fell:.0%} over the run, from {num(start)} to {num(final)}",
            start=rounded(start),
            improvement=rounded(fell),
            basis="own improvement",
        )
    return []


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """Judged only by the run's own improvement, it repeats a plateau (which says the loss
    stayed high) or a divergence (which says why)."""
    own = finding.evidence.get("basis") == "own improvement"
    return own and any(f.kind in ("plateau", "divergence") for f in findings)
