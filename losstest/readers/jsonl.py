"""JSON Lines / NDJSON: one JSON object per line, as most training scripts write metrics."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson

from ..errors import InputError
from ..frame import from_columns
from ._json import number_or_text
from ._json_keys import BOOL, NULL, NUMBER, STRING, census
from ._table import columns_of, flatten, frame_from_table
from .limits import check_depth, check_record_keys
from .options import DEFAULT, ReadOptions
from .source import GZIP_MAGIC, Source

NAME = "jsonl"
BLOCK_SIZE = 32 << 20
HEAD = 4096
# Files this large are parsed by duckdb, told every key by a compiled scan (see `_fast_table`):
# half pyarrow's CPU time at 800 MB. At 80 MB the two cost the same (importing duckdb and
# numba, ~0.6 s, eats the saving); bench/TABULAR.md has the figures.
FAST_FROM = 128 << 20
TAIL = 1 << 16


def _first_lines(head: bytes, count: int) -> list[bytes]:
    return [line.strip() for line in head.splitlines() if line.strip()][:count]


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    lines = _first_lines(source.head(), 2)
    if not lines or not lines[0].startswith(b"{"):
        return False
    check_depth(lines[0], source.name)
    try:
        return isinstance(json.loads(lines[0]), dict)
    except ValueError:
        return False


def complete_records(data: bytes) -> bytes:
    """Drop a partial last line (a log still being written); keep a complete one."""
    cut = data.rfind(b"\n") + 1
    tail = data[cut:].strip()
    if not tail:
        return data
    try:
        json.loads(tail)
        return data
    except ValueError:
        return data[:cut]


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    path = _plain_file(source)
    if path is not None:
        try:
            return frame_from_table(_fast_table(path), step=options.step)
        except _Unsuited:
            pass
    data = complete_records(source.data())
    if not data[:HEAD].strip() and not data.strip():
        raise InputError(source.name, "no complete JSON record")
    check_depth(data, source.name, per_line=True)
    check_record_keys(data, source.name)
    try:
        table = pajson.read_json(
            pa.BufferReader(data), read_options=pajson.ReadOptions(block_size=BLOCK_SIZE)
        )
    except pa.ArrowInvalid:
        return _read_slowly(source, data, options.step)  # mixed types in a key, quoted numbers
    return frame_from_table(flatten(table), run="", step=options.step)


def _plain_file(source: Source) -> str | None:
    """The path of a large, uncompressed file whose last line is complete; else None."""
    path = source.local_file()  # content handed in (what watch read) is what counts
    if path is None or path.stat().st_size < FAST_FROM:
        return None
    with open(path, "rb") as f:
        if f.read(2) == GZIP_MAGIC:
            return None
        f.seek(max(path.stat().st_size - TAIL, 0))
        tail = f.read()
    return str(path) if complete_records(tail) == tail else None


class _Unsuited(Exception):
    """A file the fast path leaves to the general reader."""


def _fast_table(path: str) -> pa.Table:
    """The file as an Arrow table through duckdb. Raises _Unsuited where the general reader
    must read it: keys nested, escaped, not UTF-8 or differing only in case; a key holding
    values of different kinds (those go record by record); anything duckdb refuses."""
    import duckdb  # only for large files

    found = census(path)
    if found.flags:
        raise _Unsuited
    types = {NUMBER: "DOUBLE", STRING: "VARCHAR"}
    columns = {}
    for key, kinds in found.kinds.items():
        if kinds & ~NULL in (0, BOOL):
            continue  # never a metric value: no column, as for the general reader
        if kinds & ~NULL not in types:
            raise _Unsuited
        try:
            columns[key.decode()] = types[kinds & ~NULL]
        except UnicodeDecodeError as e:
            raise _Unsuited from e
    if not columns or len({name.lower() for name in columns}) < len(columns):
        raise _Unsuited
    connection = duckdb.connect()
    try:
        connection.execute("SET enable_progress_bar = false")
        table = connection.read_json(
            path, columns=columns, format="newline_delimited"
        ).to_arrow_table()
    except duckdb.Error as e:
        raise _Unsuited from e
    finally:
        connection.close()  # its buffers go back before the frame is built
    if table.num_rows != found.objects:
        raise _Unsuited
    return table


def flat_record(record: dict, prefix: str = "") -> dict:
    """Nested keys joined with dots (`{"train": {"loss": 1}}` is `train.loss`)."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(flat_record(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def _read_slowly(source: Source, data: bytes, step: str | None) -> pd.DataFrame:
    """Record by record, for files the columnar parser refuses; says which line is bad."""
    rows = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise InputError(source.name, f"line {number} is not valid JSON ({e.msg})") from e
        if not isinstance(record, dict):
            raise InputError(source.name, f"line {number} is not a JSON object")
        rows.append(flat_record(record))
    return from_columns(columns_of(rows, number_or_text), step_name=step)
