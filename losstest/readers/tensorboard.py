"""TensorBoard event files (`events.out.tfevents.*`): every writer's scalars.

A file is a sequence of TFRecords (length, masked CRC-32C of the length, an `Event` protobuf,
masked CRC-32C of the event). Scalars come as `simple_value` (TF1, Keras, PyTorch, tensorboardX)
or as rank-0 tensors of the `scalars` plugin (TF2); images, histograms and graphs are skipped.
A compiled scan (`_tfevents.c`, built with the package) checks the records and decodes both
layouts writers use (`simple_value`, and TF2's rank-0 float tensors), and hands any other event
to the tensorboard package's protobuf classes; where the scan was not built, every event is
decoded by those classes.
Whatever follows damage (a bad length, a bad checksum, a cut-off record, an event protobuf
cannot parse) is left out with a warning, as tensorboard's own reader stops there.
tests/test_tensorboard_oracle.py compares both paths with tensorboard's own loader.
"""

from __future__ import annotations

import struct
from functools import partial
from pathlib import Path

import google_crc32c
import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import concat, empty, long_frame
from .options import DEFAULT, ReadOptions
from .source import LFS_POINTER, LFS_PROBLEM, Source

try:
    from . import _tfevents  # built with the package where a C compiler was at hand
except ImportError:
    _tfevents = None

NAME = "tensorboard"
FILE_MARK = "tfevents"
_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _framed(head: bytes) -> bool:
    if len(head) < 12:
        return False
    length, crc = _HEADER.unpack_from(head)
    return crc == masked_crc(head[:8]) and length < (1 << 31)


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return _framed(source.head()) if not source.files else True


def _truncated(at: int) -> str:
    return f"truncated record at byte {at}"


def _bad_header(at: int) -> str:
    return f"bad record header checksum at byte {at}"


def _bad_checksum(at: int) -> str:
    return f"bad record checksum at byte {at}"


def _undecodable(at: int) -> str:
    return f"an event that is not a valid protobuf at byte {at}"


def records(data: bytes) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Start and end of the payload of every intact record, and what was wrong after the last
    one, if anything: the checks of tensorboard's own reader, in its order."""
    starts, ends, n, pos, damage = [], [], len(data), 0, None
    unpack, crc = _HEADER.unpack_from, _CRC.unpack_from
    while pos < n:
        if n - pos < 12:
            damage = _truncated(pos)
            break
        length, head_crc = unpack(data, pos)
        if masked_crc(data[pos : pos + 8]) != head_crc:
            damage = _bad_header(pos)
            break
        start, end = pos + 12, pos + 12 + length
        if end + 4 > n:
            damage = _truncated(pos)
            break
        if masked_crc(data[start:end]) != crc(data, end)[0]:
            damage = _bad_checksum(pos)
            break
        starts.append(start)
        ends.append(end)
        pos = end + 4
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), damage


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
    """Wall time, step and scalars of one event; DecodeError if protobuf cannot parse it."""
    from tensorboard.compat.proto.event_pb2 import Event

    event = Event.FromString(payload)
    values = [(v.tag, s) for v in event.summary.value if (s := _scalar(v)) is not None]
    return event.wall_time, event.step, values


