"""A ClearML offline session (`Task.set_offline(True)`): `<cache>/offline/offline-<task id>/`
with `task.json` and `metrics.jsonl`, each line a JSON list of events; scalars are
`training_stats_scalar` events (`metric` title, `variant` series, `iter`, `value`, `timestamp`
in ms), named `<title>/<series>` as ClearML's plots are."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ._json import number
from ._records import Points
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "clearml"
SCALAR = b'"training_stats_scalar"'


def is_run(folder: Path) -> bool:
    return (folder / "task.json").is_file() and (folder / "metrics.jsonl").is_file()


def source(folder: Path) -> Source:
    metrics = folder / "metrics.jsonl"
    return Source(str(metrics), metrics, folder.name, format_hint=NAME)


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    head = source.head().lstrip()
    return head.startswith(b"[{") and SCALAR in head[:4096]


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    points = Points()
    for line in source.data().splitlines():
        events = json.loads(line) if line.strip() else []
        for event in events if isinstance(events, list) else []:
            value = number(event.get("value"))
            if event.get("type") == "training_stats_scalar" and value is not None:
                name = f"{event['metric']}/{event['variant']}"
                points.add(name, event.get("iter", 0), value, event.get("timestamp", np.nan) / 1000)
    return points.frame()
