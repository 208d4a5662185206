"""`--format github`: workflow-command annotations, one per finding. (The command line also
appends the Markdown report to `$GITHUB_STEP_SUMMARY` where GitHub Actions sets it.)"""

from __future__ import annotations

from ..report import Report, Severity
from .options import DEFAULT, RenderOptions

NAME = "github"
COMMAND = {Severity.FAIL: "error", Severity.WARN: "warning", Severity.INFO: "notice"}


def _escape(text: str, property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def render(report: Report, options: RenderOptions = DEFAULT) -> str:
    lines = []
    for run in report.runs:
        for f in run.findings:
            command = COMMAND[f.severity]
            title = _escape(f"losstest {f.kind} {f.code} ({run.run})", property=True)
            lines.append(
                f"::{command} file={_escape(run.source, True)},title={title}::{_escape(f.message)}"
            )
    for problem in report.problems:
        lines.append(
            f"::error file={_escape(problem.source, True)},title=losstest::"
            + _escape(problem.message)
        )
    return "\n".join(lines) + ("\n" if lines else "")