class _Scalars:
    """Scalars gathered in write order, their tags numbered in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.rows: list[tuple[int, int, float, float]] = []  # (tag code, step, value, wall)

    def add(self, wall: float, step: int, values: list[tuple[str, float]]) -> None:
        for tag, value in values:
            self.rows.append((self.codes.setdefault(tag, len(self.codes)), step, value, wall))


def _protobuf_events(data: bytes, starts, ends, scalars: _Scalars) -> int | None:
    """Decodes events into `scalars`; the index of the first one protobuf cannot parse."""
    from google.protobuf.message import DecodeError

    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        try:
            scalars.add(*decode_protobuf(data[start:end]))
        except DecodeError:
            return index
    return None


def _read_by_protobuf(data: bytes) -> tuple[pd.DataFrame, str | None]:
    starts, ends, damage = records(data)
    scalars = _Scalars()
    broken = _protobuf_events(data, starts.tolist(), ends.tolist(), scalars)
    if broken is not None:
        damage = _undecodable(int(starts[broken]) - 12)
    if not scalars.rows:
        return empty(), damage
    codes, step, value, wall = zip(*scalars.rows, strict=True)
    return _frame(list(scalars.codes), np.array(codes), np.array(step, dtype=np.int64),
                  np.array(value, dtype=np.float64), np.array(wall)), damage  # fmt: skip


def _scan(data: bytes):
    """The compiled scan: arrays of the `simple_value` scalars, the tags as (offset, length)
    rows, the other events as (start, end, scalars before it) rows, and the damage."""
    bound, table_size = len(data) // 7 + 1, 1 << 12
    step, ids = np.empty(bound, dtype=np.int64), np.empty(bound, dtype=np.int64)
    wall, value = np.empty(bound, dtype=np.float64), np.empty(bound, dtype=np.float64)
    others = np.empty((len(data) // 16 + 1, 3), dtype=np.int64)
    while True:  # the table of tags grows with a file of very many tags
        slots = np.full(table_size, -1, dtype=np.int64)
        tags = np.empty((table_size // 2 + 1, 2), dtype=np.int64)
        count, ntags, nothers, ended, at = _tfevents.scan(
            data, step, wall, value, ids, tags, slots, others
        )
        if ended != _tfevents.TOO_MANY_TAGS:
            break
        table_size *= 16
    damage = {
        _tfevents.END: None, _tfevents.TRUNCATED: _truncated,
        _tfevents.HEADER_CHECKSUM: _bad_header, _tfevents.CHECKSUM: _bad_checksum,
    }[ended]  # fmt: skip
    return (step[:count], wall[:count], value[:count], ids[:count], tags[:ntags],
            others[:nothers], damage(at) if damage else None)  # fmt: skip


def _read_compiled(data: bytes) -> tuple[pd.DataFrame, str | None]:
    step, wall, value, ids, tags, others, damage = _scan(data)
    names = [data[a : a + n].decode("utf-8", "replace") for a, n in tags.tolist()]
    codes = {name: i for i, name in enumerate(dict.fromkeys(names))}
    ids = _recoded(names, codes, ids)
    if len(others):  # events of another layout, decoded by protobuf and put in their place
        scalars, before = _Scalars(), []
        scalars.codes = codes
        for start, end, position in others.tolist():
            count = len(scalars.rows)
            if _protobuf_events(data, [start], [end], scalars) is not None:
                damage = _undecodable(start - 12)
                kept = slice(0, position)
                step, wall, value, ids = step[kept], wall[kept], value[kept], ids[kept]
                break
            before += [position] * (len(scalars.rows) - count)
        if scalars.rows:
            added, steps, values, walls = (np.array(c) for c in zip(*scalars.rows, strict=True))
            ids = np.insert(ids, before, added)
            step = np.insert(step, before, steps.astype(np.int64))
            value = np.insert(value, before, values.astype(np.float64))
            wall = np.insert(wall, before, walls.astype(np.float64))
    if not len(value):
        return empty(), damage
    return _frame(list(codes), ids, step, value, wall), damage


def _recoded(names: list[str], codes: dict[str, int], ids: np.ndarray) -> np.ndarray:
    """Tag ids renumbered by name (two byte strings can decode to one name)."""
    remap = np.array([codes[name] for name in names], dtype=np.int64)
    if np.array_equal(remap, np.arange(len(names))):
        return ids
    return remap[ids]


def _frame(names, codes, step, value, wall) -> pd.DataFrame:
    """The frame, its metric categories sorted as every reader's are (tags no event kept,
    when damage cut events off, left out)."""
    used = np.flatnonzero(np.bincount(codes, minlength=len(names)))
    order = sorted(used.tolist(), key=names.__getitem__)
    renumber = np.zeros(len(names), dtype=np.int64)
    renumber[order] = np.arange(len(order))
    metric = pd.Categorical.from_codes(
        renumber[codes], categories=[names[i] for i in order], validate=False
    )
    return long_frame(metric, step, value, wall_time=wall)


def read_file(data: bytes) -> tuple[pd.DataFrame, int, str | None]:
    """The scalars of one event file, in write order; the count read; what was damaged."""
    if _tfevents is not None:
        frame, damage = _read_compiled(data)
    else:
        frame, damage = _read_by_protobuf(data)
    return frame, len(frame), damage


def _content(file: Path) -> bytes:
    """An event file of a folder, decompressed where it is gzip (as any file may be)."""
    return Source(str(file), file).data()


def has_scalars(files: tuple[Path, ...], look_at_most: int = 1 << 20) -> bool:
    """Whether event files hold any scalar; files larger than `look_at_most` together are
    taken to (a folder of hyperparameters or a graph alone is a few kilobytes), and so is a
    file that cannot be read (its run names it)."""
    if sum(f.stat().st_size for f in files) > look_at_most:
        return True
    try:
        return any(read_file(_content(f))[1] for f in files)
    except InputError:
        return True


def _folder_of(file, source: Source) -> str:
    """The subfolder of the run's folder a file lies in ('' when directly in it)."""
    if source.path is None or file.parent == source.path:
        return ""
    return file.parent.relative_to(source.path).as_posix()


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    named = [(str(f), partial(_content, f), _folder_of(f, source)) for f in source.files] or [
        (source.name, source.data, "")
    ]
    frames, problems = [], []
    for name, content, folder in named:  # one file in memory at a time
        try:
            data = content()
        except InputError as e:  # a damaged gzip: the run's other files are still read
            problems.append((name, e.problem, 0))
            continue
        if data.startswith(LFS_POINTER):
            frame, count, damage = empty(), 0, LFS_PROBLEM
        else:
            frame, count, damage = read_file(data)
        del data
        if count and folder:  # a split's subfolder names its metrics, as TensorBoard's runs
            metrics = frame["metric"].cat.categories
            frame["metric"] = frame["metric"].cat.rename_categories(
                [f"{folder}/{m}" for m in metrics]
            )
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
