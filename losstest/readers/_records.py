"""Rows and points read one at a time (a text line, a protocol-buffer record, a tracker's
event) into the columns `frame.from_columns` takes, or straight into the frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..frame import long_frame

Columns = dict[str, tuple[np.ndarray, np.ndarray]]


def columns_of(rows: Sequence[dict[str, float]], skip: frozenset[str] = frozenset()) -> Columns:
    """Each key's values in row order (NaN where a row lacks it) and where it was present."""
    keys = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in skip]
    return {
        key: (
            np.array([row.get(key, np.nan) for row in rows], dtype=float),
            np.array([key in row for row in rows], dtype=bool),
        )
        for key in keys
    }


@dataclass
class Points:
    """Values logged one at a time (a tracker's events), each with its metric, step and wall
    time (and epoch, where known): the canonical frame's rows, built once at the end."""

    names: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)

    def add(
        self, name: str, step: int, value: float, time: float = np.nan, epoch: float = np.nan
    ) -> None:
        self.names.append(name)
        self.steps.append(step)
        self.values.append(value)
        self.times.append(time)
        self.epochs.append(epoch)

    def frame(self) -> pd.DataFrame:
        epochs = np.array(self.epochs, dtype=float)
        return long_frame(
            np.array(self.names, dtype=object), np.array(self.steps, dtype=np.int64),
            np.array(self.values, dtype=float), wall_time=np.array(self.times, dtype=float),
            epoch=None if np.isnan(epochs).all() else epochs,
        )  # fmt: skip
