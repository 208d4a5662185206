"""Tables with one value a row (tests/data/exports, written from real runs by the tools people
export with: see its SOURCES.md): each read as the run it was exported from."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import losstest
from losstest import readers

from .conftest import DATA
from .test_readers_formats import format_of

EXPORTS = DATA / "exports"
EVENTS = DATA / "realruns_tb" / "overfitting"


def curve(frame: pd.DataFrame, metric: str) -> pd.Series:
    rows = frame[frame["metric"] == metric]
    return pd.Series(rows["value"].to_numpy(), index=rows["step"].to_numpy())


@pytest.mark.parametrize(
    "export, original, metrics",
    [
        ("tbparse_scalars.csv", EVENTS, {"loss/train": "loss/train", "loss/val": "loss/val"}),
        (
            "melted_metrics.csv",
            DATA / "corpus/dl-fundamentals/6.7-dropout/version_1/metrics.csv",
            {"train_loss": "train_loss", "val_loss": "val_loss"},
        ),
        ("losstest_frame.csv", DATA / "realruns/spikes.jsonl", {"loss": "loss", "val_loss": "val_loss"}),
        ("tensorboard_download", EVENTS, {"loss_train": "loss/train", "loss_val": "loss/val"}),
    ],
)  # fmt: skip
def test_an_export_is_read_as_the_run_it_came_from(export, original, metrics):
    assert format_of(EXPORTS / export) == "tidy-csv"
    exported, source = losstest.load(EXPORTS / export), losstest.load(original)
    for name, original_name in metrics.items():
        got, want = curve(exported, name), curve(source, original_name)
        assert len(got) >= 0.6 * len(want)  # TensorBoard's download keeps 1,000 of 1,500
        np.testing.assert_array_equal(got.to_numpy(), want.loc[got.index].to_numpy())
    (run,) = losstest.analyze(EXPORTS / export).runs
    (then,) = losstest.analyze(original).runs
    assert run.verdict == then.verdict
    assert [f.kind for f in run.findings] == [f.kind for f in then.findings]


def test_a_tensorboard_download_takes_its_run_and_metric_from_the_file_name():
    frame = losstest.load(EXPORTS / "tensorboard_download/run-overfitting-tag-loss_train.csv")
    assert set(frame["run"]) == {"overfitting"} and set(frame["metric"]) == {"loss_train"}
    assert frame["wall_time"].notna().all()


def test_downloads_of_two_runs_in_one_folder_are_two_runs(tmp_path):
    for run in ("a", "b"):
        for chart in (EXPORTS / "tensorboard_download").iterdir():
            shutil.copy(chart, tmp_path / chart.name.replace("run-overfitting", f"run-{run}"))
    runs = losstest.analyze(tmp_path).runs
    assert sorted(r.run for r in runs) == ["a", "b"]
    assert all([f.kind for f in r.findings] == ["overfitting"] for r in runs)


def test_a_download_named_otherwise_is_named_by_its_file(tmp_path):
    chart = tmp_path / "train_loss.csv"
    shutil.copy(EXPORTS / "tensorboard_download/run-overfitting-tag-loss_train.csv", chart)
    assert set(losstest.load(chart)["metric"]) == {"train_loss"}


def test_a_wide_table_with_a_value_column_stays_wide(tmp_path):
    table = tmp_path / "wide.csv"
    table.write_text("step,value,loss\n0,1.0,2.0\n1,1.5,1.9\n")
    assert set(losstest.load(table)["metric"]) == {"value", "loss"}


def test_rows_without_a_step_are_left_out_and_runs_kept_apart(tmp_path):
    table = tmp_path / "long.csv"
    table.write_text(
        "run,metric,step,value\na,loss,0,2.0\na,loss,,9.0\nb,loss,0,3.0\nb, loss ,1,nan\n"
    )
    frame = losstest.load(table)
    assert frame[["run", "metric", "step"]].astype(str).values.tolist() == [
        ["a", "loss", "0"], ["b", "loss", "0"], ["b", "loss", "1"],
    ]  # fmt: skip
    assert np.isnan(frame["value"].iloc[-1])


def test_a_value_that_is_no_number_is_a_problem_named_by_file(tmp_path):
    table = tmp_path / "long.csv"
    table.write_text("tag,step,value\nloss,0,2.0\nloss,1,high\n")
    with pytest.raises(losstest.InputError, match="long.csv.*'value' is not numeric"):
        losstest.load(table)
    found, errors = readers.discover([str(tmp_path)])
    assert [s.name for s in found] == [str(table)] and errors == []
