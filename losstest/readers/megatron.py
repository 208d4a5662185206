"""Megatron-LM golden-values JSON: `{"lm loss": {"start_step", "end_step", "step_interval",
"values": {"1": 10.8, ...}}}`; the string "nan" stands for a step never run and is left out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import long_frame
from ._json import document, head_has, number
from .limits import check_key_count
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "megatron"


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return head_has(source, b'"values"', b'"step_interval"') or head_has(
        source, b'"values"', b'"start_step"'
    )


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    doc = document(source)
    if not isinstance(doc, dict):
        raise InputError(source.name, "not a Megatron golden-values document")
    check_key_count(len(doc))
    metrics, steps, values = [], [], []
    for name, series in doc.items():
        points = series.get("values") if isinstance(series, dict) else None
        if not isinstance(points, dict):
            continue
        for step, value in points.items():
            v = number(value)
            if v is not None and str(step).lstrip("-").isdigit():
                metrics.append(name)
                steps.append(int(step))
                values.append(v)
    return long_frame(np.array(metrics, dtype=object), np.array(steps, dtype=np.int64), values)
