"""rule — a limit declared in the configuration that the run does not meet.

What it detects: each `[[rules]]` table of the configuration that the run breaks:
`final_loss_below` (the median loss over the last 5 % of steps), `at_step` with `loss_below`
(the median loss within 1 % of the run around that step), `min_val_loss_below` (the lowest
validation loss). Each rule has a `name` (its JUnit test case) and a `severity` (fail).
Why it matters: it turns what a team knows a good run reaches into a test that fails in CI.
Parameters: the rules themselves, in `[[rules]]`.
What to do: look at what changed since the last run that met the rule: data, code, learning
rate, batch size; or move the limit if the run is right and the rule was too tight.

```toml
[[rules]]
final_loss_below = 2.5
[[rules]]
at_step = 1000
loss_below = 4.0
[[rules]]
min_val_loss_below = 2.8
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

KIND = "rule"
CODE = "LT501"
SEVERITY = Severity.FAIL
CASE_KEY = "rule"  # each rule is its own test case: a finding names the rule it breaks
RULE_KEYS = {"final_loss_below": float, "at_step": int, "loss_below": float,
             "min_val_loss_below": float, "severity": str, "name": str}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    name: str
    final_loss_below: float | None = None
    at_step: int | None = None
    loss_below: float | None = None
    min_val_loss_below: float | None = None
    severity: Severity = SEVERITY


@dataclass(frozen=True)
class Params:
    rules: tuple[Rule, ...] = ()


def configure(table: Mapping[str, Any], config: Config, where: str) -> Params:
    """The rules of `[[rules]]`, every key and type checked ([checks.rule] takes none)."""
    if table:
        raise ConfigError(f"{where}: rules are declared as [[rules]], not in [checks.rule]")
    rules = []
    for i, raw in enumerate(config.rules, start=1):
        at = f"{where}: rules[{i}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{at} must be a table")
        values = {}
        for key, value in raw.items():
            if key not in RULE_KEYS:
                raise ConfigError(f"{at}: unknown key {key!r} (known: {', '.join(RULE_KEYS)})")
            values[key] = typed(value, RULE_KEYS[key], key, at)
        if "severity" in values:
            values["severity"] = parse_severity(values["severity"], at)
        if ("at_step" in values) != ("loss_below" in values):
            raise ConfigError(f"{at}: at_step and loss_below go together")
        if not {"final_loss_below", "at_step", "min_val_loss_below"} & values.keys():
            raise ConfigError(f"{at} sets no limit")
        rules.append(Rule(name=values.pop("name", f"rule {i}"), **values))
    return Params(tuple(rules))


def cases(params: Params, curves: RunCurves) -> tuple[str, ...]:
    return tuple(rule.name for rule in params.rules)


def identity(f: Finding) -> tuple:
    return (f.kind, f.metric, f.start_step, f.message)


def _level_at(curve: Curve, step: int) -> float | None:
    ok = curve.finite
    steps, values = curve.step[ok], curve.value[ok]
    if not len(steps) or step < steps[0] or step > steps[-1]:
        return None
    near = np.abs(steps - step) <= max(1, 0.01 * (steps[-1] - steps[0]))
    return float(np.median(values[near])) if near.any() else float(np.interp(step, steps, values))


def _final(rule: Rule, train: Curve) -> Finding | None:
    level = train.final_level()
    if level < rule.final_loss_below:
        return None
    return Finding(
        KIND, rule.severity, train.metric, int(train.step[0]), int(train.step[-1]),
        f"{rule.name}: final {train.metric} {num(level)} is not below "
        f"{num(rule.final_loss_below)}",
        {"rule": rule.name, "final_loss": rounded(level), "limit": rule.final_loss_below},
    )  # fmt: skip


def _at_step(rule: Rule, train: Curve) -> Finding | None:
    level = _level_at(train, rule.at_step)
    if level is None:
        message = f"{rule.name}: the run has no {train.metric} at step {rule.at_step}"
    elif not level < rule.loss_below:
        message = (f"{rule.name}: {train.metric} at step {rule.at_step} is {num(level)}, "
                   f"not below {num(rule.loss_below)}")  # fmt: skip
    else:
        return None
    return Finding(
        KIND, rule.severity, train.metric, rule.at_step, rule.at_step, message,
        {"rule": rule.name, "at_step": rule.at_step, "loss": level, "limit": rule.loss_below},
    )  # fmt: skip


def _min_val(rule: Rule, train: Curve, val: Curve | None) -> Finding | None:
    best = float(np.min(val.value[val.finite])) if val is not None and val.finite.any() else None
    if best is not None and best < rule.min_val_loss_below:
        return None
    metric = val.metric if val is not None else "validation loss"
    what = "was never logged" if best is None else f"was at best {num(best)}"
    return Finding(
        KIND, rule.severity, metric, int(train.step[0]), int(train.step[-1]),
        f"{rule.name}: {metric} {what}, not below {num(rule.min_val_loss_below)}",
        {"rule": rule.name, "min_val_loss": best, "limit": rule.min_val_loss_below},
    )  # fmt: skip


def detect(curves: RunCurves, params: Params) -> list[Finding]:
    train = curves.train
    if train is None or not train.finite.any():
        return []
    found = []
    for rule in params.rules:
        if rule.final_loss_below is not None:
            found.append(_final(rule, train))
        if rule.at_step is not None and rule.loss_below is not None:
            found.append(_at_step(rule, train))
        if rule.min_val_loss_below is not None:
            found.append(_min_val(rule, train, curves.val))
    return [f for f in found if f is not None]
