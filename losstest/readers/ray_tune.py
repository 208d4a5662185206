"""A Ray Tune trial folder: `result.json` (JSON Lines, one row per `tune.report`, stepped by
`training_iteration`) beside `params.json`, `progress.csv` (the same rows as CSV) and an
event file. The trial is one run, read from `result.json`; Ray's own bookkeeping columns
(`done`, `pid`, `time_*`, `config.*`) are left out."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import jsonl
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "ray-tune"
# The experiment's own state beside its trials: no run, left out of a walk.
EXPERIMENT_STATE = re.compile(r"(?:experiment_state|basic-variant-state)-.*\.json")
STEP = "training_iteration"
BOOKKEEPING = {
    "done", "pid", "time_this_iter_s", "time_total_s", "time_since_restore",
    "iterations_since_restore", "timesteps_total", "episodes_total", "timesteps_since_restore",
}  # fmt: skip


def is_run(folder: Path) -> bool:
    return (folder / "result.json").is_file() and (folder / "params.json").is_file()


def source(folder: Path) -> Source:
    return Source(
        str(folder / "result.json"), folder / "result.json", folder.name, format_hint=NAME
    )


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    first = source.head().lstrip().split(b"\n", 1)[0]
    return first.startswith(b"{") and b'"training_iteration"' in first and b'"trial_id"' in first


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    frame = jsonl.read(source, ReadOptions(step=options.step or STEP))
    names = frame["metric"].astype(str)
    keep = ~(names.isin(BOOKKEEPING) | names.str.startswith("config."))
    frame = frame[keep.to_numpy()].reset_index(drop=True)
    frame["metric"] = frame["metric"].cat.remove_unused_categories()
    return frame
