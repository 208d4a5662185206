"""TensorBoard event files (`events.out.tfevents.*`): every writer's scalars.

A file is a sequence of TFRecords (length, masked CRC-32C of the length, an `Event` protobuf,
masked CRC-32C of the event). Scalars come as `simple_value` (TF1, Keras, PyTorch, tensorboardX)
or as rank-0 tensors of the `scalars` plugin (TF2); images, histograms and graphs are skipped.
Events are decoded with the tensorboard package's own protobuf classes.
"""

from __future__ import annotations

import struct

import google_crc32c
import numpy as np
import pandas as pd
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.util import tensor_util

from ..errors import InputError
from ..frame import empty, long_frame
from .source import LFS_POINTER, LFS_PROBLEM, Source

NAME = "tensorboard"
FILE_MARK = "tfevents"
SUMMARY_FIELD = 0x2A  # field 5 (summary), length-delimited: the only events with scalars
_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")


def masked_crc(data: bytes) -> int:
    x = google_crc32c.value(data)
    return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _framed(head: bytes) -> bool:
    if len(head) < 12:
        return False
    length, crc = _HEADER.unpack_from(head)
    return crc == masked_crc(head[:8]) and length < (1 << 31)


def sniff(source: Source) -> bool:
    return _framed(source.head()) if not source.files else True


def records(data: bytes) -> tuple[list[bytes], str | None]:
    """The payload of every intact record, and what was wrong after the last one, if anything."""
    out, pos, n = [], 0, len(data)
    while pos < n:
        if pos + 12 > n:
            return out, f"truncated record at byte {pos}"
        length, crc = _HEADER.unpack_from(data, pos)
        if crc != masked_crc(data[pos : pos + 8]):
            return out, f"bad record header checksum at byte {pos}"
        end = pos + 12 + length
        if end + 4 > n:
            return out, f"truncated record at byte {pos}"
        payload = data[pos + 12 : end]
        if _CRC.unpack_from(data, end)[0] != masked_crc(payload):
            return out, f"bad record checksum at byte {pos}"
        out.append(payload)
        pos = end + 4
    return out, None


def _has_summary(payload: bytes) -> bool:
    """Peek past wall_time (field 1) and step (field 2) at the event's payload field."""
    pos = 9 if payload[:1] == b"\x09" else 0
    if payload[pos : pos + 1] == b"\x10":
        pos += 1
        while payload[pos] & 0x80:
            pos += 1
        pos += 1
    return payload[pos : pos + 1] == bytes([SUMMARY_FIELD])


def _scalar(value) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return value.simple_value
    if kind == "tensor" and value.metadata.plugin_data.plugin_name in ("scalars", ""):
        tensor = value.tensor
        if tensor.tensor_shape.dim:
            return None
        try:
            array = tensor_util.make_ndarray(tensor)
        except (TypeError, ValueError):
            return None
        return float(array) if array.dtype.kind in "fiub" and array.size == 1 else None
    return None


def read_file(data: bytes) -> tuple[list[tuple[str, int, float, float]], str | None]:
    rows = []
    payloads, damage = records(data)
    for payload in payloads:
        if not _has_summary(payload):
            continue
        event = Event.FromString(payload)
        for value in event.summary.value:
            scalar = _scalar(value)
            if scalar is not None:
                rows.append((value.tag, event.step, scalar, event.wall_time))
    return rows, damage


def read(source: Source) -> pd.DataFrame:
    files = source.files or ((source.path,) if source.path else ())
    blobs = [(str(f), f.read_bytes()) for f in files] if source.files else [(source.name, source.data())]
    rows: list[tuple[str, int, float, float]] = []
    problems = []
    for name, data in blobs:
        found, damage = read_file(data) if not data.startswith(LFS_POINTER) else ([], LFS_PROBLEM)
        rows += found
        if damage:
            problems.append((name, damage, len(found)))
    if not rows:
        if problems:
            name, damage, _ = problems[0]
            raise InputError(name, damage)
        return empty()
    for name, damage, count in problems:
        source.warnings.append(f"{name}: {damage}; read the {count} scalars before it")
    tags, steps, values, times = (np.array(c) for c in zip(*rows, strict=True))
    order = np.argsort(times, kind="stable")  # several files of one run, merged in time order
    return long_frame(
        tags[order].astype(object), steps[order], values[order], wall_time=times[order]
    )
