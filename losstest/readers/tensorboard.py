"""TensorBoard event files (`events.out.tfevents.*`): every writer's scalars.

A file is a sequence of TFRecords (length, masked CRC-32C of the length, an `Event` protobuf,
masked CRC-32C of the event). Scalars come as `simple_value` (TF1, Keras, PyTorch, tensorboardX)
or as rank-0 tensors of the `scalars` plugin (TF2); images, histograms and graphs are skipped.
Events in the standard scalar layout (wall_time, step, a summary of `tag` + `simple_value`
values, as every PyTorch, TF1 and Keras writer emits) are decoded directly, which is several
times faster; any other event is decoded with the tensorboard package's protobuf classes.
tests/test_tensorboard_decoder.py compares the two on every event file the tests have.
"""

from __future__ import annotations

import struct

import google_crc32c
import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import concat, empty, long_frame
from .options import DEFAULT, ReadOptions
from .source import LFS_POINTER, LFS_PROBLEM, Source

NAME = "tensorboard"
FILE_MARK = "tfevents"
SUMMARY_FIELD = 0x2A  # field 5 (summary), length-delimited: the only events with scalars
_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")


def masked_crc(data: bytes) -> int:
    return int(_mask(np.array([google_crc32c.value(data)], dtype=np.uint64))[0])


def _mask(crc: np.ndarray) -> np.ndarray:
    """TFRecord's masking of a CRC-32C, for many at once."""
    crc = crc.astype(np.uint64)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _framed(head: bytes) -> bool:
    if len(head) < 12:
        return False
    length, crc = _HEADER.unpack_from(head)
    return crc == masked_crc(head[:8]) and length < (1 << 31)


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return _framed(source.head()) if not source.files else True


def records(data: bytes) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Start and end of the payload of every intact record, and what was wrong after the last
    one, if anything. The walk reads lengths only; checksums are then checked all at once."""
    starts, ends, n, pos, damage = [], [], len(data), 0, None
    unpack = _HEADER.unpack_from
    while pos + 12 <= n:
        end = pos + 12 + unpack(data, pos)[0]
        if end + 4 > n:
            break
        starts.append(pos)
        ends.append(end)
        pos = end + 4
    if pos < n:
        damage = f"truncated record at byte {pos}"
    crc = google_crc32c.value
    head_crc = _mask(np.array([crc(data[p : p + 8]) for p in starts], dtype=np.uint64))
    body_crc = _mask(
        np.array(
            [crc(data[p + 12 : e]) for p, e in zip(starts, ends, strict=True)], dtype=np.uint64
        )
    )
    head, end = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    buf = _padded(data)
    stored_head = _gather(buf, head + 8, 4).view("<u4").ravel()
    stored_body = _gather(buf, end, 4).view("<u4").ravel()
    bad = np.flatnonzero((head_crc != stored_head) | (body_crc != stored_body))
    if len(bad):
        first = int(bad[0])
        which = "header " if head_crc[first] != stored_head[first] else ""
        damage = f"bad record {which}checksum at byte {starts[first]}"
        head, end = head[:first], end[:first]
    return head + 12, end, damage


def _scalar(value) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return value.simple_value
    if kind == "tensor" and value.metadata.plugin_data.plugin_name in ("scalars", ""):
        tensor = value.tensor
        if tensor.tensor_shape.dim:
            return None
        from tensorboard.util import tensor_util  # only for events of another layout

        try:
            array = tensor_util.make_ndarray(tensor)
        except (TypeError, ValueError):
            return None
        return float(array) if array.dtype.kind in "fiub" and array.size == 1 else None
    return None


def decode_protobuf(payload: bytes) -> tuple[float, int, list[tuple[str, float]]]:
    from tensorboard.compat.proto.event_pb2 import Event  # only for events of another layout

    event = Event.FromString(payload)
    values = [(v.tag, s) for v in event.summary.value if (s := _scalar(v)) is not None]
    return event.wall_time, event.step, values


PAD = 16  # zero bytes after the data, so that reading a little past the end is harmless


def _padded(data: bytes) -> np.ndarray:
    return np.concatenate([np.frombuffer(data, dtype=np.uint8), np.zeros(PAD, dtype=np.uint8)])


def _gather(buf: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """`width` bytes from each offset, one row each (uint8)."""
    return buf[np.minimum(at, len(buf) - PAD)[:, None] + np.arange(width)]


def _varints(buf: np.ndarray, at: np.ndarray, width: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varints at each offset: (value, bytes used); bytes used 0 if longer than width."""
    value = np.zeros(len(at), dtype=np.uint64)
    used = np.zeros(len(at), dtype=np.int64)
    going = np.ones(len(at), dtype=bool)
    for k in range(width):
        index = np.flatnonzero(going)
        if not len(index):
            break
        byte = buf[np.minimum(at[index] + k, len(buf) - 1)].astype(np.uint64)
        value[index] |= (byte & 0x7F) << np.uint64(7 * k)
        done = byte < 0x80
        used[index[done]] = k + 1
        going[index[done]] = False
    return value, used


