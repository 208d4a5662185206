"""plateau — the loss stopped improving while still far from its best attainable level, or
never moved.

What it detects: a run whose loss never fell by more than `min_improvement` (or than its noise
can explain) from its starting level (a frozen model, a learning rate near zero, a broken
gradient), unless it was logged only from past the middle of its steps on (a stretch of a
resumed run, late in its schedule, has no start to judge by), or whose loss flat-lined
— the very same value, to `flat_tolerance`, for the last `flat_fraction` of the run — after
having moved (dead units, a NaN swallowed inside the model, a stalled data loader).
Algorithm: starting level = median of the first `window` of the run, best = lowest point of the
running-median trend; flat-lining = the peak-to-peak range of the tail.
Why it matters: every step after the loss stops moving is wasted compute.
Parameters: min_improvement (0.02 = 2 % in log space), flat_fraction (0.2),
flat_tolerance (1e-6), window (0.05 of the run).
What to do: check the learning rate and scheduler (printing the lr each step), that the
optimizer holds the model's parameters and that they require gradients, that the labels match
the inputs; for a flat line, look for NaN or zero gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import num, rounded
from ..report import Finding, Mark, Severity
from .shape import train_shape

KIND = "plateau"
CODE = "LT201"
SEVERITY = Severity.FAIL

MARKS = (Mark("span", "#757575"),)
CHUNK = 1 << 16  # points of the tail looked at a time for the flat line


@dataclass(frozen=True)
class Params:
    min_improvement: float = 0.02  # log units (or IQRs for a loss crossing zero)
    flat_fraction: float = 0.2
    flat_tolerance: float = 1e-6  # relative peak-to-peak range of a flat line
    window: float = 0.05
    min_points: int = 20


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None:
        return []
    curve = curves.train
    start = shape.edge(params.window, at_end=False)
    best = float(shape.trend(params.window).min())
    first, last = int(shape.step[0]), int(shape.step[-1])
    start_v, best_v = shape.unscale(start), shape.unscale(best)
    noise = 2 * math.sqrt(2) * shape.level_error(shape.window(params.window))
    if not shape.resumed and start - best < max(params.min_improvement, noise):
        return [
            Finding(
                KIND,
                SEVERITY,
                curve.metric,
                first,
                last,
                f"{curve.metric} never moved: {num(start_v)} at the start, at best {num(best_v)} "
                f"over {len(shape.step)} steps",
                {
                    "start": rounded(start_v),
                    "best": rounded(best_v),
                    "improvement": rounded(start - best),
                },
            )  # fmt: skip
        ]
    value = shape.value
    final = float(value[-1])
    flat_from = _flat_from(value, final, params.flat_tolerance * max(abs(final), 1e-12))
    # a loss that came down to its flat value in ever smaller steps has converged (full-batch
    # descent on a convex problem); one that was still moving as before has stopped
    steps_in = np.diff(value[max(0, flat_from - 6) : flat_from + 1])
    if len(steps_in) >= 3 and (steps_in <= 0).all() and (np.diff(np.abs(steps_in)) <= 0).all():
        return []
    if shape.reached_zero(final):  # nor a loss flat at zero
        return []
    if len(value) - flat_from >= max(params.min_points, params.flat_fraction * len(value)):
        since = int(shape.step[flat_from])
        return [
            Finding(
                KIND,
                SEVERITY,
                curve.metric,
                since,
                last,
                f"{curve.metric} flat-lined at {num(final)} from step {since} on",
                {"value": rounded(final), "since_step": since},
            )  # fmt: skip
        ]
    return []


def _flat_from(value: np.ndarray, final: float, tolerance: float) -> int:
    """Where the curve last stood more than `tolerance` from its final value, plus one: looked
    for from the end a stretch at a time, since most curves move right up to their last point."""
    for end in range(len(value), 0, -CHUNK):
        start = max(0, end - CHUNK)
        moved = np.flatnonzero(np.abs(value[start:end] - final) > tolerance)
        if len(moved):
            return start + int(moved[-1]) + 1
    return 0


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """A loss that oscillates is no plateau, however little its median moved; nor is a loss
    that never moved while its validation loss climbed: the model fits noise, the targets
    carry nothing it can learn (underfitting says so); nor one that never fell because it rose
    (a divergence says so)."""
    never_moved = "improvement" in finding.evidence
    return any(
        f.kind == "oscillation"
        or (never_moved and f.kind == "divergence")
        or (never_moved and f.kind == "underfitting" and f.evidence.get("rose") is True)
        for f in findings
    )
