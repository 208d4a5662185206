"""The TensorBoard reader, end to end, against tensorboard's own loader as the oracle.

The oracle is `EventFileLoader` (tensorboard's framing, checksums and protobuf parse, with the
compat layers its data server applies) and TensorBoard's rule for what a scalar is: a value of
a tag whose first metadata names the `scalars` plugin, holding a rank-0 tensor. Nothing of
losstest's reader is used on that side. Every scalar must come out bit-equal, in file order,
through both of losstest's reading paths (event by event, and the compiled scan of large
files), on files with every tag length from 1 to 512 bytes in several orders, on files from
each real writer, on public files of other projects, and on damaged copies.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections import defaultdict
from pathlib import Path

import google_crc32c
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import losstest
from losstest.errors import InputError
from losstest.readers import tensorboard

from .conftest import CORPUS, DATA

Scalars = dict[str, list[tuple[int, int, int]]]  # tag -> (step, wall-time bits, value bits)


def _bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


_ORACLE: dict[bytes, Scalars] = {}


def tensorboard_scalars(path: Path) -> Scalars:
    """The scalars of one event file as TensorBoard shows them, from its own loader (slow:
    remembered by content for the other reading path)."""
    key = hashlib.sha256(path.read_bytes()).digest()
    if key not in _ORACLE:
        _ORACLE[key] = _tensorboard_scalars(path)
    return _ORACLE[key]


def _tensorboard_scalars(path: Path) -> Scalars:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    plugin: dict[str, str] = {}
    found: Scalars = defaultdict(list)
    for event in EventFileLoader(str(path)).Load():
        for value in event.summary.value:
            if value.HasField("metadata"):
                plugin.setdefault(value.tag, value.metadata.plugin_data.plugin_name)
            if plugin.get(value.tag) != "scalars" or value.WhichOneof("value") != "tensor":
                continue
            array = tensor_util.make_ndarray(value.tensor)
            if array.shape == ():
                found[value.tag].append((event.step, _bits(event.wall_time), _bits(float(array))))
    return dict(found)


def losstest_scalars(path: Path) -> Scalars:
    frame = losstest.load(path)
    steps = frame["step"].to_numpy()
    walls = frame["wall_time"].to_numpy().view(np.int64)
    values = frame["value"].to_numpy().view(np.int64)
    found: Scalars = {}
    for tag, rows in frame.groupby("metric", observed=True, sort=False).indices.items():
        found[tag] = list(zip(steps[rows].tolist(), walls[rows].tolist(), values[rows].tolist(),
                              strict=True))  # fmt: skip
    return found


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Files written once for the module, then read through each reading path."""
    cache: dict[str, Path] = {}

    def make(name: str, writer, *args) -> Path:
        if name not in cache:
            cache[name] = writer(tmp_path_factory.mktemp(name.replace(" ", "-")), *args)
        return cache[name]

    return make


# --- files written for the comparison ---------------------------------------------------------


def tag_of_length(length: int, rng: np.random.Generator, unicode: bool) -> str:
    """A tag of exactly `length` UTF-8 bytes; with `unicode`, of 1- to 4-byte characters."""
    characters = ["a", "é", "€", "𝄞"] if unicode else ["a"]
    tag = ""
    while len(tag.encode()) < length:
        room = length - len(tag.encode())
        fitting = [c for c in characters if len(c.encode()) <= room]
        tag += fitting[rng.integers(len(fitting))]
    letters = "abcdefghijklmnopqrstuvwxyz/_"
    return "".join(c if c != "a" else letters[rng.integers(len(letters))] for c in tag)


SPECIAL = [float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 1e-45, 3.4028234663852886e38]


def _tensor_value(tag: str, x: float, form: str, first: bool):
    """A scalar as TF2 writes it: a rank-0 tensor, the `scalars` metadata only the first time."""
    from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2
    from tensorboard.util import tensor_util

    if form == "float32 content":
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", x)
        )
    else:
        tensor = tensor_util.make_tensor_proto(
            np.float64(x) if form == "float64" else np.float32(x)
        )
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if first:
        value.metadata.plugin_data.plugin_name = "scalars"
    return value


