"""Tables with one value per row: a name column, a step and a value (`step,tag,value` as tbparse
writes them, `step,variable,value` as pandas' `melt`, `run,metric,step,value` as losstest's own
frame), and the CSV
that TensorBoard's "download CSV" writes for one chart: `Wall time,Step,Value`, named
`run-<run>-tag-<tag>.csv`, whose metric (and run) only the file name tells: the downloads of
one run in one folder are read as that run."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..frame import TIME_NAMES, clean_name, concat, long_frame
from . import csv
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "tidy-csv"
NAME_COLUMNS = ("metric", "tag", "key", "name", "series", "metric_name", "variable")
RUN_COLUMNS = ("run", "dir_name", "run_name", "run_id")
DOWNLOAD = re.compile(r"^run[-_](?P<run>.*?)[-_]tag[-_](?P<tag>.+)$")  # TensorBoard's name


def _header(source: Source) -> list[str] | None:
    delimiter = csv.delimiter_of(source.head())
    if delimiter is None:
        return None
    rows = csv._rows(source.head().decode("utf-8", "replace").lstrip("\ufeff"), delimiter, 1)
    return [c.strip().lower() for c in rows[0]] if rows else None


def _find(header: list[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in header), None)


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    header = _header(source)
    if header is None or "value" not in header or "step" not in header:
        return False
    if _find(header, NAME_COLUMNS):
        return True
    return set(header) <= {"step", "value", *TIME_NAMES, "wall time"}  # one chart's download


def downloads(files: list[str]) -> dict[str, list[str]]:
    """TensorBoard's chart downloads among a folder's files, by the run they name."""
    by_run: dict[str, list[str]] = {}
    for file in sorted(files):
        match = DOWNLOAD.match(file.removesuffix(".csv")) if file.endswith(".csv") else None
        if match:
            by_run.setdefault(match["run"], []).append(file)
    return by_run


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    if source.files:  # one run's chart downloads
        return concat([_read_one(Source(name=str(f), path=f)) for f in source.files])
    return _read_one(source)


def _read_one(source: Source) -> pd.DataFrame:
    table = csv.read_table(source)
    lower = {name.strip().lower(): name for name in table.column_names}
    step = _number(table, lower["step"], source)
    value = _number(table, lower["value"], source)
    # a row without a step (or one no integer holds: inf, 1e300) places its value nowhere; an
    # empty cell is no value (a "nan" is)
    placed = np.abs(step) < 2.0**63  # NaN compares false
    keep = placed & table.column(lower["value"]).is_valid().to_numpy(zero_copy_only=False)
    name_column = _find(list(lower), NAME_COLUMNS)
    if name_column is not None:
        metric = _text(table, lower[name_column])
        run_column = _find(list(lower), RUN_COLUMNS)
        run: object = _text(table, lower[run_column]) if run_column else ""
    else:
        stem = source.path.name.split(".")[0] if source.path else "value"
        download = DOWNLOAD.match(stem)
        metric, run = (download["tag"], download["run"]) if download else (stem, "")
    time_column = _find(list(lower), (*TIME_NAMES, "wall time"))
    wall_time = _number(table, lower[time_column], source) if time_column else None
    if not keep.all():
        step, value = step[keep], value[keep]
        wall_time = wall_time[keep] if wall_time is not None else None
        metric = metric if isinstance(metric, str) else metric[keep]
        run = run if isinstance(run, str) else run[keep]  # type: ignore[index]
    return long_frame(metric, step.astype(np.int64), value, run=run, wall_time=wall_time)


def _number(table: pa.Table, name: str, source: Source) -> np.ndarray:
    column = table.column(name)
    try:
        numbers = column if pa.types.is_floating(column.type) else pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InputError(source.name, f"column {name!r} is not numeric") from e
    return numbers.to_numpy(zero_copy_only=False).astype(np.float64)


def _text(table: pa.Table, name: str) -> pd.Categorical:
    """A text column as categories in the order first written: each distinct name cleaned
    once, however many rows."""
    column = pc.cast(table.column(name), pa.string()).fill_null("").combine_chunks()
    encoded = column.dictionary_encode()
    names = [clean_name(x) for x in encoded.dictionary.to_pylist()]
    merged, unique = pd.factorize(np.array(names, dtype=object))  # equal once cleaned
    rows = encoded.indices.to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(merged[rows], categories=list(unique))
