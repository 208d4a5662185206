"""Tables into the canonical frame: Arrow tables (the JSONL and CSV readers) and lists of
records (one dict per logged row: JSON documents, text logs, files read record by record)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frame import Column, clean_name, from_columns
from ._json import number
from .limits import check_cells, check_key_count


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


def _pieces(column: pa.ChunkedArray) -> list[Column]:
    """The chunks as NumPy without a copy: the values buffer as it is (what lies under a
    null is masked out by `present`), `present` None for a chunk without nulls. Signed
    integers stay integers: a step column is then never copied to floats and back, and a
    metric's integers become floats as they are written into the frame."""
    pieces: list[Column] = []
    for chunk in column.chunks:
        if chunk.null_count == 0:
            pieces.append((_signed_or_float(chunk.to_numpy()), None))
            continue
        dtype = np.dtype(chunk.type.to_pandas_dtype())
        buffer = chunk.buffers()[1]
        values = np.frombuffer(buffer, dtype, count=chunk.offset + len(chunk))[chunk.offset :]
        present = pc.is_valid(chunk).to_numpy(zero_copy_only=False)
        pieces.append((_signed_or_float(values), present))
    return pieces


def _signed_or_float(values: np.ndarray) -> np.ndarray:
    return values if values.dtype.kind == "i" else values.astype(np.float64, copy=False)


def frame_from_table(table: pa.Table, *, run: str = "", step: str | None = None) -> pd.DataFrame:
    """The canonical frame of a wide table, read from its chunks in place."""
    table = table.combine_chunks() if len({c.num_chunks for c in table.columns}) > 1 else table
    columns: dict[str, list[Column]] = {}
    for name in table.column_names:
        numeric = _numeric(table.column(name))
        key = clean_name(name)
        if numeric is None or numeric.null_count == len(numeric) or key in columns:
            continue
        columns[key] = _pieces(numeric)
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
    number are left out. Each value written is looked at once, never each record for each key
    (one record of 2,000 keys among 20,000 narrow ones took 25 s)."""
    keys = dict.fromkeys(k for record in records for k in record)
    check_key_count(len(keys))  # the columns hold records x keys cells
    found: dict[Any, tuple[list[int], list[float]]] = {key: ([], []) for key in keys}
    for row, record in enumerate(records):
        for key, value in record.items():
            if (converted := to_number(value)) is not None:
                rows, values = found[key]
                rows.append(row)
                values.append(converted)
    check_cells(len(keys), len(records), sum(len(rows) for rows, _ in found.values()))
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, (rows, values) in found.items():
        name = clean_name(key)
        if rows and name not in columns:
            array, present = np.full(len(records), np.nan), np.zeros(len(records), dtype=bool)
            array[rows], present[rows] = values, True
            columns[name] = (array, present)
    return columns
