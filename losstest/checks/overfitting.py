"""overfitting — the validation loss rose while the training loss kept falling.

What it detects: after its lowest point, the validation loss ends higher by at least `min_rise`
(warn) — or by `fail_rise` over at least `fail_points` evaluations (fail: clear and sustained) —
while the training loss fell further over the same steps. Rises are in log space (a ratio);
for a validation loss that crosses zero, a share of how far it fell from its start to its best.
Algorithm: best = lowest validation value (after a 3-point running median when there are 7 or
more evaluations); end = median of the last evaluations (a fifth of them, at least two); most
evaluations since the best must stand a quarter of the rise above it (a steady climb counts as
much as a jump that stays); the training loss is compared at the best-validation step and at
the end of the run. The rise must also stand `significance` times above the point-to-point
noise of the evaluations (in log space), and `fail_significance` times for a fail: the best of
a validation loss that swings +-20 % is its luckiest evaluation. A value rounded when logged
(to four decimals, say) must rise `min_rounding_steps` steps of that rounding.
Why it matters: every step after the best validation loss makes the model worse on new data.
Parameters: min_rise (0.03 = 3 % in log space), fail_rise (0.2 = 22 %), fail_points (3),
min_points_after (2), train_drop (0.01), significance (0.5), fail_significance (4),
min_rounding_steps (3).
What to do: keep the checkpoint of the best validation step (early stopping), add
regularisation (dropout, weight decay, augmentation) or more data, or train for fewer epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..curves import RunCurves
from ..formatting import num, pct, rounded
from ..report import Finding, Mark, Severity
from ..signal import rolling_median, typical_noise
from .shape import shape_of

KIND = "overfitting"
CODE = "LT301"
SEVERITY = Severity.FAIL

MARKS = (Mark("span", "#fb8c00", on_val=True),)


@dataclass(frozen=True)
class Params:
    min_rise: float = 0.03  # log units (for a loss crossing zero: a share of its fall to the best)
    fail_rise: float = 0.2  # log units: +22 %; a rise under it is slight (warn)
    fail_points: int = 3  # evaluations after the best one, for a fail
    min_points_after: int = 2
    train_drop: float = 0.01  # log units the training loss must fall meanwhile
    min_points: int = 4
    significance: float = 0.5  # the rise over the noise of one evaluation, for any finding ...
    fail_significance: float = 4.0  # ... and for a fail
    min_rounding_steps: int = 3  # the rise in steps of the rounding a logged value went through


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    val, train = curves.val, curves.train
    if val is None or train is None or len(shape_of(val)) < params.min_points:
        return []
    v = shape_of(val)
    z = rolling_median(v.z, 3) if len(v.z) >= 7 else v.z
    lowest = np.flatnonzero(z == z.min())  # the smoothing may shift or widen the lowest point
    near = slice(max(0, int(lowest[0]) - 1), int(lowest[-1]) + 2)
    best_at = near.start + int(np.argmin(v.z[near]))
    best = float(v.z[best_at])
    after = len(z) - best_at - 1
    if after < params.min_points_after:
        return []
    tail = max(2, min(after, len(z) // 5))
    end = float(np.median(v.z[-tail:]))
    rise = end - float(z.min())  # from the smoothed low: one lucky evaluation is no best level
    # a loss crossing zero has no ratios: its rise is measured against how far it fell
    size = rise if v.is_log else rise / max(float(v.z[: best_at + 1].max()) - best, 1e-12)
    # sustained: most evaluations since the best stand a quarter of the rise above it (a steady
    # climb as well as a jump that stays); not one high evaluation at the end
    if size < params.min_rise or np.mean(v.z[best_at + 1 :] > best + rise / 4) < 0.5:
        return []
    best_step, last_step = int(v.step[best_at]), int(v.step[-1])
    t = shape_of(train)
    if len(t.step) < 2 or t.step[-1] <= best_step:
        return []
    train_then = t.level_at(best_step)
    train_end = t.edge(0.05, at_end=True) if len(t) >= 20 else float(np.median(t.z[-3:]))
    if train_then - train_end < params.train_drop:
        return []
    # against the evaluations' own noise: a validation loss that swings +-20 % between
    # evaluations has not risen by 20 % (its best is its luckiest evaluation)
    noise = typical_noise(v.z, 7) if v.is_log and len(v.z) > 3 else 0.0
    if rise < params.significance * noise:
        return []
    clear = (
        size >= params.fail_rise
        and after >= params.fail_points
        and rise >= params.fail_significance * noise
    )
    best_v, end_v = v.unscale(best), v.unscale(end)
    if v.rounding and end_v - best_v < params.min_rounding_steps * v.rounding - 1e-12:
        return []  # 0.0003 to 0.0005 logged to four decimals: the rounding moved, not the loss
    change = f" ({pct(end_v / best_v)})" if v.is_log else ""
    return [
        Finding(
            KIND,
            SEVERITY if clear else Severity.WARN,
            val.metric,
            best_step,
            last_step,
            f"{val.metric} rose from {num(best_v)} at step {best_step} to {num(end_v)} by step "
            f"{last_step}{change} while {train.metric} fell from {num(t.unscale(train_then))} "
            f"to {num(t.unscale(train_end))}",
            {
                "best": rounded(best_v),
                "best_step": best_step,
                "last": rounded(end_v),
                "evaluations_after_best": after,
                "train_at_best": rounded(t.unscale(train_then)),
                "train_last": rounded(t.unscale(train_end)),
            },
        )  # fmt: skip
    ]


def superseded(finding: Finding, findings: list[Finding]) -> bool:
    """A validation loss that swings with an oscillating training loss is that oscillation."""
    return finding.starts_within(findings, ("oscillation",))