def write_tag_sweep(folder: Path, order: str, tensors: bool = False, rounds: int = 2) -> Path:
    """An event file with one tag of every length from 1 to 512 bytes, in the given order,
    spread over events of 1 to 8 values, written by tensorboard's own EventFileWriter."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    rng = np.random.default_rng(len(order) + tensors)
    lengths = np.arange(1, 513)
    if order == "descending":
        lengths = lengths[::-1]
    elif order in ("shuffled", "unicode"):
        lengths = rng.permutation(lengths)
    tags = [tag_of_length(int(n), rng, unicode=order == "unicode") for n in lengths]
    writer = EventFileWriter(str(folder))
    step, seen, forms = -5, set(), ["float32", "float32 content", "float64"]
    for _ in range(rounds):
        at = 0
        while at < len(tags):
            chunk = tags[at : at + int(rng.integers(1, 9))]
            at += len(chunk)
            values = []
            for tag in chunk:
                x = float(np.float32(rng.standard_normal() * 10.0 ** rng.integers(-8, 8)))
                x = SPECIAL[rng.integers(len(SPECIAL))] if rng.random() < 0.05 else x
                if tensors and rng.random() < 0.7:
                    values.append(_tensor_value(tag, x, forms[rng.integers(3)], tag not in seen))
                    seen.add(tag)
                else:
                    values.append(summary_pb2.Summary.Value(tag=tag, simple_value=x))
            step += int(rng.integers(0, 3))
            wall = 1.6e9 + step / 3
            summary = summary_pb2.Summary(value=values)
            writer.add_event(event_pb2.Event(step=step, wall_time=wall, summary=summary))
    writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def write_mixed(folder: Path) -> Path:
    """Scalars among images, histograms, text, graphs and log messages; steps of every varint
    width, negative ones included; a tag written both ways."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    writer = EventFileWriter(str(folder))
    writer.add_event(event_pb2.Event(wall_time=1.0, graph_def=b"\x0a\x03abc"))
    steps = [0, 1, 127, 128, 16383, 16384, 2**31, 2**62, -1, -(2**40), 2**63 - 1, -(2**63)]
    for i, step in enumerate(steps):
        text = summary_pb2.Summary.Value(tag="note", tensor=tensor_util.make_tensor_proto("hi"))
        text.metadata.plugin_data.plugin_name = "text"
        image = summary_pb2.Summary.Value(tag="img", image=summary_pb2.Summary.Image(height=2))
        histo = summary_pb2.Summary.Value(tag="h", histo=summary_pb2.HistogramProto(min=1.0))
        values = [
            image,
            summary_pb2.Summary.Value(tag="loss", simple_value=2.0 - i / 7),
            text,
            histo,
            summary_pb2.Summary.Value(tag="", simple_value=float(i)),  # a tag left empty
            _tensor_value("lr", 1e-3 * i, "float32", first=i == 0),
        ]
        summary = summary_pb2.Summary(value=values)
        writer.add_event(event_pb2.Event(step=step, wall_time=1e9 + i, summary=summary))
        writer.add_event(event_pb2.Event(step=step, wall_time=1e9 + i, file_version="x"))
    writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled", "unicode"])
def test_every_tag_length_as_simple_values(made, reading, order):
    path = made(f"simple {order}", write_tag_sweep, order)
    expected = tensorboard_scalars(path)
    assert len(expected) == 512 and sum(map(len, expected.values())) == 1024
    assert losstest_scalars(path) == expected


@pytest.mark.parametrize("order", ["shuffled", "unicode"])
def test_every_tag_length_as_tensors_and_simple_values(made, reading, order):
    path = made(f"tensors {order}", write_tag_sweep, order, True)
    expected = tensorboard_scalars(path)
    assert len(expected) == 512
    assert losstest_scalars(path) == expected


def test_scalars_among_other_events(made, reading):
    path = made("mixed", write_mixed)
    expected = tensorboard_scalars(path)
    assert sorted(expected) == ["", "loss", "lr"] and len(expected["loss"]) == 12
    assert losstest_scalars(path) == expected


# --- files of real writers ----------------------------------------------------------------


def write_with_torch(folder: Path) -> Path:
    writer = pytest.importorskip("torch.utils.tensorboard").SummaryWriter(str(folder))
    rng = np.random.default_rng(1)
    for step in range(-3, 120):
        writer.add_scalar("train/loss", float(rng.random()), step)
        writer.add_scalar("new/style", float(rng.random()), step, new_style=True)
        writer.add_scalars("pair", {"a": 1.0 * step, "b": float("nan")}, step)
        if step % 40 == 0:
            writer.add_histogram("weights", rng.standard_normal(100), step)
            writer.add_image("sample", rng.random((3, 4, 4)), step)
            writer.add_text("note", "hello", step)
    writer.add_scalar("é" * 200, 1.0, 10**12)  # a long unicode tag, a step of many bytes
    writer.add_hparams({"lr": 0.1}, {"hparam/score": 0.5})
    writer.close()
    return folder


def write_with_tensorboardx(folder: Path) -> Path:
    SummaryWriter = pytest.importorskip("tensorboardX").SummaryWriter
    writer = SummaryWriter(str(folder))
    for step in range(100):
        writer.add_scalar("loss", 3.0 - step / 50, step)
        writer.add_scalar("x" * 300, float(step), step)
        writer.add_scalars("group", {"train": 1.0 / (step + 1), "val": 2.0}, step)
        writer.add_histogram("w", np.arange(10.0) * step, step)
    writer.close()
    return folder


