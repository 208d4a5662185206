"""Sacred's FileStorageObserver `metrics.json` (`<basedir>/<run id>/metrics.json`): each
metric with its own lists, `{"training.loss": {"steps": [...], "values": [...],
"timestamps": ["2024-01-01T10:00:00.123456", ...]}}`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import concat, empty, long_frame
from ._json import document, head_has, number
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "sacred"


def _series(doc: object) -> dict[str, dict]:
    if not isinstance(doc, dict):
        return {}
    return {
        name: series
        for name, series in doc.items()
        if isinstance(series, dict)
        and isinstance(series.get("steps"), list)
        and isinstance(series.get("values"), list)
    }


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    if not head_has(source, b'"steps"', b'"values"'):
        return False
    try:
        return bool(_series(document(source)))
    except ValueError:
        return False


def _seconds(stamps: list) -> np.ndarray | None:
    series = pd.Series(stamps, dtype=object)  # ISO 8601, as Sacred writes them: never guessed
    times = pd.to_datetime(series, errors="coerce", utc=True, format="ISO8601")
    epoch = pd.Timestamp(0, tz="UTC")
    return None if times.isna().all() else ((times - epoch) / pd.Timedelta(seconds=1)).to_numpy()


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    frames = []
    for name, series in _series(document(source)).items():
        numbers = [number(v) for v in series["values"]]
        keep = np.array([v is not None for v in numbers], dtype=bool)
        values = np.array([np.nan if v is None else v for v in numbers], dtype=float)[keep]
        steps = np.array(series["steps"], dtype=np.int64)[keep]
        stamps = series.get("timestamps")
        seconds = (
            _seconds(stamps) if isinstance(stamps, list) and len(stamps) == len(keep) else None
        )
        wall_time = None if seconds is None else seconds[keep]
        frames.append(long_frame(name, steps, values, wall_time=wall_time))
    return concat(frames) if frames else empty()
