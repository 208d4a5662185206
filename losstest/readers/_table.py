"""Arrow tables (from the JSONL and CSV readers) into the canonical frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frame import clean_name, from_columns


def _numeric(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return column  # true/false are flags, not metric values, as for every reader
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


def _values(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values, present): integers stay integers (steps), nulls are NaN and not present."""
    present = (
        np.ones(len(column), dtype=bool)
        if column.null_count == 0
        else pc.is_valid(column).to_numpy(zero_copy_only=False)
    )
    return column.to_numpy(), present


def frame_from_table(table: pa.Table, *, run: str = "", step: str | None = None) -> pd.DataFrame:
    """The canonical frame of a wide table. Each Arrow column is let go once converted, so a
    table passed as the only reference never lives beside its whole NumPy copy."""
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in table.column_names:
        column = table.column(name)
        table = table.drop_columns([name])
        numeric = _numeric(column)
        del column
        key = clean_name(name)
        if numeric is None or numeric.null_count == len(numeric) or key in columns:
            continue
        columns[key] = _values(numeric)
    if step is not None and step not in columns:
        known = ", ".join(columns)
        raise ValueError(f"no numeric column {step!r} for --step (columns: {known})")
    return from_columns(columns, run=run, step_name=step)
