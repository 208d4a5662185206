"""A JSON document of equal-length lists: Keras' `History.history` dump (`{"loss": [...],
"val_loss": [...]}`, one value an epoch), or the same nested one level (`{"epochs": [...],
"metrics": {"loss": [...], "val_loss": [...]}}`). A nested list keeps its own name unless two
share it (`{"train": {"loss": ...}, "val": {"loss": ...}}` gives `train.loss`, `val.loss`)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .. import metric_names
from ..frame import STEP_NAMES, clean_name, from_columns
from ._json import document, number
from ._table import numeric_column
from .limits import check_key_count, limits
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "keras-history"


def _is_series(value: object) -> bool:
    return isinstance(value, list) and bool(value) and number(value[0]) is not None


def _series(doc: object) -> dict[str, list]:
    if not isinstance(doc, dict):
        return {}
    nested = [
        (parent, key, value)
        for parent, inner in doc.items()
        if isinstance(inner, dict)
        for key, value in inner.items()
        if _is_series(value)
    ]
    top = {key: value for key, value in doc.items() if _is_series(value)}
    shared = Counter(key for _, key, _ in nested) + Counter(top.keys())
    named = {key if shared[key] == 1 else f"{parent}.{key}": value for parent, key, value in nested}
    return top | named


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    head = source.head().lstrip()
    if not head.startswith(b"{") or b"[" not in head or b"loss" not in head.lower():
        return False
    try:
        series = _series(document(source))
    except ValueError:
        return False
    if len(series) > limits().keys:
        return True  # read says which limit, rather than choosing among so many names
    counts = {name: len(values) for name, values in series.items()}
    return any(metric_names.choose(counts, split) for split in ("train", "val"))


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    series = _series(document(source))
    check_key_count(len(series))  # one column each, as long as the longest
    length = max(len(v) for v in series.values())
    step = next((k for k in series if k.lower() in (*STEP_NAMES, "epochs")), None)
    columns = {}
    if step is None:
        step = "epoch"
        columns[step] = (np.arange(length, dtype=float), np.ones(length, dtype=bool))
    for key, values in series.items():
        numbers = [number(x) for x in values] + [None] * (length - len(values))
        columns[clean_name(key)] = numeric_column(numbers)
    return from_columns(columns, step_name=step)
