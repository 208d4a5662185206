"""`--format markdown`: a summary table for pull-request comments and job summaries."""

from __future__ import annotations

from ..formatting import cell, num
from ..report import Comparison, Report
from .options import DEFAULT, RenderOptions

NAME = "markdown"
ICON = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail"}


def _escape(text: str) -> str:
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
        lines.append(
            f"| {_escape(run.run)} | {ICON[run.verdict]} | {_escape(loss)} | {kinds or '–'} |"
        )
    details = [
        f"- **{_escape(run.run)}** `{f.kind}` {f.code} ({f.severity.value}, "
        f"steps {f.start_step}–{f.end_step}): "
        f"{_escape(f.message)}"
        for run in report.runs for f in run.findings if f.severity != "info"
    ]  # fmt: skip
    if details:
        lines += ["", "<details><summary>Findings</summary>", "", *details, "", "</details>"]
    if report.problems:
        lines += ["", "Unreadable: " + "; ".join(_escape(p.message) for p in report.problems)]
    return "\n".join(lines) + "\n"


def render_comparison(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    lines = ["## losstest compare", "", f"Ranked by `{c.rank_by}`.", "",
             "| # | run | verdict | final loss | best val (step) | findings |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for i, r in enumerate(c.runs, start=1):
        best = f"{cell(r.best_val_loss)} ({cell(r.best_val_step)})"
        found = ", ".join(r.findings) or "–"
        lines.append(f"| {i} | {r.run} | {r.verdict} | {cell(r.final_loss)} | {best} | {found} |")
    if c.groups:
        lines += ["", "| group | runs | failed | mean ± std |", "|---|---|---|---|"]
        for g in c.groups:
            name = ", ".join(f"{k}={v}" for k, v in g.by.items())
            lines.append(f"| {name} | {g.runs} | {g.failed} | {cell(g.mean)} ± {cell(g.std)} |")
    lines += ["", *(f"- {s}" for s in c.summary)]
    return "\n".join(lines) + "\n"
