"""The exit-code contract (SPEC): 0 no run failed, 1 a run failed, 2 usage or input error."""

from __future__ import annotations

from .report import Report, Severity

OK, FAILED, ERROR = 0, 1, 2


def exit_code(report: Report, fail_on: Severity = Severity.FAIL, exit_zero: bool = False) -> int:
    if not report.runs:
        return ERROR  # nothing could be read
    if exit_zero:
        return OK
    # no finding ranks below every severity (a default of -2 would read the same)
    worst = max((f.severity.rank for r in report.runs for f in r.findings), default=-1)
    return FAILED if worst >= fail_on.rank else OK