def decode_standard(buf: np.ndarray, start: np.ndarray, end: np.ndarray):
    """Vectorised decode of events in the standard scalar layout: wall_time (field 1), step
    (field 2), then a summary (field 5) of values each holding only `tag` and `simple_value`.

    Returns (ok, maybe_scalars, wall_time, step, slots): `ok` marks the events decoded here,
    `maybe_scalars` those that may hold scalars in another layout (for the protobuf classes);
    `slots` lists, per value position, (event index, tag bytes as rows, value).
    """
    n = len(start)
    ok = (end - start > 11) & (buf[np.minimum(start, len(buf) - 1)] == 0x09)
    wall = _gather(buf, start + 1, 8).view("<f8").ravel().copy()
    pos = start + 9
    has_step = buf[np.minimum(pos, len(buf) - 1)] == 0x10
    step, used = _varints(buf, pos + 1)
    ok &= ~has_step | (used > 0)
    pos = np.where(has_step, pos + 1 + used, pos)
    step = np.where(has_step, step, 0).astype(np.int64)  # two's complement wraps negatives
    summary = buf[np.minimum(pos, len(buf) - 1)] == SUMMARY_FIELD
    ok &= summary
    length, used = _varints(buf, pos + 1, 5)
    pos = pos + 1 + used
    ok &= (used > 0) & (pos + length.astype(np.int64) == end)
    slots = []
    active = ok & (pos < end)
    while active.any():
        at = pos[active]
        vlen, vused = _varints(buf, at + 1, 3)
        inner = at + 1 + vused
        tag_len = buf[np.minimum(inner + 1, len(buf) - 1)].astype(np.int64)
        value_at = inner + 2 + tag_len
        good = (buf[at] == 0x0A) & (vused > 0) & (buf[np.minimum(inner, len(buf) - 1)] == 0x0A)
        good &= (tag_len < 0x80) & (value_at + 5 == inner + vlen.astype(np.int64))
        good &= buf[np.minimum(value_at, len(buf) - 1)] == 0x15
        events = np.flatnonzero(active)
        ok[events[~good]] = False
        events, inner, tag_len, value_at = events[good], inner[good], tag_len[good], value_at[good]
        width = int(tag_len.max()) if len(tag_len) else 0
        tags = _gather(buf, inner + 2, width)
        tags[np.arange(width) >= tag_len[:, None]] = 0
        values = _gather(buf, value_at + 1, 4).view("<f4").ravel()
        slots.append((events, tags, values.astype(np.float64)))
        pos[events] = value_at + 5
        active = np.zeros(n, dtype=bool)
        active[events] = pos[events] < end[events]
    return (
        ok,
        summary | ~(has_step | (buf[np.minimum(start, len(buf) - 1)] == 0x09)),
        wall,
        step,
        slots,
    )


def read_file(data: bytes) -> tuple[pd.DataFrame, int, str | None]:
    """The scalars of one event file, in write order; the count read; what was damaged."""
    start, end, damage = records(data)
    buf = _padded(data)
    if not len(start):
        return empty(), 0, damage
    ok, maybe, wall, step, slots = decode_standard(buf, start, end)
    event_of, slot_of, metric, value, names = [], [], [], [], {}

    def add(events: np.ndarray, slot: int, codes: np.ndarray, values: np.ndarray) -> None:
        event_of.append(events)
        slot_of.append(np.full(len(events), slot))
        metric.append(codes)
        value.append(values)

    for slot, (events, tags, values) in enumerate(slots):
        keep = ok[events]
        events, tags, values = events[keep], tags[keep], values[keep]
        if not len(events):
            continue
        if (tags == tags[0]).all():  # one tag in this position, as a writer repeats it
            unique, inverse = tags[:1].view(f"V{tags.shape[1]}").ravel(), np.zeros(len(tags), int)
        else:
            unique, inverse = np.unique(tags.view(f"V{tags.shape[1]}").ravel(), return_inverse=True)
        labels = [bytes(u).rstrip(b"\0").decode("utf-8", "replace") for u in unique]
        codes = np.array([names.setdefault(label, len(names)) for label in labels], dtype=np.int64)
        add(events, slot, codes[inverse.ravel()], values)
    for e in np.flatnonzero(~ok & maybe):  # any other layout: the protobuf classes
        wall[e], step[e], values = decode_protobuf(data[start[e] : end[e]])
        for slot, (tag, scalar) in enumerate(values):
            add(
                np.array([e]),
                slot,
                np.array([names.setdefault(tag, len(names))]),
                np.array([scalar]),
            )
    if not event_of:
        return empty(), 0, damage
    events_all = np.concatenate(event_of)
    sort = np.lexsort((np.concatenate(slot_of), events_all))  # write order
    events = events_all[sort]
    codes = np.concatenate(metric)[sort]
    frame = long_frame(
        pd.Categorical.from_codes(codes, categories=list(names), validate=False),
        step[events], np.concatenate(value)[sort], wall_time=wall[events],
    )  # fmt: skip
    return frame, len(frame), damage


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    files = source.files or ((source.path,) if source.path else ())
    blobs = (
        [(str(f), f.read_bytes()) for f in files]
        if source.files
        else [(source.name, source.data())]
    )
    frames, problems = [], []
    for name, data in blobs:
        if data.startswith(LFS_POINTER):
            frame, count, damage = empty(), 0, LFS_PROBLEM
        else:
            frame, count, damage = read_file(data)
        if count:
            frames.append(frame)
        if damage:
            problems.append((name, damage, count))
    if not frames:
        if problems:
            name, damage, _ = problems[0]
            raise InputError(name, damage)
        return empty()
    for name, damage, count in problems:
        source.warnings.append(f"{name}: {damage}; read the {count} scalars before it")
    frame = concat(frames)
    if len(frames) > 1:  # several files of one run, merged in wall-time order
        frame = frame.iloc[np.argsort(frame["wall_time"].to_numpy(), kind="stable")]
        frame = frame.reset_index(drop=True)
    return frame
