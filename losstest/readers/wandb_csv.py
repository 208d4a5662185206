"""A Weights & Biases CSV export: `Step, <run> - <metric>, <run> - <metric>__MIN, ...`.

One file may hold several runs; each becomes its own run. The `__MIN`/`__MAX` columns (the
envelope of a smoothed chart) are left out."""

from __future__ import annotations

import re

import pandas as pd

from ..frame import concat, empty
from . import csv
from ._table import frame_from_table
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "wandb-csv"
RUN_METRIC = re.compile(r"^(?P<run>.+?) - (?P<metric>[^-].*)$")
UNNAMED = "(unnamed)"  # a run exported with a blank name: a name of its own, never the file's


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    delimiter = csv.delimiter_of(source.head())
    if delimiter is None:
        return False
    header = csv._rows(source.head().decode("utf-8", "replace"), delimiter, 1)[0]
    named = [c for c in header if RUN_METRIC.match(c) and not c.endswith(("__MIN", "__MAX"))]
    return bool(named) and len(named) + 1 >= len(
        [c for c in header if not c.endswith(("__MIN", "__MAX"))]
    )


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    table = csv.read_table(source)
    step = table.column_names[0]
    by_run: dict[str, dict[str, str]] = {}
    for name in table.column_names[1:]:
        match = RUN_METRIC.match(name)
        if match and not name.endswith(("__MIN", "__MAX")):
            run = match["run"].strip() or UNNAMED
            by_run.setdefault(run, {})[name] = match["metric"].strip()
    frames = []
    for run, columns in by_run.items():
        part = table.select([step, *columns]).rename_columns(["step", *columns.values()])
        frame = frame_from_table(part, step="step")
        frame["run"] = frame["run"].cat.rename_categories([run])
        frames.append(frame)
    return concat(frames) if frames else empty()
