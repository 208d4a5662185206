"""What a check run produces: severities, findings, run reports and the report. Plain immutable
values with no formatting of their own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only a type here: importing numpy for it would slow every command's start
    import numpy as np

    from .curves import RunCurves


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
    code: str = ""  # the check's stable code, e.g. LT103; set by the engine from the registry

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "evidence", _frozen(self.evidence))

    def starts_within(self, findings: Iterable[Finding], kinds: Iterable[str]) -> bool:
        """Whether it starts inside a finding of one of these kinds: part of that one."""
        kinds = set(kinds)
        return any(
            f.kind in kinds and f.start_step <= self.start_step <= f.end_step for f in findings
        )

    def __reduce__(self):  # a read-only mapping does not pickle; worker processes send findings
        fields = (self.kind, self.severity, self.metric, self.start_step, self.end_step)
        return (Finding, (*fields, self.message, dict(self.evidence), self.code))


@dataclass(frozen=True)
class Mark:
    """How plots draw a kind's findings: `span` shades its steps, `peak` marks the evidence's
    peak_step/peak, `start` draws a vertical line at its first step, `level` a horizontal line at
    the evidence value named by `evidence`."""

    style: str
    color: str
    label: str = ""  # legend text; the kind's name when empty
    linestyle: str = ":"
    evidence: str | None = None  # for `level`: the evidence key holding the height
    on_val: bool = False  # for `span`: the finding is about the validation curve


@dataclass(frozen=True)
class CheckInfo:
    """What reporters may know of a check without importing the checks: its code, what to do
    about its findings, how to draw them."""

    kind: str
    code: str
    title: str  # one line: what it detects
    advice: str  # the docstring's "What to do"
    marks: tuple[Mark, ...] = ()
    blows_up: bool = False  # its findings start where the loss leaves its range: plots may clip
    case_key: str | None = None  # the evidence key naming a finding's test case (else the kind)

    def case_of(self, finding: Finding) -> str:
        """The JUnit test case a finding belongs to."""
        return (
            str(finding.evidence.get(self.case_key, finding.kind))
            if self.case_key
            else finding.kind
        )


def verdict_of(findings: tuple[Finding, ...]) -> str:
    """`fail` if any finding fails, else `warn` if any warns, else `pass` (SPEC)."""
    worst = max((f.severity.rank for f in findings), default=0)
    return ("pass", "warn", "fail")[worst]


@dataclass(frozen=True)
class Summary:
    first: float
    last: float  # the last value logged, as it is
    min: float
    min_step: int
    final: float | None = None  # the median of the last 5 % of values: what the checks judge


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
    curves: RunCurves | None = field(default=None, repr=False, compare=False)  # as analysed
    checks: tuple[str, ...] = ()  # the checks and rules that ran: JUnit's test cases
    val_summary: Summary | None = None
    val_steps: int = 0  # evaluations of the validation loss
    catalog: Mapping[str, CheckInfo] = field(default_factory=dict, repr=False, compare=False)

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


# What `compare` produces: each run reduced to a summary, ranked and grouped.


@dataclass(frozen=True)
class RunSummary:
    run: str
    source: str
    verdict: str
    findings: tuple[str, ...]
    hparams: dict[str, Any]
    steps: int
    final_loss: float | None
    best_val_loss: float | None
    best_val_step: int | None
    auc: float | None  # mean loss over the run, steps scaled to [0, 1]
    steps_to_target: int | None
    tallies: Mapping[str, int]  # columns the checks contribute: spikes, swings ...
    val_gap: float | None  # last validation loss - final training loss
    report: RunReport | None = field(default=None, compare=False, repr=False)  # kept for plots
    # the smoothed training loss, (steps, values) through the plots' min/max envelope: overlays
    trend: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False, repr=False)

    def value(self, key: str) -> float | None:
        return self.tallies[key] if key in self.tallies else getattr(self, key)


@dataclass(frozen=True)
class Group:
    by: dict[str, Any]
    runs: int
    failed: int
    mean: float | None
    std: float | None
    values: tuple[float, ...]


@dataclass(frozen=True)
class Comparison:
    rank_by: str
    runs: tuple[RunSummary, ...]  # ranked: best first, failed runs last
    groups: tuple[Group, ...]
    summary: tuple[str, ...]
    problems: tuple[InputProblem, ...] = ()
    by: tuple[str, ...] = ()  # the hyperparameters the runs are grouped by
