"""Arrow tables (from the JSONL and CSV readers) into the canonical frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frame import clean_name, from_columns


def _numeric(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return column
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:  # quoted numbers: "3.5"
            return pc.cast(pc.utf8_trim_whitespace(column), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    return None


def flatten(table: pa.Table) -> pa.Table:
    """Nested records ({"train": {"loss": 1}}) become `train.loss` columns."""
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def frame_from_table(table: pa.Table, *, run: str = "", step: str | None = None) -> pd.DataFrame:
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        numeric = _numeric(column)
        key = clean_name(name)
        if numeric is None or numeric.null_count == len(numeric) or key in columns:
            continue
        present = pc.is_valid(numeric).to_numpy(zero_copy_only=False)
        values = pc.cast(numeric, pa.float64()).to_numpy(zero_copy_only=False)
        columns[key] = (values, present)
    if step is not None and step not in columns:
        known = ", ".join(columns)
        raise ValueError(f"no numeric column {step!r} for --step (columns: {known})")
    return from_columns(columns, run=run, step_name=step)
