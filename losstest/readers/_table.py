"""Tables into the canonical frame: Arrow tables (the JSONL and CSV readers) and lists of
records (one dict per logged row: JSON documents, text logs, files read record by record)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frame import clean_name, from_columns
from ._json import number


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


def numeric_column(values: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """(values, present) of a column whose missing cells are None."""
    present = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    array = np.fromiter(
        (np.nan if v is None else v for v in values), dtype=np.float64, count=len(values)
    )
    return array, present


def columns_of(
    records: Sequence[Mapping[str, Any]], to_number: Callable[[Any], float | None] = number
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The numeric columns of records, for `from_columns`: keys in the order first written,
    a value `to_number` makes None (or a key a record lacks) absent; keys that never hold a
    number are left out."""
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key in dict.fromkeys(k for record in records for k in record):
        name = clean_name(key)
        column = numeric_column([to_number(record.get(key)) for record in records])
        if name not in columns and column[1].any():
            columns[name] = column
    return columns
