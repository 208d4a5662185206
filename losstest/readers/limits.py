"""How far a reader goes into a file before calling it a problem rather than exhausting time or
memory: decompressed size, line length, nesting depth, keys per record. Each is raised with an
environment variable (`LOSSTEST_MAX_DECOMPRESSED_MB`, `LOSSTEST_MAX_LINE_MB`,
`LOSSTEST_MAX_DEPTH`, `LOSSTEST_MAX_KEYS`), read when a file is read."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InputError

MB = 1 << 20
# Bytes every JSON key with its value takes at least (`"k":1,`): a line shorter than
# KEY_BYTES × max_keys cannot hold more keys than allowed.
KEY_BYTES = 4
SAMPLED_LINES = 2000
CELLS_PER_KEY = 10_000  # a mostly empty table may have max keys x this many cells
SPARSE = 100  # cells per value past which a table is mostly empty (a line a metric: ~metrics)
KEY = re.compile(rb'"((?:[^"\\\n]|\\.)*)"\s*:')
# Only brackets and line ends are kept to measure nesting: one pass in C over the content.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b"[]{}\n")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


@dataclass(frozen=True)
class Limits:
    decompressed_mb: int = 256  # a .gz inflating past this is a problem, not a swap storm
    line_mb: int = 16  # the longest line of a text log
    depth: int = 100  # JSON nesting; training logs nest two or three levels
    keys: int = 2_000  # keys of a JSON record, distinct keys of a JSONL file, columns of a table

    @property
    def decompressed_bytes(self) -> int:
        return self.decompressed_mb * MB


ENV = {
    "decompressed_mb": "LOSSTEST_MAX_DECOMPRESSED_MB",
    "line_mb": "LOSSTEST_MAX_LINE_MB",
    "depth": "LOSSTEST_MAX_DEPTH",
    "keys": "LOSSTEST_MAX_KEYS",
}


def limits() -> Limits:
    """The limits in effect: the defaults, raised or lowered by the environment."""
    chosen = {}
    for field, variable in ENV.items():
        text = os.environ.get(variable, "").strip()
        if not text:
            continue
        if not text.isdigit() or int(text) < 1:
            raise ConfigError(f"{variable}={text!r} is not a positive whole number")
        chosen[field] = int(text)
    return Limits(**chosen)


def nesting_depth(data: bytes, *, per_line: bool) -> int:
    """The deepest bracket nesting, brackets inside strings counted too (an upper bound);
    `per_line` starts every line afresh, as JSON Lines records are."""
    structure = data.translate(None, _NOT_STRUCTURE if per_line else _NOT_BRACKETS)
    if not any(pair in structure for pair in (b"{{", b"{[", b"[{", b"[[")):
        return int(b"{" in structure or b"[" in structure)  # no bracket opened inside another
    kept = np.frombuffer(structure, np.uint8)
    is_open, is_close = (kept | 32) == ord("{"), (kept | 32) == ord("}")
    level = np.cumsum(is_open.astype(np.int32) - is_close)
    if per_line:
        line_start = np.maximum.accumulate(np.where(kept == ord("\n"), np.arange(len(kept)), 0))
        level = level - np.where(kept[line_start] == ord("\n"), level[line_start], 0)
    return int(level.max())


def check_depth(data: bytes, name: str, *, per_line: bool = False) -> None:
    allowed = limits().depth
    if nesting_depth(data, per_line=per_line) > allowed:
        raise InputError(name, f"JSON nested deeper than {allowed} levels ({ENV['depth']})")


def check_line_length(data: bytes, name: str) -> None:
    allowed = limits().line_mb * MB
    if len(data) <= allowed:
        return
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    bounds = np.concatenate(([-1], ends, [len(data)]))
    if np.diff(bounds).max() - 1 > allowed:
        raise InputError(name, f"a line longer than {limits().line_mb} MB ({ENV['line_mb']})")


def _sampled_lines(data: bytes, stride: int) -> list[bytes]:
    """Whole lines found every `stride` bytes; a line longer than the stride is always one."""
    lines, offset = [], 0
    while offset < len(data):
        start = data.rfind(b"\n", 0, offset) + 1
        end = data.find(b"\n", offset)
        end = len(data) if end < 0 else end
        lines.append(data[start:end])
        offset = max(offset + stride, end + 1)
    return lines


def check_record_keys(data: bytes, name: str) -> None:
    """JSON Lines whose keys would make the table of rows × keys exhaust memory: a record with
    too many keys, or too many distinct keys over the file. Lines are sampled every
    KEY_BYTES × max keys bytes at most, so no record long enough to break the limit escapes;
    the whole file is counted only when the sample says new keys keep appearing."""
    allowed = limits().keys
    if len(data) <= KEY_BYTES * allowed:
        return
    lines = _sampled_lines(data, min(KEY_BYTES * allowed, max(1, len(data) // SAMPLED_LINES)))
    seen: dict[bytes, int] = {}
    for line in lines:
        keys = set(KEY.findall(line))
        if len(keys) > allowed:
            raise InputError(name, f"a record with more than {allowed} keys ({ENV['keys']})")
        for key in keys:
            seen[key] = seen.get(key, 0) + 1
    rows = len(data) / max(1, sum(map(len, lines)) / len(lines))
    rare = sum(1 for count in seen.values() if count == 1)
    if len(seen) + rare * rows / len(lines) > allowed and len(set(KEY.findall(data))) > allowed:
        raise InputError(name, f"more than {allowed} distinct keys ({ENV['keys']})")
    per_line = sum(seen.values()) / len(lines)
    if len(seen) * rows > allowed * CELLS_PER_KEY and len(seen) > SPARSE * per_line:
        every = KEY.findall(data)  # the sample says mostly empty: counted exactly
        try:
            check_cells(len(set(every)), data.count(b"\n") + 1, len(every))
        except ValueError as e:
            raise InputError(name, str(e)) from None


def check_cells(keys: int, rows: int, values: int) -> None:
    """A table of records that is mostly empty (SPARSE times more cells than values) and has
    more cells, keys x rows, than LOSSTEST_MAX_KEYS x CELLS_PER_KEY: its columns, a cell for
    every record and key, would cost time and memory for nothing (one record of 2,000 keys
    among 90,000 narrow ones: 30 s and 3.5 GB)."""
    allowed = limits().keys * CELLS_PER_KEY
    if keys * rows > max(allowed, SPARSE * values):
        raise ValueError(
            f"{keys} keys over {rows} records, mostly empty: more than {allowed} cells "
            f"({ENV['keys']})"
        )


def check_key_count(count: int) -> None:
    """Distinct keys of the records of a JSON document or a log (their columns hold a cell for
    every record and key): a ValueError, named by the reader that meets it."""
    allowed = limits().keys
    if count > allowed:
        raise ValueError(f"more than {allowed} distinct keys ({ENV['keys']})")


def widest_row(data: bytes, delimiter: str) -> int:
    """Fields of the widest line, counted as delimiters + 1 (an upper bound, as for a header)."""
    content = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(content == ord("\n"))
    fields = np.flatnonzero(content == ord(delimiter))
    return int(np.bincount(np.searchsorted(ends, fields)).max()) + 1 if len(fields) else 1


def check_columns(data: bytes, delimiter: str, name: str, *, every_row: bool = False) -> None:
    """A table's header with more columns than keys allowed (counted as delimiters + 1, an upper
    bound) is refused before the table is parsed; `every_row` looks at each row, since a row
    wider than the header becomes a pandas index of one level per extra field (quadratic)."""
    allowed = limits().keys
    if every_row and widest_row(data, delimiter) > allowed:
        raise InputError(name, f"a row of more than {allowed} columns ({ENV['keys']})")
    end = data.find(b"\n")
    if data[: end if end >= 0 else len(data)].count(delimiter.encode()) + 1 > allowed:
        raise InputError(name, f"a header of more than {allowed} columns ({ENV['keys']})")


def parse_document(data: bytes, name: str) -> object:
    """A whole JSON document, its nesting checked first: deep nesting is refused, never a
    RecursionError."""
    check_depth(data, name)
    return json.loads(data)
