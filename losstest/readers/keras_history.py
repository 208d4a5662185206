"""A Keras `History.history` dump: `{"loss": [...], "val_loss": [...]}`, one value an epoch."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import clean_name, from_columns
from ._json import document, number
from ._table import numeric_column
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "keras-history"


def _series(doc: object) -> dict[str, list]:
    if not isinstance(doc, dict):
        return {}
    return {k: v for k, v in doc.items() if isinstance(v, list) and v}


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    head = source.head().lstrip()
    if not head.startswith(b"{") or b"[" not in head or b'"loss"' not in head:
        return False
    try:
        series = _series(document(source))
    except ValueError:
        return False
    return "loss" in series and all(number(x) is not None for x in series["loss"][:5])


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    series = _series(document(source))
    length = max(len(v) for v in series.values())
    columns = {"epoch": (np.arange(length, dtype=float), np.ones(length, dtype=bool))}
    for key, values in series.items():
        numbers = [number(x) for x in values] + [None] * (length - len(values))
        columns[clean_name(key)] = numeric_column(numbers)
    return from_columns(columns, step_name="epoch")