def write_with_lightning(folder: Path) -> Path:
    """Lightning's logger as its Trainer calls it: metrics of long names, `epoch` logged last
    (the shape that once made the scan read past its buffer), a dict of values (written with
    add_scalars), hyperparameters at the end."""
    loggers = pytest.importorskip("lightning.pytorch.loggers")
    logger = loggers.TensorBoardLogger(str(folder), name="lightning_logs")
    for step in range(150):
        metrics = {"train/cross_entropy_loss_of_the_language_model": 4.0 - step / 60}
        if step % 30 == 29:
            metrics["validation/cross_entropy_loss_of_the_model"] = 4.1 - step / 70
        metrics["lr"] = {"decoder": 1e-3 / (step + 1), "encoder": 2e-3}  # add_scalars' folders
        logger.log_metrics({**metrics, "epoch": step // 30}, step)
    logger.log_hyperparams({"lr": 3e-4, "layers": 2}, {"hp_metric": 1.5})
    logger.finalize("success")
    return folder


@pytest.mark.parametrize("write", [write_with_torch, write_with_tensorboardx, write_with_lightning])
def test_files_of_real_writers(made, reading, write):
    files = sorted(made(write.__name__, write).rglob("events.out.tfevents.*"))
    assert len(files) >= 3  # the run, and add_scalars' folder per series
    for path in files:
        expected = tensorboard_scalars(path)
        if expected:
            assert losstest_scalars(path) == expected, path


PUBLIC = sorted(
    p
    for folder in (DATA / "tensorboard", DATA / "public_events", CORPUS)
    for p in folder.rglob("*tfevents*")  # events.out.tfevents.*, and an older name.tfevents
    if not p.read_bytes().startswith(b"version https://git-lfs")
)


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.parent.name + "/" + p.name[-14:])
def test_public_event_files(reading, path):
    expected = tensorboard_scalars(path)
    assert expected
    assert losstest_scalars(path) == expected


# --- damage --------------------------------------------------------------------------------


def damaged_copies(data: bytes, count: int, seed: int) -> list[tuple[str, bytes]]:
    """Cut-off copies and copies with one byte changed, at random places."""
    rng = np.random.default_rng(seed)
    copies = [(f"cut at {n}", data[:n]) for n in rng.integers(1, len(data), count)]
    for at in rng.integers(0, len(data), count):
        changed = bytearray(data)
        changed[at] ^= 1 << int(rng.integers(8))
        copies.append((f"bit flipped at {at}", bytes(changed)))
    return copies


def record_ends(data: bytes) -> set[int]:
    """Where each record of an intact file ends, from the lengths alone."""
    ends, pos = {0}, 0
    while pos < len(data):
        pos += 16 + struct.unpack_from("<Q", data, pos)[0]
        ends.add(pos)
    return ends


@pytest.mark.parametrize("seed", [0, 1])
def test_damaged_files_read_what_is_intact_before_the_damage(made, tmp_path, reading, seed):
    source = made("tensors shuffled", write_tag_sweep, "shuffled", True)
    data = source.read_bytes()
    data = data[: max(end for end in record_ends(data) if end <= 6000)]
    path = tmp_path / "events.out.tfevents.1.damaged"
    for what, damaged in damaged_copies(data, 40, seed):
        path.write_bytes(damaged)
        expected = tensorboard_scalars(path)
        if not expected:
            with pytest.raises(InputError):
                losstest.load(path)
            continue
        assert losstest_scalars(path) == expected, what
        warnings: list[str] = []
        losstest.analyze(path, on_error=lambda e: None, on_warning=warnings.append)
        whole_records = len(damaged) in record_ends(data) and data.startswith(damaged)
        assert len(warnings) == (0 if whole_records else 1), what


@pytest.mark.skipif(not os.environ.get("LOSSTEST_SLOW"), reason="long sweep: LOSSTEST_SLOW=1")
def test_long_sweep_of_damage(made, tmp_path, reading):
    """Many more damaged copies, for a run before a release."""
    source = made("tensors unicode", write_tag_sweep, "unicode", True)
    data = source.read_bytes()
    path = tmp_path / "events.out.tfevents.1.damaged"
    for what, damaged in damaged_copies(data[:40_000], 500, seed=7):
        path.write_bytes(damaged)
        expected = tensorboard_scalars(path)
        if expected:
            assert losstest_scalars(path) == expected, what


# --- event payloads the scan must not misread ---------------------------------------------


def _record(payload: bytes) -> bytes:
    def masked(data: bytes) -> int:
        crc = google_crc32c.value(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    head = struct.pack("<Q", len(payload))
    return head + struct.pack("<I", masked(head)) + payload + struct.pack("<I", masked(payload))


def _payloads(data: bytes) -> list[bytes]:
    ends, out, pos = sorted(record_ends(data)), [], 0
    for end in ends[1:]:
        out.append(data[pos + 12 : end - 4])
        pos = end
    return out


@pytest.mark.parametrize("byte", [0xFF, 0x80, 0xC0, 0xED])
def test_a_tag_that_is_not_utf8_is_an_event_protobuf_refuses(made, byte):
    """A tag is a protobuf `string`: a byte that makes it invalid UTF-8 (here the second of the
    tag's name) makes the event one protobuf cannot parse, and the scan stops there too."""
    payloads = _payloads(made("tensors shuffled", write_tag_sweep, "shuffled", True).read_bytes())
    payload = bytearray(payloads[5])
    at = payload.index(b"/") - 1  # inside the first tag of the event
    payload[at] = byte
    payloads[5] = bytes(payload)
    mangled = b"".join(_record(p) for p in payloads[:40])
    frame, count, damage = tensorboard.read_file(mangled)
    compiled = tensorboard._tfevents
    try:
        tensorboard._tfevents = None
        expected = tensorboard.read_file(mangled)
    finally:
        tensorboard._tfevents = compiled
    assert (count, damage) == expected[1:] and damage is not None
    assert frame["metric"].astype(str).tolist() == expected[0]["metric"].astype(str).tolist()


@settings(max_examples=300, derandomize=True, deadline=None)
@given(data=st.data())
def test_scan_reads_mangled_events_as_protobuf_does(made, data):
    """Events changed inside intact records (checksums made right again): the compiled scan
    must find the same scalars as protobuf, and stop at the same event protobuf cannot parse."""
    source = made("tensors shuffled", write_tag_sweep, "shuffled", True).read_bytes()
    payloads = _payloads(source)[:40]
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(payloads) - 1))
        payload = bytearray(payloads[index])
        at = data.draw(st.integers(0, len(payload)))
        change = data.draw(st.sampled_from(["flip", "cut", "insert", "drop"]))
        if change == "flip" and at < len(payload):
            payload[at] ^= 1 << data.draw(st.integers(0, 7))
        elif change == "cut":
            del payload[at:]
        elif change == "insert":
            payload[at:at] = data.draw(st.binary(min_size=1, max_size=12))
        else:
            del payload[at : at + data.draw(st.integers(1, 12))]
        payloads[index] = bytes(payload)
    mangled = b"".join(_record(p) for p in payloads)
    compiled = tensorboard._tfevents
    assert compiled is not None, "the compiled scan was not built"
    frame, count, damage = tensorboard.read_file(mangled)
    try:
        tensorboard._tfevents = None
        expected, expected_count, expected_damage = tensorboard.read_file(mangled)
    finally:
        tensorboard._tfevents = compiled
    assert (count, damage) == (expected_count, expected_damage)
    assert frame["metric"].astype(str).tolist() == expected["metric"].astype(str).tolist()
    for column in ("step", "value", "wall_time") if count else ():
        assert frame[column].to_numpy().view(np.int64).tolist() == (
            expected[column].to_numpy().view(np.int64).tolist()
        )


