"""Rules a run must meet, beyond the detectors: declared in the configuration.

```toml
[[rules]]
final_loss_below = 2.5       # median loss over the last 5 % of steps
[[rules]]
at_step = 1000
loss_below = 4.0             # median loss within 1 % of the run around that step
[[rules]]
min_val_loss_below = 2.8

[reference]
run = "baselines/nightly/metrics.jsonl"   # a known-good run
tolerance = 0.05             # at most 5 % worse, smoothed and step-aligned
after_step = 200             # ignore the warmup
```
A broken rule is a finding of kind `rule`; falling outside the reference band, `regression`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .curves import Curve, RunCurves
from .detectors._common import num, rounded
from .errors import ConfigError
from .model import Finding, Severity
from .signal import rolling_median, runs_of

RULE_KEYS = {"final_loss_below": float, "at_step": int, "loss_below": float,
             "min_val_loss_below": float, "severity": str, "name": str}  # fmt: skip
REFERENCE_KEYS = {"run": str, "tolerance": float, "after_step": int, "metric": str, "severity": str}
TAIL = 0.05  # the share of the run whose median is "the final loss"
SUSTAINED = 3  # compared points in a row outside the band, for a regression


@dataclass(frozen=True)
class Rule:
    name: str
    final_loss_below: float | None = None
    at_step: int | None = None
    loss_below: float | None = None
    min_val_loss_below: float | None = None
    severity: Severity = Severity.FAIL


@dataclass(frozen=True)
class Reference:
    run: str
    tolerance: float = 0.05
    after_step: int = 0
    metric: str | None = None
    severity: Severity = Severity.FAIL


def _checked(table: Any, keys: Mapping[str, type], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    out = {}
    for key, value in table.items():
        if key not in keys:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(keys)})")
        kind = keys[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be {kind.__name__}, not {type(value).__name__}")
        out[key] = (
            Severity(value) if key == "severity" and value in ("fail", "warn", "info") else value
        )
        if key == "severity" and not isinstance(out[key], Severity):
            raise ConfigError(f"{where}: severity must be fail, warn or info, not {value!r}")
    return out


def parse_rules(tables: Any, where: str) -> tuple[Rule, ...]:
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: rules must be an array of tables ([[rules]])")
    rules = []
    for i, table in enumerate(tables, start=1):
        values = _checked(table, RULE_KEYS, f"{where}: rules[{i}]")
        if ("at_step" in values) != ("loss_below" in values):
            raise ConfigError(f"{where}: rules[{i}]: at_step and loss_below go together")
        if not {"final_loss_below", "at_step", "min_val_loss_below"} & values.keys():
            raise ConfigError(f"{where}: rules[{i}] sets no limit")
        rules.append(Rule(name=values.pop("name", f"rule {i}"), **values))
    return tuple(rules)


def parse_reference(table: Any, where: str) -> Reference:
    values = _checked(table, REFERENCE_KEYS, f"{where}: reference")
    if "run" not in values:
        raise ConfigError(f'{where}: reference needs run = "path of a known-good log"')
    return Reference(**values)


def _tail_level(curve: Curve) -> float:
    ok = curve.finite
    values = curve.value[ok]
    return float(np.median(values[-max(1, round(TAIL * len(values))) :]))


def _level_at(curve: Curve, step: int) -> float | None:
    ok = curve.finite
    steps, values = curve.step[ok], curve.value[ok]
    if not len(steps) or step < steps[0] or step > steps[-1]:
        return None
    near = np.abs(steps - step) <= max(1, 0.01 * (steps[-1] - steps[0]))
    return float(np.median(values[near])) if near.any() else float(np.interp(step, steps, values))


def check_rules(curves: RunCurves, rules: tuple[Rule, ...]) -> list[Finding]:
    train, val = curves.train, curves.val
    found = []
    for rule in rules:
        if train is None or not train.finite.any():
            continue
        first, last = int(train.step[0]), int(train.step[-1])
        if rule.final_loss_below is not None:
            level = _tail_level(train)
            if not level < rule.final_loss_below:
                found.append(Finding(
                    "rule", rule.severity, train.metric, first, last,
                    f"{rule.name}: final {train.metric} {num(level)} is not below "
                    f"{num(rule.final_loss_below)}",
                    {"rule": rule.name, "final_loss": rounded(level),
                     "limit": rule.final_loss_below},
                ))  # fmt: skip
        if rule.at_step is not None and rule.loss_below is not None:
            level = _level_at(train, rule.at_step)
            if level is None:
                message = f"{rule.name}: the run has no {train.metric} at step {rule.at_step}"
            elif not level < rule.loss_below:
                message = (f"{rule.name}: {train.metric} at step {rule.at_step} is {num(level)}, "
                           f"not below {num(rule.loss_below)}")  # fmt: skip
            else:
                message = ""
            if message:
                found.append(Finding(
                    "rule", rule.severity, train.metric, rule.at_step, rule.at_step, message,
                    {"rule": rule.name, "at_step": rule.at_step, "loss": level,
                     "limit": rule.loss_below},
                ))  # fmt: skip
        if rule.min_val_loss_below is not None:
            best = (
                float(np.min(val.value[val.finite]))
                if val is not None and val.finite.any()
                else None
            )
            if best is None or not best < rule.min_val_loss_below:
                metric = val.metric if val is not None else "validation loss"
                what = "was never logged" if best is None else f"was at best {num(best)}"
                found.append(Finding(
                    "rule", rule.severity, metric, first, last,
                    f"{rule.name}: {metric} {what}, not below {num(rule.min_val_loss_below)}",
                    {"rule": rule.name, "min_val_loss": best, "limit": rule.min_val_loss_below},
                ))  # fmt: skip
    return found


def _smooth(curve: Curve) -> tuple[np.ndarray, np.ndarray]:
    ok = curve.finite
    values = curve.value[ok]
    return curve.step[ok], rolling_median(values, max(5, len(values) // 20))


def check_reference(run: Curve | None, reference: Curve, spec: Reference) -> list[Finding]:
    """Where the smoothed run is worse than the smoothed reference by more than the tolerance,
    on the steps both logged (the reference interpolated onto the run's steps)."""
    if run is None or not run.finite.any() or not reference.finite.any():
        return []
    steps, mine = _smooth(run)
    ref_steps, ref = _smooth(reference)
    shared = (steps >= max(ref_steps[0], spec.after_step)) & (steps <= ref_steps[-1])
    if not shared.any():
        return []
    steps, mine = steps[shared], mine[shared]
    theirs = np.interp(steps, ref_steps, ref)
    band = theirs + spec.tolerance * np.abs(theirs)
    worse = mine > band
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
        "regression", spec.severity, run.metric, int(steps[where[0]]), int(steps[where[-1]]),
        f"{run.metric} is worse than the reference by up to {excess[at]:.0%} (at step "
        f"{int(steps[at])}: {num(mine[at])} against {num(theirs[at])}; tolerance "
        f"{spec.tolerance:.0%}) over {worse.mean():.0%} of the compared steps",
        {"reference": spec.run, "worst_step": int(steps[at]), "run": rounded(float(mine[at])),
         "reference_value": rounded(float(theirs[at])), "worst_excess": rounded(float(excess[at])),
         "share_outside": rounded(float(worse.mean())), "tolerance": spec.tolerance},
    )]  # fmt: skip
