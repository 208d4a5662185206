"""The checks: one module per finding kind, and the one registry that configures and runs them.

Every check module declares
    KIND, CODE    its name and stable code (LT1xx instability, LT2xx progress,
                  LT3xx generalisation, LT4xx the log itself, LT5xx declared by the user)
    SEVERITY      the default severity of its findings
    Params        a frozen dataclass of its thresholds and their defaults ([checks.KIND])
    detect(curves, params) -> list[Finding]
and, where it needs them,
    MARKS         how plots draw its findings
    BLOWS_UP      its findings start where the loss leaves its range (plots may clip after it)
    TALLY         a leaderboard column: (name, evidence key summed, or None to count findings)
    superseded(finding, findings) -> bool     another finding already says it
    identity(finding) -> tuple                what makes a finding seen live a new one
    configure(table, config, where) -> Params  parameters from more than its own table
    cases(params, curves) -> tuple[str, ...]  the test cases it stands for (JUnit)
    CASE_KEY      the evidence key naming a finding's test case, when it has several
The module docstring is its documentation (`losstest explain KIND`, docs/checks.md).
Adding a check is one module and one line in the tuple below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from ..config import Config, parse_severity, toml_value, typed
from ..curves import RunCurves
from ..errors import ConfigError
from ..report import CheckInfo, Finding, Mark, Severity
from . import (
    divergence,
    instability,
    nan,
    oscillation,
    overfitting,
    plateau,
    regression,
    restart,
    rule,
    runaway,
    short,
    spike,
    stall,
    underfitting,
)


def _default_identity(f: Finding) -> tuple:
    return (f.kind, f.metric)


def _table_params(params_type: type, table: Mapping[str, Any], where: str, kind: str) -> Any:
    """A Params from its [checks.KIND] table, every key and type checked."""
    fields = {f.name for f in dataclasses.fields(params_type)}
    values = {}
    for key, value in table.items():
        if key not in fields:
            known = ", ".join(["enabled", "severity", *fields])
            raise ConfigError(f"{where}: unknown key checks.{kind}.{key} (known: {known})")
        values[key] = typed(value, type(getattr(params_type(), key)), f"checks.{kind}.{key}", where)
    return params_type(**values)


HEADINGS = ("What it detects:", "Algorithm:", "Why it matters:", "Parameters:", "What to do:")


def section(doc: str, heading: str) -> str:
    """The paragraph of a check's docstring under `heading` (one of HEADINGS), on one line."""
    text = " ".join(doc.split())
    start = text.find(heading)
    if start < 0:
        return ""
    rest = text[start + len(heading) :]
    ends = [i for i in (rest.find(h) for h in HEADINGS) if i >= 0] + [rest.find("```"), len(rest)]
    return rest[: min(i for i in ends if i >= 0)].strip()


@dataclass(frozen=True)
class Check:
    """One check as the registry holds it, read from its module."""

    kind: str
    code: str
    severity: Severity
    params: type
    detect: Callable[[RunCurves, Any], list[Finding]]
    doc: str
    info: CheckInfo
    tally: tuple[str, str | None] | None
    superseded: Callable[[Finding, list[Finding]], bool] | None
    identity: Callable[[Finding], tuple]
    configure: Callable[[Mapping[str, Any], Config, str], Any] | None
    cases: Callable[[Any, RunCurves], tuple[str, ...]] | None

    @classmethod
    def of(cls, module: ModuleType) -> Check:
        doc = module.__doc__.strip()
        marks: tuple[Mark, ...] = getattr(module, "MARKS", ())
        info = CheckInfo(
            module.KIND, module.CODE, " ".join(doc.split("\n\n")[0].split()).partition(" — ")[2],
            section(doc, "What to do:"), marks, getattr(module, "BLOWS_UP", False),
            getattr(module, "CASE_KEY", None),
        )  # fmt: skip
        return cls(
            module.KIND, module.CODE, module.SEVERITY, module.Params, module.detect, doc, info,
            getattr(module, "TALLY", None), getattr(module, "superseded", None),
            getattr(module, "identity", _default_identity), getattr(module, "configure", None),
            getattr(module, "cases", None),
        )  # fmt: skip

    def settings(self, config: Config) -> tuple[Any, Severity | None]:
        """Its parameters and severity override from the configuration, validated."""
        where = config.source or "configuration"
        table = dict(config.checks.get(self.kind, {}))
        table.pop("enabled", None)
        level = table.pop("severity", None)
        severity = None
        if level is not None:
            name = f"checks.{self.kind}.severity"
            severity = parse_severity(typed(level, str, name, where), f"{where}: {name}")
        if self.configure is not None:
            return self.configure(table, config, where), severity
        return _table_params(self.params, table, where, self.kind), severity


