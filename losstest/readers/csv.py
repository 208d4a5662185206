"""CSV and TSV: pandas/Lightning/Keras CSVLogger/W&B-style tables with a header row."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import InputError
from ._table import frame_from_table
from .limits import check_columns
from .options import DEFAULT, ReadOptions
from .source import GZIP_MAGIC, Source

NAME = "csv"
DELIMITERS = (",", "\t", ";", "|")
# Missing cells. `nan`/`inf` are not here: they are real values of a broken loss.
# A header names its columns: a first row of numbers and times (`05:16:20,348 - INFO - ...`,
# a logging prefix's comma) is no table's.
HEADER_CELL = re.compile(r"\s*[\"']?[A-Za-z_]")
NULLS = ["", "NA", "N/A", "n/a", "null", "NULL", "None", "none", "-"]
FIRST_BLOCK = pacsv.ReadOptions().block_size  # the rows pyarrow infers a column's type from


def _rows(text: str, delimiter: str, count: int) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.strip()][:count]
    return list(csv.reader(lines, delimiter=delimiter))


def delimiter_of(head: bytes) -> str | None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if text.lstrip().startswith(("{", "[")):
        return None
    for delimiter in DELIMITERS:
        rows = _rows(text, delimiter, 6)[:-1] or _rows(text, delimiter, 6)
        same = len(rows) >= 1 and len(rows[0]) >= 2 and all(len(r) == len(rows[0]) for r in rows)
        if same and any(HEADER_CELL.match(cell) for cell in rows[0]):
            return delimiter
    return None


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return delimiter_of(source.head()) is not None


def complete_records(data: bytes, delimiter: str) -> bytes:
    """Drop a last line cut short while being written (fewer fields than the header)."""
    if data.endswith((b"\n", b"\r")):
        return data
    cut = data.rfind(b"\n") + 1
    header = next(
        csv.reader([data[: data.find(b"\n")].decode("utf-8", "replace")], delimiter=delimiter)
    )
    last = next(csv.reader([data[cut:].decode("utf-8", "replace")], delimiter=delimiter), [])
    return data + b"\n" if len(last) == len(header) else data[:cut]


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    return frame_from_table(read_table(source), run="", step=options.step)


def _whole_file(source: Source) -> str | None:
    """The path of an uncompressed file ending in a line break: pyarrow reads it itself, in
    blocks on all cores, and its bytes never sit in memory whole."""
    path = source.local_file()
    if path is None:
        return None  # content handed in (what watch read) is what counts; a URL is fetched
    with open(path, "rb") as f:
        if f.read(2) == GZIP_MAGIC:
            return None
        f.seek(-1, 2)
        return str(path) if f.read(1) in (b"\n", b"\r") else None


def read_table(source: Source) -> pa.Table:
    """The file as an Arrow table: numbers typed, missing cells null, `nan`/`inf` values."""
    delimiter = delimiter_of(source.head())
    if delimiter is None:
        raise InputError(source.name, "no header row with two or more columns")
    head = source.head()
    check_columns(head if b"\n" in head else source.data(), delimiter, source.name)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    convert = pacsv.ConvertOptions(null_values=NULLS, strings_can_be_null=True)
    path = _whole_file(source)
    content = path if path is not None else complete_records(source.data(), delimiter)
    typed = _typed(content, parse, convert)
    for options in (convert,) if typed is None else (typed, convert):
        try:
            return pacsv.read_csv(
                content if path is not None else pa.BufferReader(content),
                parse_options=parse, convert_options=options,
            )  # fmt: skip
        except pa.ArrowInvalid:
            continue
    return _read_as_text(source, complete_records(source.data(), delimiter), delimiter)


def _typed(
    content: str | bytes, parse: pacsv.ParseOptions, convert: pacsv.ConvertOptions
) -> pacsv.ConvertOptions | None:
    """`convert` with the column types pyarrow infers from its first block, for a file longer
    than one. Given up front, they spare pyarrow inferring them over the whole file: the same
    table at half the CPU time and memory (bench/SPEED.md). A column empty in the first block
    is read as numbers; where a later cell does not fit its column (a float or a word in a
    column of integers), the file is read again, inferring as before.
    """
    if isinstance(content, str):
        with open(content, "rb") as f:
            head = f.read(FIRST_BLOCK + 1)
    else:
        head = content[: FIRST_BLOCK + 1]
    if len(head) <= FIRST_BLOCK or b"\n" not in head:
        return None
    head = head[: head.rfind(b"\n") + 1]
    try:
        first = pacsv.read_csv(pa.BufferReader(head), parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid:
        return None
    if len(set(first.column_names)) < first.num_columns:
        return None  # types are given by name
    types = {f.name: pa.float64() if pa.types.is_null(f.type) else f.type for f in first.schema}
    return pacsv.ConvertOptions(
        null_values=convert.null_values, strings_can_be_null=True, column_types=types
    )


def _read_as_text(source: Source, data: bytes, delimiter: str) -> pa.Table:
    """Every column as text, for files whose types change past the first block or rows vary."""
    check_columns(data, delimiter, source.name, every_row=True)
    try:
        frame = pd.read_csv(
            io.BytesIO(data), sep=delimiter, dtype=str, keep_default_na=False,
            on_bad_lines="error", engine="c",
        )  # fmt: skip
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise InputError(source.name, f"not a readable CSV table ({str(e).splitlines()[0]})") from e
    # The whole table at once, as Arrow strings: a fixed-width NumPy array of text would take
    # cells x the longest cell (a 4 KB gzip of one long cell took 700 MB), and pandas' mask a
    # millisecond a column (2,000 columns: 3 s).
    cells = frame.to_numpy(dtype=object)
    text = pa.array(cells.ravel(), pa.string())
    missing = pc.is_in(pc.utf8_trim_whitespace(text), value_set=pa.array(NULLS))
    cells[missing.to_numpy(zero_copy_only=False).reshape(cells.shape)] = None
    columns = [pa.array(cells[:, i], pa.string()) for i in range(cells.shape[1])]
    return pa.table(columns, names=[str(name) for name in frame.columns])
