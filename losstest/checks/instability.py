"""instability — the loss blew up far above its best for a long stretch, then came back.

What it detects: a stretch of at least `min_share` of the run in which the level of a positive
loss stood more than `min_ratio` times above the lowest level it had reached before, and after
which it came back below that. Shorter jumps are spikes; a loss that never comes back has
diverged.
Algorithm: the working level (block medians) against its running minimum; each stretch above
`min_ratio` times that minimum is one excursion; its cost is the steps from its onset until the
level is back within `back_ratio` of where it was before (or the end of the excursion).
Why it matters: the run survived, but it lost those steps, and what blew up once (a learning
rate at the edge of stability, fp16 overflow, a bad data shard) can blow up for good next time;
a leaderboard that only looks at the final loss ranks such a run as healthy.
Parameters: min_ratio (3), min_share (0.1 of the run), back_ratio (1.5).
What to do: lower the peak learning rate or lengthen warmup, clip gradients, check the loss
scaler and the data around the onset step; compare the steps lost with a run that did not blow
up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import num, rounded
from ..report import Finding, Mark, Severity
from .shape import excursions, train_shape

KIND = "instability"
CODE = "LT105"
SEVERITY = Severity.WARN

MARKS = (Mark("span", "#6d4c41"),)


@dataclass(frozen=True)
class Params:
    min_ratio: float = 3.0  # level / lowest level before it
    min_share: float = 0.1  # of the run's steps: shorter excursions are spikes
    back_ratio: float = 1.5  # back within this factor of the level before: recovered
    min_points: int = 12


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    shape = train_shape(curves, params.min_points)
    if shape is None:
        return []
    metric = curves.train.metric
    level, steps = shape.blocks.median, shape.blocks.step
    span = max(1, int(shape.step[-1] - shape.step[0]))
    found = []
    for x in excursions(shape, math.log(params.min_ratio)):
        onset, end = int(steps[x.start]), int(steps[x.end])
        if not x.recovered or end - onset < params.min_share * span:
            continue
        before = float(np.min(level[: x.start])) if x.start else float(level[0])
        back = np.flatnonzero(level[x.peak :] <= before + math.log(params.back_ratio))
        back_at = x.peak + int(back[0]) if len(back) else min(x.end + 1, len(level) - 1)
        before_v, peak_v = shape.unscale(before), shape.unscale(float(level[x.peak]))
        back_step = int(steps[back_at])
        lost = back_step - onset
        found.append(
            Finding(
                KIND,
                SEVERITY,
                metric,
                onset,
                back_step,
                f"{metric} blew up from {num(before_v)} to {num(peak_v)} at step "
                f"{int(steps[x.peak])} and took {lost} steps ({lost / span:.0%} of the run) to "
                f"come back",
                {
                    "level_before": rounded(before_v),
                    "peak": rounded(peak_v),
                    "peak_step": int(steps[x.peak]),
                    "onset_step": onset,
                    "back_step": back_step,
                    "steps_lost": lost,
                    "share_lost": rounded(lost / span),
                },
            )  # fmt: skip
        )
    return found


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """Inside a divergence or an oscillation, a blow-up is part of that."""
    return finding.starts_within(findings, ("divergence", "oscillation"))