CHECKS: dict[str, Check] = {
    check.kind: check
    for check in map(
        Check.of,
        (
            nan,
            divergence,
            instability,
            runaway,
            spike,
            oscillation,
            plateau,
            stall,
            overfitting,
            underfitting,
            restart,
            short,
            rule,
            regression,
        ),
    )  # fmt: skip
}
CODES = {check.code: check.kind for check in CHECKS.values()}
CATALOG: Mapping[str, CheckInfo] = {kind: check.info for kind, check in CHECKS.items()}


def kind_of(name: str, where: str) -> str:
    """A check named by its kind or its code (`spike`, `LT103`)."""
    kind = CODES.get(name.upper(), name)
    if kind not in CHECKS:
        known = ", ".join(f"{k} ({c.code})" for k, c in CHECKS.items())
        raise ConfigError(f"{where}: unknown check {name!r} (known: {known})")
    return kind


@dataclass(frozen=True)
class Plan:
    """The checks a configuration runs, each with its validated parameters."""

    steps: tuple[tuple[Check, Any, Severity | None], ...]

    def run(self, curves: RunCurves) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
        """The findings on one run's curves, each said once, and the test cases that ran."""
        findings: list[Finding] = []
        cases: list[str] = []
        for check, params, severity in self.steps:
            for f in check.detect(curves, params):
                findings.append(replace(f, severity=severity or f.severity, code=check.code))
            cases += check.cases(params, curves) if check.cases else (check.kind,)
        findings.sort(key=lambda f: (f.start_step, -f.severity.rank))
        said = [f for f in findings if not _superseded(f, findings)]
        return tuple(said), tuple(cases)


def _superseded(finding: Finding, findings: list[Finding]) -> bool:
    check = CHECKS.get(finding.kind)
    said_elsewhere = check.superseded if check is not None else None
    return said_elsewhere is not None and said_elsewhere(finding, findings)


def plan(config: Config) -> Plan:
    """The checks the configuration enables, validated: every unknown check or key is named."""
    where = config.source or "configuration"
    for kind in config.checks:
        if kind not in CHECKS:
            kind_of(kind, f"{where}: [checks.{kind}]")
    select = None if config.select is None else {kind_of(k, where) for k in config.select}
    ignore = {kind_of(k, where) for k in config.ignore}
    ignore |= {k for k, table in config.checks.items() if not _enabled(table, k, where)}
    return Plan(
        tuple(
            (check, *check.settings(config))
            for kind, check in CHECKS.items()
            if (select is None or kind in select) and kind not in ignore
        )
    )


def _enabled(table: Mapping[str, Any], kind: str, where: str) -> bool:
    return typed(table.get("enabled", True), bool, f"checks.{kind}.enabled", where)


def identity(finding: Finding) -> tuple:
    """What makes a finding new to someone watching a run (a spike by its peak, a divergence
    found again a little later is the same divergence)."""
    check = CHECKS.get(finding.kind)
    return check.identity(finding) if check is not None else _default_identity(finding)


def tallies(findings: tuple[Finding, ...]) -> dict[str, int]:
    """The leaderboard columns the checks contribute, e.g. spikes and oscillation swings."""
    out: dict[str, int] = {}
    for check in CHECKS.values():
        if check.tally is not None:
            column, key = check.tally
            mine = [f for f in findings if f.kind == check.kind]
            out[column] = int(sum(f.evidence.get(key, 0) for f in mine) if key else len(mine))
    return out


def describe(config: Config) -> list[str]:
    """Every check's settings in effect, as TOML lines: what `config --show` prints."""
    active = {check.kind: (params, level) for check, params, level in plan(config).steps}
    lines: list[str] = []
    for kind, check in CHECKS.items():
        params, level = active.get(kind) or check.settings(config)
        lines += ["", f"[checks.{kind}]  # {check.code}", f"enabled = {toml_value(kind in active)}",
                  f"severity = {toml_value(level or check.severity)}"]  # fmt: skip
        if check.configure is None:
            lines += [f"{f.name} = {toml_value(getattr(params, f.name))}"
                      for f in dataclasses.fields(params)]  # fmt: skip
    return lines


__all__ = ["CATALOG", "CHECKS", "Check", "Plan", "describe", "identity", "kind_of", "plan"]
