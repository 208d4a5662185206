"""`losstest compare` output: the leaderboard, groups and summary, as text, JSON
(`losstest/compare/v1`), CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json
import math
from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..compare import Comparison, RunSummary
from ..detectors._common import num
from .options import DEFAULT, RenderOptions
from .text import STYLE

SCHEMA = "losstest/compare/v1"
COLUMNS = ("rank", "run", "verdict", "final_loss", "best_val_loss", "best_val_step", "auc",
           "steps_to_target", "spikes", "swings", "val_gap", "steps", "findings")  # fmt: skip


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _row(rank: int, r: RunSummary) -> dict[str, Any]:
    return {
        "rank": rank, "run": r.run, "source": r.source, "verdict": r.verdict,
        "hparams": {k: _clean(v) for k, v in r.hparams.items()},
        "final_loss": _clean(r.final_loss), "best_val_loss": _clean(r.best_val_loss),
        "best_val_step": r.best_val_step, "auc": _clean(r.auc),
        "steps_to_target": r.steps_to_target, "spikes": r.spikes, "swings": r.swings,
        "val_gap": _clean(r.val_gap), "steps": r.steps, "findings": list(r.findings),
    }  # fmt: skip


def as_dict(c: Comparison) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "rank_by": c.rank_by,
        "runs": [_row(i, r) for i, r in enumerate(c.runs, start=1)],
        "groups": [
            {"by": g.by, "runs": g.runs, "failed": g.failed, "mean": g.mean, "std": g.std}
            for g in c.groups
        ],
        "summary": list(c.summary),
        "problems": [{"source": p.source, "message": p.message} for p in c.problems],
    }


def render_json(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    return json.dumps(as_dict(c), indent=2, allow_nan=False) + "\n"


def render_csv(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    keys = sorted({k for r in c.runs for k in r.hparams})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS[:3], *keys, *COLUMNS[3:], "source"])
    for i, r in enumerate(c.runs, start=1):
        row = _row(i, r)
        row["findings"] = " ".join(r.findings)
        writer.writerow([*(row[k] for k in COLUMNS[:3]), *(r.hparams.get(k, "") for k in keys),
                         *(row[k] for k in COLUMNS[3:]), r.source])  # fmt: skip
    return out.getvalue()


def _n(value: float | int | None) -> str:
    return "–" if value is None else num(float(value)) if isinstance(value, float) else str(value)


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else _n(value)


def render_markdown(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    lines = ["## losstest compare", "", f"Ranked by `{c.rank_by}`.", "",
             "| # | run | verdict | final loss | best val (step) | findings |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for i, r in enumerate(c.runs, start=1):
        best = f"{_n(r.best_val_loss)} ({_n(r.best_val_step)})"
        found = ", ".join(r.findings) or "–"
        lines.append(f"| {i} | {r.run} | {r.verdict} | {_n(r.final_loss)} | {best} | {found} |")
    if c.groups:
        lines += ["", "| group | runs | failed | mean ± std |", "|---|---|---|---|"]
        for g in c.groups:
            name = ", ".join(f"{k}={v}" for k, v in g.by.items())
            lines.append(f"| {name} | {g.runs} | {g.failed} | {_n(g.mean)} ± {_n(g.std)} |")
    lines += ["", *(f"- {s}" for s in c.summary)]
    return "\n".join(lines) + "\n"


def render_text(c: Comparison, options: RenderOptions = DEFAULT) -> str:
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
            *(_cell(r.hparams.get(k)) for k in keys),
            _n(r.final_loss), _n(r.best_val_loss), _n(r.best_val_step), ", ".join(r.findings),
        )  # fmt: skip
    console.print(table)
    if c.groups:
        groups = Table(box=None, padding=(0, 1))
        for name in ("group", "runs", "failed", "mean", "std"):
            groups.add_column(name, justify="left" if name == "group" else "right")
        for g in c.groups:
            name = ", ".join(f"{k}={v}" for k, v in g.by.items())
            groups.add_row(name, str(g.runs), str(g.failed), _n(g.mean), _n(g.std))
        console.print()
        console.print(groups)
    for line in c.summary:
        console.print(f"• {line}")
    for p in c.problems:
        console.print(Text(f"unreadable: {p.message}", style=STYLE["fail"]))
    return out.getvalue()


LEADERBOARDS = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
}
