"""`--format csv` for `compare`: the leaderboard, one row per run, hyperparameters as columns."""

from __future__ import annotations

import csv
import io

from ..report import Comparison
from .json import HEAD, columns, comparison_row
from .options import DEFAULT, RenderOptions

NAME = "csv"


def render_comparison(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    keys = sorted({k for r in c.runs for k in r.hparams})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = columns(c)
    writer.writerow([*HEAD, *keys, *names[len(HEAD) :], "source"])
    for i, r in enumerate(c.runs, start=1):
        row = comparison_row(i, r)
        row["findings"] = " ".join(r.findings)
        writer.writerow([*(row[k] for k in HEAD), *(r.hparams.get(k, "") for k in keys),
                         *(row[k] for k in names[len(HEAD) :]), r.source])  # fmt: skip
    return out.getvalue()
