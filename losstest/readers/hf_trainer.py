"""Hugging Face Trainer `trainer_state.json`: the `log_history` list.

Train rows carry `loss`, `grad_norm`, `learning_rate`; eval rows `eval_loss` (or
`eval_<set>_loss`) and timings; the last row is a run summary (`train_runtime`, an average
`train_loss`) that is no point of any curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import clean_name, from_columns
from ._json import document, head_has, number
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "hf-trainer"
SUMMARY_KEYS = {"train_runtime", "total_flos"}
NAN_FILTER_HINT = (
    "grad_norm is NaN or infinite at {count} logged steps; the Trainer's logging_nan_inf_filter "
    "(on by default) replaces NaN losses with averages, so the loss may hide NaN steps"
)


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return head_has(source, b'"log_history"')


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    state = document(source)
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise InputError(source.name, "trainer_state.json without a log_history list")
    rows = [r for r in history if isinstance(r, dict) and not SUMMARY_KEYS & r.keys()]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    columns = {}
    for key in keys:
        values = [number(r.get(key)) for r in rows]
        present = np.array([v is not None for v in values], dtype=bool)
        if present.any():
            array = np.array([np.nan if v is None else v for v in values], dtype=float)
            columns[clean_name(key)] = (array, present)
    grad = columns.get("grad_norm")
    if grad is not None:
        count = int((~np.isfinite(grad[0][grad[1]])).sum())
        if count:
            source.warnings.append(f"{source.name}: " + NAN_FILTER_HINT.format(count=count))
    return from_columns(columns, step_name="step" if "step" in columns else None)
