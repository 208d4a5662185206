"""Points read one at a time (a tracker's events) straight into the canonical frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..frame import long_frame


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
