"""The values analysis produces: plain, immutable, with no formatting of their own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return ("info", "warn", "fail").index(self.value)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: Severity
    metric: str
    start_step: int
    end_step: int
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "evidence", _frozen(self.evidence))

    def __reduce__(self):  # a read-only mapping does not pickle; worker processes send findings
        fields = (self.kind, self.severity, self.metric, self.start_step, self.end_step)
        return (Finding, (*fields, self.message, dict(self.evidence)))


def verdict_of(findings: tuple[Finding, ...]) -> str:
    """`fail` if any finding fails, else `warn` if any warns, else `pass` (SPEC)."""
    worst = max((f.severity.rank for f in findings), default=0)
    return ("pass", "warn", "fail")[worst]


@dataclass(frozen=True)
class Summary:
    first: float
    last: float
    min: float
    min_step: int


@dataclass(frozen=True)
class RunReport:
    source: str
    run: str
    metric: str | None
    val_metric: str | None
    steps: int
    last_step: int | None
    summary: Summary | None
    findings: tuple[Finding, ...]
    metrics: tuple[tuple[str, int], ...] = ()  # every metric of the run, with its value count
    curves: Any = field(default=None, repr=False, compare=False)  # the RunCurves analysed
    checks: tuple[str, ...] = ()  # the checks and rules that ran

    @property
    def verdict(self) -> str:
        return verdict_of(self.findings)


@dataclass(frozen=True)
class InputProblem:
    """A file that could not be read while others were."""

    source: str
    message: str


@dataclass(frozen=True)
class Report:
    runs: tuple[RunReport, ...]
    problems: tuple[InputProblem, ...] = ()

    @property
    def verdict(self) -> str:
        return verdict_of(tuple(f for r in self.runs for f in r.findings))
