"""Trackers' local files, written by the real tools (tests/data/trackers, see its SOURCES.md):
DVCLive, Sacred, Ray Tune, W&B offline runs; JSON documents of lists; one MLflow metric file."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

import losstest
from losstest import readers
from losstest.errors import InputError
from losstest.readers import Source, wandb_offline

from .conftest import DATA

TRACKERS = DATA / "trackers"
LOSS_AT_0, LOSS_AT_29 = 2.4, 0.6808449693745642  # make.py: loss_at(0), loss_at(29)


def found(path):
    sources, errors = readers.discover([str(path)])
    assert not errors
    return sources


def metric(frame, name):
    rows = frame[frame["metric"] == name]
    return rows["step"].to_numpy(), rows["value"].to_numpy()


def read_one(path):
    (source,) = found(path)
    frame, name = readers.read(source)
    return frame, name, source


def test_dvclive_folder_is_one_run_named_after_its_project():
    frame, name, source = read_one(TRACKERS / "dvclive_run")
    assert name == "dvclive" and source.run == "dvclive_run"
    assert set(frame["metric"].cat.categories) == {"train/loss", "val/loss", "lr"}
    steps, loss = metric(frame, "train/loss")
    assert list(steps) == list(range(30)) and loss[[0, -1]] == pytest.approx([2.4, LOSS_AT_29])
    again, _ = readers.read(Source("m", TRACKERS / "dvclive_run/dvclive/metrics.json"))
    assert len(again) == len(frame)  # metrics.json given: its folder is read


def test_sacred_metrics_json_each_metric_with_its_own_steps():
    frame, name, source = read_one(TRACKERS / "sacred_runs")
    assert name == "sacred" and source.run == "1"  # the run id folder
    steps, loss = metric(frame, "training.loss")
    assert list(steps) == list(range(30)) and loss[-1] == pytest.approx(LOSS_AT_29)
    assert list(metric(frame, "validation.loss")[0]) == [4, 9, 14, 19, 24, 29]
    assert frame["wall_time"].between(1.7e9, 2.1e9).all()
    (run,) = losstest.analyze(TRACKERS / "sacred_runs").runs
    assert (run.metric, run.val_metric) == ("training.loss", "validation.loss")


def test_ray_tune_trial_is_one_run_from_result_json_stepped_by_training_iteration():
    frame, name, source = read_one(TRACKERS / "ray_results")  # not progress.csv, events, state
    assert name == "ray-tune" and source.path.name == "result.json"
    assert set(frame["metric"].cat.categories) == {"loss", "val_loss"}
    steps, loss = metric(frame, "loss")
    assert list(steps) == list(range(1, 31)) and loss[0] == pytest.approx(LOSS_AT_0)
    (trial,) = (TRACKERS / "ray_results/tune_run").glob("trainable_*")
    table = losstest.load(trial / "progress.csv")  # the same rows as CSV
    np.testing.assert_array_equal(metric(table, "loss")[0], steps)


def test_wandb_offline_run_read_from_its_binary_history():
    pytest.importorskip("wandb")
    frame, name, source = read_one(TRACKERS / "wandb_offline")
    assert name == "wandb" and source.run.startswith("offline-run-")
    steps, loss = metric(frame, "train/loss")
    assert list(steps) == list(range(150)) and loss[0] == pytest.approx(LOSS_AT_0)
    assert list(metric(frame, "val/loss")[0]) == list(range(4, 150, 5))
    assert "_runtime" not in set(frame["metric"].cat.categories)
    assert frame["wall_time"].notna().all() and not source.warnings


def test_wandb_records_span_blocks_and_damage_is_read_around(tmp_path):
    """The file is over one 32 KiB block, so a record is split across two; a cut file keeps
    what is intact before the cut, and says so."""
    pytest.importorskip("wandb")
    (file,) = (TRACKERS / "wandb_offline").rglob("*.wandb")
    data = file.read_bytes()
    payloads, damage = wandb_offline.records(data)
    assert len(data) > wandb_offline.BLOCK and damage is None
    cut = tmp_path / "run-cut.wandb"
    cut.write_bytes(data[: len(data) * 2 // 3])
    source = Source(str(cut), cut)
    frame, _ = readers.read(source)
    steps, _ = metric(frame, "train/loss")
    assert 50 < len(steps) < 150 and list(steps) == list(range(len(steps)))
    assert "a truncated record" in source.warnings[0]
    corrupt = bytearray(data)
    corrupt[len(data) // 2] ^= 0xFF
    assert "a bad checksum" in wandb_offline.records(bytes(corrupt))[1]


def test_wandb_offline_without_the_sdk_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb.proto", None)  # as if wandb were not installed
    (file,) = (TRACKERS / "wandb_offline").rglob("*.wandb")
    with pytest.raises(InputError, match=r"pip install 'losstest\[wandb\]'"):
        readers.read(Source(str(file), file))


@pytest.mark.parametrize(
    "document, expected",
    [
        ('{"epochs": [1, 2, 3], "metrics": {"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2]}}',
         {"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2]}),
        ('{"train": {"loss": [3, 2, 1]}, "val": {"loss": [4, 3, 2]}, "epoch": [1, 2, 3]}',
         {"train.loss": [3, 2, 1], "val.loss": [4, 3, 2]}),
        ('{"loss": [3, 2, 1], "val_loss": [4, 3, NaN]}', {"loss": [3, 2, 1]}),
    ],
)  # fmt: skip
def test_json_document_of_lists_flat_or_nested_one_level(write, document, expected):
    frame, name = readers.read(Source("h", write("history.json", document)))
    assert name == "keras-history"
    for key, values in expected.items():
        steps, got = metric(frame, key)
        assert list(got) == values
        assert list(steps) == ([0, 1, 2] if "NaN" in document else [1, 2, 3])


def test_one_mlflow_metric_file_given_as_the_path():
    (run,) = [p for p in (DATA / "mlflow/mlruns").glob("*/*") if (p / "meta.yaml").is_file()][:1]
    whole = losstest.load(run)
    for file in (p for p in (run / "metrics").rglob("*") if p.is_file()):
        key = file.relative_to(run / "metrics").as_posix()
        frame, name = readers.read(Source(str(file), file))
        assert name == "mlflow" and list(frame["metric"].cat.categories) == [key]
        np.testing.assert_array_equal(metric(frame, key)[1], metric(whole, key)[1])


def test_walk_sniffs_text_logs_whatever_their_suffix_and_rejects_the_rest_cheaply(tmp_path):
    keras = (DATA / "keras_fit/fit_verbose2.out").read_text()
    (tmp_path / "notes.md").write_text("# run 3\n\n```\n" + keras + "```\n")
    (tmp_path / "slurm-4242").write_text(keras)  # a scheduler's stdout, no suffix
    (tmp_path / "README.md").write_text("| step | loss |\n|---|---|\n| 1 | 2.0 |\n| 2 | 1.5 |\n")
    quoting = "Train it.\n\n```\n" + "".join(f"step {i} loss 2.{i}\n" for i in range(4)) + "```\n"
    (tmp_path / "GUIDE.md").write_text(quoting + "Prose about the model.\n" * 40)
    (tmp_path / "LICENSE").write_text("Permission is hereby granted, free of charge, to any\n" * 9)
    rng = np.random.default_rng(0)
    (tmp_path / "weights").write_bytes(rng.bytes(64 << 20))  # 64 MiB, no suffix
    (tmp_path / "corpus").write_text("the quick brown fox, step by step, jumps\n" * 500_000)
    start = time.perf_counter()
    sources = found(tmp_path)
    assert time.perf_counter() - start < 3.0
    assert sorted(s.path.name for s in sources) == ["notes.md", "slurm-4242"]
    frame = losstest.load(tmp_path)
    assert set(frame["run"].cat.categories) == {"notes", "slurm-4242"}
    assert len(metric(frame, "val_loss")[0]) == 24


@pytest.mark.parametrize(
    "folder, format_name, train, val",
    [
        ("comet_offline", "comet", "loss", "val_loss"),
        (".neptune", "neptune", "train/loss", "val/loss"),
        ("clearml_offline", "clearml", "loss/train", "loss/val"),
    ],
)
def test_offline_runs_of_comet_neptune_clearml(folder, format_name, train, val):
    frame, name, _ = read_one(TRACKERS / folder)
    assert name == format_name
    steps, loss = metric(frame, train)
    assert list(steps) == list(range(30)) and loss[[0, -1]] == pytest.approx([2.4, LOSS_AT_29])
    assert list(metric(frame, val)[0]) == [4, 9, 14, 19, 24, 29]
    assert frame["wall_time"].between(1.7e9, 2.1e9).all()
    (run,) = losstest.analyze(TRACKERS / folder).runs
    assert (run.metric, run.val_metric) == (train, val)


def test_every_tracker_folder_is_one_run():
    assert sorted(readers.sniff(s) for s in found(TRACKERS)) == sorted(
        ["clearml", "comet", "dvclive", "neptune", "ray-tune", "sacred", "wandb"]
    )
