"""`--format markdown`: a summary table for pull-request comments and job summaries."""

from __future__ import annotations

from ..detectors._common import num
from ..model import Report
from .options import DEFAULT, RenderOptions

ICON = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Report, options: RenderOptions = DEFAULT) -> str:
    lines = ["## losstest", "", "| run | verdict | loss (first → last, min) | findings |",
             "|---|---|---|---|"]  # fmt: skip
    for run in report.runs:
        s = run.summary
        loss = (
            "–"
            if s is None
            else f"{run.metric}: {num(s.first)} → {num(s.last)}, min {num(s.min)} @ {s.min_step}"
        )
        kinds = ", ".join(dict.fromkeys(f.kind for f in run.findings if f.severity != "info"))
        lines.append(f"| {_cell(run.run)} | {ICON[run.verdict]} | {_cell(loss)} | {kinds or '–'} |")
    details = [
        f"- **{_cell(run.run)}** `{f.kind}` ({f.severity.value}, "
        f"steps {f.start_step}–{f.end_step}): "
        f"{_cell(f.message)}"
        for run in report.runs for f in run.findings if f.severity != "info"
    ]  # fmt: skip
    if details:
        lines += ["", "<details><summary>Findings</summary>", "", *details, "", "</details>"]
    if report.problems:
        lines += ["", "Unreadable: " + "; ".join(_cell(p.message) for p in report.problems)]
    return "\n".join(lines) + "\n"
