"""`--format text`: the report (and the leaderboard of `compare`) for people, with rich; plain
when piped or NO_COLOR is set."""

from __future__ import annotations

import math
from collections import Counter
from io import StringIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..formatting import cell, num
from ..report import Comparison, Finding, Report, RunReport, Severity
from .options import DEFAULT, RenderOptions
from .sparkline import sparkline

NAME = "text"

STYLE = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red", "info": "cyan"}
MAX_ROWS = 10  # findings listed per run; the rest are counted by kind


def _steps(f: Finding) -> str:
    return str(f.start_step) if f.start_step == f.end_step else f"{f.start_step}–{f.end_step}"


def _shown(findings: tuple[Finding, ...]) -> tuple[list[Finding], Counter]:
    """The most severe findings first, at most MAX_ROWS; the rest counted by kind."""
    ranked = sorted(findings, key=lambda f: (-f.severity.rank, f.start_step))
    shown = sorted(ranked[:MAX_ROWS], key=lambda f: f.start_step)
    return shown, Counter(f.kind for f in ranked[MAX_ROWS:])


def _final(run: RunReport) -> str:
    """The level the checks judged (the median of the last 5 %), where the last raw value would
    belie a finding: a run with findings whose last value is 1.5x away from that level."""
    s = run.summary
    judged = any(f.metric == run.metric and f.severity != Severity.INFO for f in run.findings)
    if not judged or s.final is None or not math.isfinite(s.last) or s.final * s.last <= 0:
        return ""
    far = max(s.final / s.last, s.last / s.final) > 1.5
    return f" (last value; final level {num(s.final)})" if far else ""


def _run(console: Console, run: RunReport, spark: str) -> None:
    head = Text()
    head.append(f"{run.verdict.upper():4}", style=STYLE[run.verdict])
    head.append(f"  {run.run}", style="bold")
    console.print(head)
    if run.source != run.run:
        console.print(Text(f"  {run.source}", style="dim"))
    if run.summary is not None:
        s = run.summary
        console.print(
            f"  {run.metric}: {num(s.first)} → {num(s.last)}{_final(run)}, min {num(s.min)} at "
            f"step {s.min_step}; {run.steps} steps to {run.last_step}",
            highlight=False,
        )
    if run.val_summary is not None:
        v = run.val_summary
        console.print(
            f"  {run.val_metric}: {num(v.first)} → {num(v.last)}, min {num(v.min)} at step "
            f"{v.min_step}; {run.val_steps} evaluations",
            highlight=False,
        )
    elif run.metric is None:
        names = ", ".join(name for name, _ in run.metrics)
        console.print(f"  no loss metric found; metrics: {names}", highlight=False)
    if spark:
        console.print(f"  {spark}", highlight=False)
    shown, rest = _shown(run.findings)
    if shown:
        table = Table(box=None, padding=(0, 1), show_header=False, pad_edge=False)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, justify="right")
        table.add_column(ratio=1)
        for f in shown:
            table.add_row(
                Text(f"  {f.severity.value}", style=STYLE[f.severity.value]),
                f"{f.kind} {f.code}".strip(), _steps(f),
                Text(f.message),
            )  # fmt: skip
        console.print(table)
    for kind, count in rest.items():
        console.print(f"  … and {count} more {kind} finding{'s' * (count > 1)}", highlight=False)


def render(report: Report, options: RenderOptions = DEFAULT) -> str:
    color, width = options.color, options.width
    out = StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False,
        emoji=False, soft_wrap=False,
    )  # fmt: skip
    for run in report.runs:
        train = run.curves.train if run.curves is not None else None
        _run(console, run, sparkline(train, min(60, width - 4)))
        console.print()
    verdicts = Counter(r.verdict for r in report.runs)
    total = ", ".join(f"{verdicts[v]} {v}" for v in ("pass", "warn", "fail") if verdicts[v])
    line = Text(f"{len(report.runs)} run{'s' * (len(report.runs) != 1)}: {total or 'none'}")
    if report.problems:
        line.append(f"; {len(report.problems)} unreadable", style=STYLE[Severity.FAIL.value])
    console.print(line)
    return out.getvalue()


def render_metrics(report: Report, options: RenderOptions = DEFAULT) -> str:
    """`--list-metrics`: every metric of every run, and which is the training/validation loss."""
    out = StringIO()
    console = Console(
        file=out, width=options.width, force_terminal=options.color, no_color=not options.color
    )
    for run in report.runs:
        console.print(Text(run.run, style="bold"), Text(f" {run.source}", style="dim"))
        table = Table(box=None, padding=(0, 1), show_header=True, pad_edge=False)
        table.add_column("  metric")
        table.add_column("values", justify="right")
        table.add_column("chosen as")
        role = {run.metric: "training loss", run.val_metric: "validation loss"}
        for name, count in run.metrics:
            table.add_row(f"  {name}", str(count), role.get(name, ""))
        console.print(table)
    return out.getvalue()


def render_comparison(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    out = StringIO()
    console = Console(file=out, width=options.width, force_terminal=options.color,
                      no_color=not options.color, highlight=False)  # fmt: skip
    keys = sorted({k for r in c.runs for k in r.hparams})[:4]
    table = Table(title=f"ranked by {c.rank_by}", title_justify="left", box=None, padding=(0, 1))
    for name in ("#", "run", "verdict", *keys, "final", "best val", "@step", "findings"):
        right = name in ("#", "final", "best val", "@step")
        table.add_column(name, justify="right" if right else "left", no_wrap=name != "findings")
    for i, r in enumerate(c.runs, start=1):
        table.add_row(
            str(i), r.run, Text(r.verdict, style=STYLE[r.verdict]),
            *(cell(r.hparams.get(k)) for k in keys),
            cell(r.final_loss), cell(r.best_val_loss), cell(r.best_val_step), ", ".join(r.findings),
        )  # fmt: skip
    console.print(table)
    if c.groups:
        groups = Table(box=None, padding=(0, 1))
        for name in ("group", "runs", "failed", "mean", "std"):
            groups.add_column(name, justify="left" if name == "group" else "right")
        for g in c.groups:
            name = ", ".join(f"{k}={v}" for k, v in g.by.items())
            groups.add_row(name, str(g.runs), str(g.failed), cell(g.mean), cell(g.std))
        console.print()
        console.print(groups)
    for line in c.summary:
        console.print(f"• {line}")
    for p in c.problems:
        console.print(Text(f"unreadable: {p.message}", style=STYLE["fail"]))
    return out.getvalue()
