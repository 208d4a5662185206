"""A Comet offline experiment: `<offline_directory>/<experiment key>.zip`, holding
`experiment.json` and `messages.json` (one JSON message per line; `metric_msg` payloads carry
`metricName`, `metricValue`, `step`, `epoch` and a `local_timestamp` in ms)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd

from ._json import number
from ._records import Points
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "comet"
ZIP_MAGIC = b"PK\x03\x04"
MEMBERS = {"experiment.json", "messages.json"}


def _archive(source: Source) -> zipfile.ZipFile | None:
    try:
        archive = zipfile.ZipFile(source.path if source.path else io.BytesIO(source.data()))
    except (zipfile.BadZipFile, OSError):
        return None
    return archive if set(archive.namelist()) >= MEMBERS else None


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return source.head().startswith(ZIP_MAGIC) and _archive(source) is not None


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    archive = _archive(source)
    if archive is None:
        raise ValueError("not a Comet offline experiment (no experiment.json and messages.json)")
    points = Points()
    for line in archive.read("messages.json").splitlines():
        message = json.loads(line) if line.strip() else {}
        payload = message.get("payload", {})
        metric = payload.get("metric") if message.get("type") == "metric_msg" else None
        value = number(metric.get("metricValue")) if metric else None
        if value is not None:
            epoch = metric.get("epoch")
            points.add(
                metric["metricName"], metric.get("step") or 0, value,
                payload.get("local_timestamp", np.nan) / 1000,
                np.nan if epoch is None else epoch,
            )  # fmt: skip
    return points.frame()
