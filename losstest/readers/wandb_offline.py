"""A W&B offline run: the `run-<id>.wandb` file in `wandb/offline-run-<time>-<id>/`, a log of
protocol-buffer records (LevelDB's log framing: 32 KiB blocks, records split across them)
whose `history` records are the logged rows. The records are decoded with the wandb SDK's own
message classes (`pip install 'losstest[wandb]'`); without it, a one-line error says so."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..frame import from_columns
from ._table import columns_of
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "wandb"
MAGIC = b":W&B"
FILE_HEADER = 7  # ":W&B", a 2-byte magic number, a version byte
BLOCK = 32 * 1024
RECORD_HEADER = 7  # a checksum (4 bytes), the length (2), the kind (1)
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
INTERNAL_KEYS = frozenset({"_runtime"})  # `_step` is the step, `_timestamp` the wall time


def is_run(folder: Path) -> bool:
    return any(folder.glob("run-*.wandb"))


def source(folder: Path) -> Source:
    """`wandb/offline-run-<time>-<id>/`: the run is its `.wandb` file (`files/` holds the
    console output and a summary, no history)."""
    file = sorted(folder.glob("run-*.wandb"))[0]
    return Source(str(file), file, folder.name, format_hint=NAME)


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return source.head().startswith(MAGIC)


def records(data: bytes) -> tuple[list[bytes], str | None]:
    """The payload of each record, and what stopped the reading early: a record cut short (a
    run still being written) or a bad checksum (CRC-32 of the kind byte and the payload)."""
    position, pending, payloads = FILE_HEADER, b"", []
    while position + RECORD_HEADER <= len(data):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < RECORD_HEADER:  # the block's tail is padding
            position += left_in_block
            continue
        checksum = int.from_bytes(data[position : position + 4], "little")
        length = int.from_bytes(data[position + 4 : position + 6], "little")
        kind = data[position + 6]
        start = position + RECORD_HEADER
        chunk, position = data[start : start + length], start + length
        if len(chunk) < length:
            return payloads, f"a truncated record at byte {start - RECORD_HEADER}"
        if zlib.crc32(bytes([kind]) + chunk) != checksum:
            return payloads, f"a bad checksum at byte {start - RECORD_HEADER}"
        if kind == FULL:
            payloads.append(chunk)
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE:
            pending += chunk
        elif kind == LAST:
            payloads.append(pending + chunk)
    return payloads, None


def _record_class(source: Source):
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError as e:
        raise InputError(
            source.name,
            "a W&B offline run (.wandb); reading it needs the wandb package: "
            "pip install 'losstest[wandb]'",
        ) from e
    return wandb_internal_pb2.Record


def _rows(source: Source) -> Iterator[dict[str, float]]:
    record_class = _record_class(source)
    payloads, damage = records(source.data())
    if damage:
        source.warnings.append(
            f"{source.name}: {damage}; read the {len(payloads)} records before it"
        )
    for payload in payloads:
        record = record_class.FromString(payload)
        if record.WhichOneof("record_type") != "history":
            continue
        row = {}
        for item in record.history.item:
            key = "/".join(item.nested_key) or item.key
            value = json.loads(item.value_json)
            if isinstance(value, int | float) and not isinstance(value, bool):
                row[key] = float(value)
        yield row


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    rows = [{k: v for k, v in row.items() if k not in INTERNAL_KEYS} for row in _rows(source)]
    columns = columns_of(rows)
    return from_columns(columns)  # `_step` is found by name
