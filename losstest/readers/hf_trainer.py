"""Hugging Face Trainer `trainer_state.json`: the `log_history` list.

Train rows carry `loss`, `grad_norm`, `learning_rate`; eval rows `eval_loss` (or
`eval_<set>_loss`) and timings; the last row is a run summary (`train_runtime`, an average
`train_loss`) that is no point of any curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import from_columns
from ._json import document, head_has
from ._table import columns_of
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
    columns = columns_of(rows)
    grad = columns.get("grad_norm")
    if grad is not None:
        count = int((~np.isfinite(grad[0][grad[1]])).sum())
        if count:
            source.warnings.append(f"{source.name}: " + NAN_FILTER_HINT.format(count=count))
    return from_columns(columns, step_name="step" if "step" in columns else None)
