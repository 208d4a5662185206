"""underfitting — the loss stays high: near the level of guessing or above a configured target.

What it detects: a final loss (median of the last `window` of the run) that is above a
configured `target` (fail), or within `chance_fraction` of the chance level ln(V) when the
vocabulary size or class count is known, or — knowing neither — still within
`min_improvement` of where the run started (for a run logged from its first steps on); or a
validation loss that never fell `min_val_improvement` below its first evaluations (unless it
is still falling at its last three: a fine-tune improving slowly; or its first evaluation came
after the training loss had fallen `learned_fall`, or in a stretch of a resumed run: no
start). A training
loss that never moved beside a validation loss that never improved but climbed (by
`min_val_rise` or more) is a model fitting noise, the targets carrying nothing it can learn
(labels shuffled or mismatched): underfitting, not the plateau of a frozen or stuck model.
Why it matters: the model learned little: too small, too short, a learning rate too low, or
inputs and labels that do not match.
Parameters: chance_fraction (0.9), min_improvement (0.1 = the loss fell by less than 10 %),
window (0.05 of the run), min_val_improvement (0.02 in log space), min_val_points (5),
min_val_rise (0.005 in log space), learned_fall (0.5 in log space); target
and chance level from the configuration or --vocab-size.
What to do: train longer or with a higher learning rate, use a larger model, and check the data
pipeline (shuffled labels, wrong targets, padding counted in the loss).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import num, rounded
from ..report import Finding, Mark, Severity
from .shape import Shape, shape_of

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
    min_val_improvement: float = 0.02  # log units the validation loss must fall at least once
    min_val_points: int = 5
    min_val_rise: float = 0.005  # log units: a validation loss that climbs so much fits noise
    learned_fall: float = 0.5  # log units the training loss fell before the first evaluation


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
    val = _val_never_improved(curves, params)
    if val and val[0].evidence["rose"]:
        return val  # whatever the training loss did: it fits noise
    from_scratch = first <= 0.01 * last  # a fine-tune logged from a few steps in has no start
    if shape.is_log and from_scratch and final >= (1 - params.min_improvement) * start:
        fell = 1 - final / start
        return found(
            SEVERITY,
            f"{curve.metric} fell only {fell:.0%} over the run, from {num(start)} to {num(final)}",
            start=rounded(start),
            improvement=rounded(fell),
            basis="own improvement",
        )
    return val


def _val_never_improved(curves: RunCurves, params: Params) -> list[Finding]:
    """A validation loss that never got below its first evaluations: whatever the training
    loss did, the model learned nothing that carries over (shuffled or mismatched labels)."""
    val = curves.val
    if val is None or len(shape_of(val)) < params.min_val_points or not shape_of(val).is_log:
        return []
    v = shape_of(val)
    if _evaluated_late(curves, v, params):
        return []
    first, last = float(np.median(v.z[:3])), float(np.median(v.z[-3:]))
    if first - float(v.z.min()) >= params.min_val_improvement:
        return []
    if (np.diff(v.z[-3:]) < 0).all() and len(v.z) > 3:
        return []  # still falling at its last evaluations: improving, however slowly
    first_v, best_v = v.unscale(first), v.unscale(float(v.z.min()))
    return [
        Finding(
            KIND,
            SEVERITY,
            val.metric,
            int(v.step[0]),
            int(v.step[-1]),
            f"{val.metric} never improved: {num(first_v)} at first, at best {num(best_v)} over "
            f"{len(v.step)} evaluations",
            {
                "final": rounded(v.unscale(last)),
                "start": rounded(first_v),
                "best": rounded(best_v),
                "basis": "validation never improved",
                # it climbed: the model fits noise, the targets carry nothing it can learn
                "rose": bool(last - first >= params.min_val_rise),
            },
        )  # fmt: skip
    ]


def _evaluated_late(curves: RunCurves, v: Shape, params: Params) -> bool:
    """Whether the first evaluation came too late to be a start: after the training loss had
    fallen `learned_fall` (a model that learned before it was first evaluated: its validation
    loss has no start left to improve on), or in a stretch of a resumed run."""
    if curves.train is None or len(shape_of(curves.train)) < 2:
        return False
    t = shape_of(curves.train)
    learned = t.edge(params.window, at_end=False) - t.level_at(int(v.step[0]))
    return t.resumed or learned >= params.learned_fall


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """Judged only by the run's own improvement, it repeats a plateau (which says the loss
    stayed high) or a divergence (which says why); a validation loss that never improved while
    the training loss fell is overfitting from the start, which says more; one that never
    improved nor climbed beside a flat training loss repeats the plateau."""
    basis = finding.evidence.get("basis")
    if basis == "validation never improved":
        # beside a training loss that never moved, it says more than the plateau when the
        # validation loss climbed (a model fitting noise, not a frozen or stuck one)
        also = ("divergence", "overfitting", "nan") + (
            () if finding.evidence["rose"] else ("plateau",)
        )
        return any(f.kind in also for f in findings)
    own = basis == "own improvement"
    return own and any(f.kind in ("plateau", "divergence") for f in findings)
