"""A Neptune offline run (neptune-client 1.x, `mode="offline"`):
`.neptune/offline/run__<id>__<pid>__<key>/data-<n>.log`, one JSON operation per line; series
are `LogFloats` operations (`path`, and `values` of `{value, step, ts}`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ._json import number
from ._records import Points
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "neptune"


def is_run(folder: Path) -> bool:
    return folder.name.startswith("run__") and (folder / "metadata.json").is_file()


def source(folder: Path) -> Source:
    return Source(str(folder), folder, folder.name.split("__")[1], format_hint=NAME)


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return source.path is not None and source.path.is_dir() and is_run(source.path)


def _operations(folder: Path):
    logs = sorted(folder.glob("data-*.log"), key=lambda p: int(p.stem.split("-")[1]))
    for log in logs:
        for line in log.read_bytes().splitlines():
            if line.strip():
                yield json.loads(line)["obj"]


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    if source.path is None or not is_run(source.path):
        raise InputError(source.name, "not a Neptune offline run folder (run__*/metadata.json)")
    points = Points()
    logged = Counter()  # a point without a step comes after the last of its series
    for operation in _operations(source.path):
        if operation.get("type") != "LogFloats":
            continue
        name = "/".join(operation["path"])
        for point in operation.get("values", []):
            value = number(point.get("value"))
            if value is None:
                continue
            step = point.get("step")
            logged[name] = int(step) + 1 if step is not None else logged[name] + 1
            points.add(name, logged[name] - 1, value, point.get("ts", np.nan))
    return points.frame()
