"""Testing the loss while it trains: the online Monitor and `losstest watch`."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from typer.testing import CliRunner

import losstest
from losstest.cli import app
from losstest.monitor import Monitor
from losstest.watch import Follower, Watch

from .conftest import DATA, healthy_curve

REAL = ["healthy", "noisy", "slow", "resumed", "nan", "late_divergence", "spikes", "oscillation",
        "plateau", "frozen", "overfitting"]  # fmt: skip
runner = CliRunner()


def feed(monitor: Monitor, path) -> dict[tuple, int]:
    """Every record of a log, in order; returns the step at which each finding appeared."""
    appeared = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        step = record.pop("step")
        for finding in monitor.update(step, **record):
            appeared[(finding.kind, finding.metric)] = step
    return appeared


@pytest.mark.parametrize("name", REAL)
def test_monitor_finds_what_analyze_finds_on_real_runs(name):
    path = DATA / "realruns" / f"{name}.jsonl"
    monitor = Monitor()
    appeared = feed(monitor, path)
    final = monitor.report().runs[0]
    batch = losstest.analyze(path).runs[0]
    key = lambda f: (f.kind, f.metric, f.start_step, f.end_step)  # noqa: E731
    assert sorted(map(key, final.findings)) == sorted(map(key, batch.findings))
    assert {f.kind for f in monitor.findings} >= {f.kind for f in batch.findings}
    length = batch.last_step
    for f in batch.findings:  # each appeared while training, soon after the data showed it
        if (f.kind, f.metric) in appeared and f.kind != "spike":
            # an oscillation shows only once it has swung three times
            bound = 0.45 * length if f.kind == "oscillation" else 0.2 * length + 100
            assert appeared[(f.kind, f.metric)] - f.start_step <= bound


def test_monitor_nan_is_immediate_and_verdict_follows():
    monitor = Monitor()
    for step, loss in enumerate(healthy_curve(300)):
        assert monitor.update(step, loss=loss, lr=1e-3) == []
    new = monitor.update(300, loss=float("nan"))
    assert [f.kind for f in new] == ["nan"] and monitor.verdict == "fail"
    assert monitor.update(301, loss=float("nan")) == []  # reported once


def test_monitor_memory_is_bounded_and_updates_are_cheap():
    monitor = Monitor(max_points=2000)
    loss = healthy_curve(50_000, 0.05)
    start = time.perf_counter()
    for step, value in enumerate(loss):
        monitor.update(step, loss=value)
    per_update = (time.perf_counter() - start) / len(loss)
    assert len(monitor._series["loss"].value) < 2000
    assert per_update < 0.002  # a loose bound here; make bench measures it
    assert monitor.report().runs[0].verdict == "pass"


def write_lines(path, lines, mode="a"):
    with open(path, mode) as f:
        f.write(lines)


def test_follower_reads_only_what_was_appended(tmp_path):
    path = tmp_path / "metrics.jsonl"
    follower = Follower(path)
    assert follower.poll() == []  # not there yet
    write_lines(path, '{"step": 0, "loss": 3.0}\n{"step": 1, "lo', "w")
    assert follower.poll() == [(0, {"loss": 3.0})]
    write_lines(path, 'ss": 2.9}\n{"step": 2, "loss": 2.8}\n')
    assert follower.poll() == [(1, {"loss": 2.9}), (2, {"loss": 2.8})]
    assert follower.poll() == []
    write_lines(path, '{"step": 0, "loss": 5.0}\n', "w")  # replaced by a new run
    assert follower.poll() == [(0, {"loss": 5.0})] and follower.restarted


def test_follower_csv_keeps_the_header(tmp_path):
    path = tmp_path / "metrics.csv"
    follower = Follower(path)
    write_lines(path, "step,loss,val_loss\n0,3.0,\n", "w")
    assert follower.poll() == [(0, {"loss": 3.0})]
    write_lines(path, "1,2.5,2.7\n")
    assert follower.poll() == [(1, {"loss": 2.5, "val_loss": 2.7})]


def test_follower_tensorboard_and_trainer_state(tmp_path):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path / "tb"))
    follower = Follower(tmp_path / "tb")

    def scalar(step, value):
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="loss", simple_value=value)]
        )
        writer.add_event(event_pb2.Event(step=step, wall_time=1e9 + step, summary=summary))
        writer.flush()

    scalar(0, 3.0)
    assert follower.poll() == [(0, {"loss": 3.0})]
    scalar(1, 2.5)
    scalar(2, 2.0)
    assert follower.poll() == [(1, {"loss": 2.5}), (2, {"loss": 2.0})]
    writer.close()
    state = tmp_path / "trainer_state.json"
    state.write_text(json.dumps({"log_history": [{"step": 10, "loss": 2.0}]}))
    follower = Follower(state)
    assert follower.poll() == [(10, {"loss": 2.0})]
    state.write_text(
        json.dumps({"log_history": [{"step": 10, "loss": 2.0}, {"step": 20, "loss": 1.8}]})
    )
    assert follower.poll() == [(20, {"loss": 1.8})]


def test_watch_once_and_json_lines():
    result = runner.invoke(app, ["watch", str(DATA / "realruns/nan.jsonl"), "--once", "-f", "json"])
    assert result.exit_code == 1
    first = json.loads(result.stdout.splitlines()[0])
    assert first["kind"] == "nan" and first["step"] == 4
    healthy = runner.invoke(app, ["watch", str(DATA / "realruns/healthy.jsonl"), "--once"])
    assert healthy.exit_code == 0 and "PASS" in healthy.stdout


def test_watch_exits_at_the_first_failure_of_a_log_being_written(tmp_path):
    path = tmp_path / "metrics.jsonl"
    loss = np.r_[healthy_curve(300), [float("nan")] * 50]

    def train():
        time.sleep(0.2)
        for step, value in enumerate(loss):
            write_lines(path, json.dumps({"step": step, "loss": value}) + "\n")
            if step % 50 == 0:
                time.sleep(0.05)

    writer = threading.Thread(target=train)
    writer.start()
    result = runner.invoke(app, ["watch", str(path), "--interval", "0.05", "--exit-on", "fail"])
    writer.join()
    assert result.exit_code == 1 and "nan" in result.stdout


def _tensorboard_writer(folder):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))

    def scalar(step, value):
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="loss", simple_value=value)]
        )
        writer.add_event(event_pb2.Event(step=step, wall_time=1e9 + step, summary=summary))
        writer.flush()

    return writer, scalar


@pytest.mark.parametrize("where", ["body", "header"])
def test_follower_warns_about_a_corrupt_record_and_does_not_stall(tmp_path, where):
    writer, scalar = _tensorboard_writer(tmp_path / "tb")
    follower = Follower(tmp_path / "tb")
    for step in range(3):
        scalar(step, 3.0 - step / 10)
    assert [s for s, _ in follower.poll()] == [0, 1, 2]
    (file,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    size = file.stat().st_size
    scalar(3, 2.7)
    scalar(4, 2.6)
    data = bytearray(file.read_bytes())
    data[size + (20 if where == "body" else 9)] ^= 0xFF  # step 3: its body or its header checksum
    file.write_bytes(bytes(data))
    got = follower.poll()
    (warning,) = follower.warnings
    assert str(file) in warning and "checksum" in warning and f"byte {size}" in warning
    if where == "body":  # its length is intact: the records after it are read
        assert [s for s, _ in got] == [4] and "skipped it" in warning
        scalar(5, 2.5)
        follower.warnings.clear()
        assert [s for s, _ in follower.poll()] == [5] and follower.warnings == []
    else:  # its length cannot be trusted: the file is given up, said once
        assert got == [] and "no later record" in warning
        follower.warnings.clear()
        scalar(5, 2.5)
        assert follower.poll() == [] and follower.warnings == []
    writer.close()


def test_watch_prints_the_warning_of_a_corrupt_record(tmp_path):
    writer, scalar = _tensorboard_writer(tmp_path / "tb")
    for step in range(3):
        scalar(step, 3.0)
    writer.close()
    (file,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    data = bytearray(file.read_bytes())
    data[-10] ^= 0xFF
    file.write_bytes(bytes(data))
    result = runner.invoke(app, ["watch", str(tmp_path / "tb"), "--once"])
    assert "losstest: warning:" in result.stderr and "checksum" in result.stderr


def test_follower_starts_over_when_a_file_is_replaced_by_rename(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_lines(path, '{"step": 0, "loss": 3.0}\n{"step": 1, "loss": 2.9}\n', "w")
    follower = Follower(path)
    assert [s for s, _ in follower.poll()] == [0, 1]
    new = tmp_path / "metrics.jsonl.tmp"
    write_lines(new, "".join(f'{{"step": {i}, "loss": {5 - i}}}\n' for i in range(4)), "w")
    new.replace(path)  # a new run, longer than the old one: only the inode tells
    assert [s for s, _ in follower.poll()] == [0, 1, 2, 3] and follower.restarted
    assert follower.poll() == [] and not follower.restarted


def test_follower_csv_log_that_restarts_reads_the_new_header(tmp_path):
    path = tmp_path / "metrics.csv"
    write_lines(path, "step,loss\n0,3.0\n1,2.9\n2,2.8\n", "w")
    follower = Follower(path)
    assert follower.poll() == [(0, {"loss": 3.0}), (1, {"loss": 2.9}), (2, {"loss": 2.8})]
    write_lines(path, "step,train_loss\n0,4.0\n", "w")  # truncated and written anew
    assert follower.poll() == [(0, {"train_loss": 4.0})] and follower.restarted


def test_watch_starts_a_new_history_when_the_log_restarts(tmp_path):
    path = tmp_path / "metrics.jsonl"
    loss = np.r_[healthy_curve(100), [float("nan")]]
    write_lines(
        path, "".join(json.dumps({"step": i, "loss": v}) + "\n" for i, v in enumerate(loss)), "w"
    )
    watch = Watch(path, losstest.Config())
    assert [f.kind for _, f in watch.poll()] == ["nan"]
    write_lines(
        path,
        "".join(json.dumps({"step": i, "loss": v}) + "\n" for i, v in enumerate(healthy_curve(50))),
        "w",
    )
    assert watch.poll() == [] and watch.restarted
    report, _ = watch.finish()
    assert report.runs[0].verdict == "pass" and report.runs[0].steps == 50


def test_follower_tensorboard_run_restarted_into_a_new_event_file(tmp_path):
    """A resumed run writes a new event file beside the old one: its steps are read from 0."""
    writer, scalar = _tensorboard_writer(tmp_path / "tb")
    follower = Follower(tmp_path / "tb")
    for step in range(3):
        scalar(step, 3.0)
    writer.close()
    assert [s for s, _ in follower.poll()] == [0, 1, 2]
    time.sleep(1.1)  # event file names carry the second they were opened
    writer, scalar = _tensorboard_writer(tmp_path / "tb")
    scalar(1, 2.0)
    scalar(2, 1.5)
    assert follower.poll() == [(1, {"loss": 2.0}), (2, {"loss": 1.5})]
    writer.close()
    watch = Watch(tmp_path / "tb", losstest.Config())
    watch.poll()
    report, _ = watch.finish()
    (run,) = report.runs
    assert [f.kind for f in run.findings] == ["short", "restart"] and run.steps == 3