def test_an_event_protobuf_cannot_parse_ends_the_file_with_a_warning(made, tmp_path, reading):
    """A record whose checksums hold but whose event is not a protobuf: tensorboard's loader
    raises there; losstest keeps every scalar before it and says where it stopped."""
    payloads = _payloads(made("mixed", write_mixed).read_bytes())
    broken = b"\x0a\xff\xff\xff\xff\x0f"  # a field longer than the event
    path = tmp_path / "events.out.tfevents.1.broken"
    path.write_bytes(b"".join(_record(p) for p in payloads[:9]))
    expected = tensorboard_scalars(path)
    path.write_bytes(b"".join(_record(p) for p in [*payloads[:9], broken, *payloads[9:]]))
    assert losstest_scalars(path) == expected and len(expected["loss"]) == 4
    warnings: list[str] = []
    losstest.analyze(path, on_error=lambda e: None, on_warning=warnings.append)
    offset = sum(len(p) + 16 for p in payloads[:9])
    assert warnings == [f"{path}: an event that is not a valid protobuf at byte {offset}; "
                        "read the 12 scalars before it"]  # fmt: skip


@pytest.mark.parametrize("by_table", [False, True])
def test_checksums_of_the_scan_are_crc32c(by_table):
    """Both ways the scan computes CRC-32C (the crc32 instruction, the table) against
    google-crc32c, on every length from 0 to 300 bytes and a long one."""
    compiled = tensorboard._tfevents
    assert compiled is not None, "the compiled scan was not built"
    data = np.random.default_rng(0).integers(0, 256, 70_000, dtype=np.uint8).tobytes()
    for n in [*range(301), 70_000]:
        crc = google_crc32c.value(data[:n])
        expected = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
        assert compiled.masked_crc(data[:n], by_table) == expected, n
