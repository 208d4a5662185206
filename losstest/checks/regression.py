"""regression — the run is worse than a known-good reference run.

What it detects: the stretches where the smoothed training loss is above the smoothed loss of
the `[reference]` run by more than `tolerance`, on the steps both logged after `after_step`
(the reference interpolated onto the run's steps), for at least 3 compared points in a row.
Why it matters: a change that makes training slower or worse passes every other check; against
last night's run it shows at once.
Parameters: run (the reference log, relative to the configuration file), metric (its loss,
found by name when absent), tolerance (0.05 = 5 % worse), after_step (0: ignore the warmup
before it), severity (fail).
What to do: diff the code, data and configuration against the reference's; if the change is
meant, make this run the new reference.

```toml
[reference]
run = "baselines/nightly/metrics.jsonl"
tolerance = 0.05
after_step = 200
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, parse_severity, typed
from ..curves import Curve, RunCurves
from ..errors import ConfigError
from ..formatting import num, rounded
from ..report import Finding, Severity
from ..signal import rolling_median, runs_of

KIND = "regression"
CODE = "LT502"
SEVERITY = Severity.FAIL
REFERENCE_KEYS = {"run": str, "tolerance": float, "after_step": int, "metric": str, "severity": str}
SUSTAINED = 3  # compared points in a row outside the band, for a regression


@dataclass(frozen=True)
class Params:
    run: str = ""  # the reference log; the engine reads its curve into `curves.reference`
    tolerance: float = 0.05
    after_step: int = 0
    severity: Severity = SEVERITY


def configure(table: Mapping[str, Any], config: Config, where: str) -> Params:
    """The `[reference]` table, every key and type checked."""
    if table:
        raise ConfigError(f"{where}: the reference run is declared in [reference]")
    reference = config.reference or {}
    values = {}
    for key, value in reference.items():
        if key not in REFERENCE_KEYS:
            known = ", ".join(REFERENCE_KEYS)
            raise ConfigError(f"{where}: reference: unknown key {key!r} (known: {known})")
        values[key] = typed(value, REFERENCE_KEYS[key], key, f"{where}: reference")
    if "severity" in values:
        values["severity"] = parse_severity(values["severity"], f"{where}: reference")
    values.pop("metric", None)  # the engine's, to pick the reference's curve
    return Params(**values)


def cases(params: Params, curves: RunCurves) -> tuple[str, ...]:
    return (KIND,) if curves.reference is not None else ()


def _smooth(curve: Curve) -> tuple[np.ndarray, np.ndarray]:
    values = curve.value[curve.finite]
    return curve.step[curve.finite], rolling_median(values, max(5, len(values) // 20))


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    run, reference = curves.train, curves.reference
    if run is None or reference is None or not run.finite.any() or not reference.finite.any():
        return []
    steps, mine = _smooth(run)
    ref_steps, ref = _smooth(reference)
    shared = (steps >= max(ref_steps[0], params.after_step)) & (steps <= ref_steps[-1])
    if not shared.any():
        return []
    steps, mine = steps[shared], mine[shared]
    theirs = np.interp(steps, ref_steps, ref)
    worse = mine > theirs + params.tolerance * np.abs(theirs)
    starts, ends = runs_of(worse)  # outside for a while, not for one noisy point
    worse[:] = False
    for a, b in zip(starts, ends, strict=True):
        worse[a : b + 1] = b - a + 1 >= SUSTAINED
    if not worse.any():
        return []
    where = np.flatnonzero(worse)
    excess = (mine - theirs) / np.abs(theirs)
    at = where[np.argmax(excess[where])]
    return [Finding(
        KIND, params.severity, run.metric, int(steps[where[0]]), int(steps[where[-1]]),
        f"{run.metric} is worse than the reference by up to {excess[at]:.0%} (at step "
        f"{int(steps[at])}: {num(mine[at])} against {num(theirs[at])}; tolerance "
        f"{params.tolerance:.0%}) over {worse.mean():.0%} of the compared steps",
        {"reference": params.run, "worst_step": int(steps[at]), "run": rounded(float(mine[at])),
         "reference_value": rounded(float(theirs[at])), "worst_excess": rounded(float(excess[at])),
         "share_outside": rounded(float(worse.mean())), "tolerance": params.tolerance},
    )]  # fmt: skip
