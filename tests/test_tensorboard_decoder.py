"""The fast scalar decoder against the tensorboard package's protobuf classes, value for value,
on every event file the tests have and on files from each kind of writer."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.readers import tensorboard

from .conftest import CORPUS


def by_protobuf(data: bytes) -> list[tuple[str, int, float, float]]:
    starts, ends, _ = tensorboard.records(data)
    rows = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        wall, step, values = tensorboard.decode_protobuf(data[start:end])
        rows += [(tag, step, value, wall) for tag, value in values]
    return rows


def by_fast_decoder(data: bytes) -> list[tuple[str, int, float, float]]:
    frame, _, _ = tensorboard.read_file(data)
    return list(zip(frame["metric"].astype(str), frame["step"].tolist(), frame["value"].tolist(),
                    frame["wall_time"].tolist(), strict=True))  # fmt: skip


def writer_files(tmp_path):
    """Event files from torch's SummaryWriter, with images, histograms, text and negative steps."""
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

    writer = SummaryWriter(str(tmp_path / "torch"))
    rng = np.random.default_rng(0)
    for step in range(-3, 300):
        writer.add_scalar("train/loss", float(rng.random()), step)
        writer.add_scalars("multi", {"a": 1.0 * step, "b": float("nan")}, step)
        if step % 50 == 0:
            writer.add_histogram("weights", rng.standard_normal(100), step)
            writer.add_image("sample", rng.random((3, 4, 4)), step)
            writer.add_text("note", "hello", step)
    writer.add_scalar("a" * 200, 1.0, 10**12)  # a long tag, a step of many varint bytes
    writer.close()
    return sorted(tmp_path.rglob("events.out.tfevents.*"))


CORPUS_FILES = sorted(p for p in CORPUS.rglob("events.out.tfevents.*") if p.stat().st_size > 200)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.parent.name + "/" + p.name[-12:])
def test_same_values_as_protobuf_on_corpus(path):
    data = path.read_bytes()
    expected = by_protobuf(data)
    got = by_fast_decoder(data)
    assert len(got) == len(expected) > 0
    assert _same(got, expected)


def _same(got, expected) -> bool:
    for (t1, s1, v1, w1), (t2, s2, v2, w2) in zip(got, expected, strict=True):
        assert (t1, s1, w1) == (t2, s2, w2)
        assert v1 == v2 or (np.isnan(v1) and np.isnan(v2))
    return True


def test_same_values_as_protobuf_on_every_writer(tmp_path):
    files = writer_files(tmp_path)
    assert files
    for path in files:
        data = path.read_bytes()
        _same(by_fast_decoder(data), by_protobuf(data))


def test_same_values_as_protobuf_on_the_tensorboard_writer(tmp_path):
    """The tensorboard package's own writer, with scalars, an image and a histogram."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path))
    for step in range(200):
        values = [summary_pb2.Summary.Value(tag="loss", simple_value=3.0 - step / 100),
                  summary_pb2.Summary.Value(tag="lr", simple_value=1e-3)]  # fmt: skip
        if step % 50 == 0:
            values.append(
                summary_pb2.Summary.Value(tag="img", image=summary_pb2.Summary.Image(height=2))
            )
        writer.add_event(
            event_pb2.Event(
                step=step, wall_time=1e9 + step, summary=summary_pb2.Summary(value=values)
            )
        )
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    data = path.read_bytes()
    assert _same(by_fast_decoder(data), by_protobuf(data)) and len(by_protobuf(data)) == 400
