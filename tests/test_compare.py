"""losstest compare on a real learning-rate sweep (bench/realruns/sweep.py: 4 learning rates x
2 seeds of a tiny transformer, in tests/data/sweep)."""

from __future__ import annotations

import csv
import io
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from losstest.cli import app
from losstest.compare import compare
from losstest.hparams import from_name, of_run

from .conftest import DATA

SWEEP = DATA / "sweep"
runner = CliRunner()


@pytest.fixture(scope="module")
def sweep():
    return compare([str(SWEEP)], by=["lr"], jobs=1)


def test_ranking_puts_the_best_learning_rate_first_and_broken_runs_last(sweep):
    ranked = [r.run for r in sweep.runs]
    assert ranked[:2] == ["lr=0.003_seed=0", "lr=0.003_seed=1"]
    assert set(ranked[-2:]) == {"lr=10_seed=0", "lr=10_seed=1"}
    assert sweep.runs[-1].verdict == "fail" and "divergence" in sweep.runs[-1].findings
    assert sweep.rank_by == "best_val_loss"


def test_groups_by_learning_rate_over_seeds(sweep):
    groups = {g.by["lr"]: g for g in sweep.groups}
    assert set(groups) == {0.0003, 0.001, 0.003, 10}
    assert groups[10].failed == 1 and all(groups[lr].failed == 0 for lr in (0.0003, 0.001, 0.003))
    assert groups[0.003].mean < groups[0.001].mean < groups[0.0003].mean
    assert sweep.summary and sweep.summary[-1].startswith("lr 0.003 is best")


def test_parallel_workers_give_the_same_comparison(sweep):
    parallel = compare([str(SWEEP)], by=["lr"], jobs=2)
    assert [r.run for r in parallel.runs] == [r.run for r in sweep.runs]
    assert [r.final_loss for r in parallel.runs] == [r.final_loss for r in sweep.runs]


def test_json_follows_the_compare_schema(tmp_path):
    out = tmp_path / "c.json"
    result = runner.invoke(
        app, ["compare", str(SWEEP), "--by", "lr", "-f", "json", "-o", str(out), "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["schema"] == "losstest/compare/v1" and doc["rank_by"] == "best_val_loss"
    first = doc["runs"][0]
    assert {
        "rank",
        "run",
        "source",
        "verdict",
        "hparams",
        "final_loss",
        "best_val_loss",
        "best_val_step",
        "steps",
        "findings",
    } <= set(first)
    assert first["rank"] == 1 and first["hparams"] == {"lr": 0.003, "seed": 0}
    assert {"by", "runs", "failed", "mean", "std"} <= set(doc["groups"][0])


def test_csv_and_markdown_and_target(tmp_path):
    result = runner.invoke(
        app, ["compare", str(SWEEP), "-f", "csv", "--target", "2.5", "--jobs", "1"]
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 8 and rows[0]["lr"] == "0.003"
    reached = _oracle(SWEEP / rows[0]["run"], 2.5)["steps_to_target"]
    assert reached is not None and rows[0]["steps_to_target"] == str(reached)
    markdown = runner.invoke(
        app, ["compare", str(SWEEP), "-f", "markdown", "--by", "lr", "--jobs", "1"]
    )
    assert "| # | run | verdict |" in markdown.stdout and "lr=10" in markdown.stdout


def test_overlay_and_hyperparameter_plots(tmp_path):
    result = runner.invoke(app, ["compare", str(SWEEP), "--by", "lr", "--jobs", "1",
                                 "--plot", str(tmp_path / "o.png"), "--plot-hparams", str(tmp_path / "h.png")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o.png").stat().st_size > 10_000 and (
        tmp_path / "h.png"
    ).stat().st_size > 10_000


@pytest.mark.parametrize(
    "name, expected",
    [
        ("lr=3e-4_bs=64", {"lr": 0.0003, "bs": 64}),
        ("lr3e-4-bs64", {"lr": 0.0003, "bs": 64}),
        ("lr_0.001", {"lr": 0.001}),
        ("sweep/lr_0.01/seed_2", {"lr": 0.01, "seed": 2}),
        ("batch_size=32_warmup_steps=100", {"batch_size": 32, "warmup_steps": 100}),
        ("version_3", {}),
        ("healthy_seed1", {}),
    ],
)
def test_hyperparameters_from_run_names(name, expected):
    assert from_name(name) == expected


def test_hyperparameters_from_files_beside_the_log(tmp_path):
    (tmp_path / "hparams.yaml").write_text("lr: 0.1\noptimizer:\n  name: sgd\n  momentum: 0.9\n")
    (tmp_path / "training_args.json").write_text(json.dumps({"per_device_train_batch_size": 8}))
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "weight_decay").write_text("0.01")
    found = of_run("lr=0.5", str(tmp_path / "metrics.csv"))
    assert found == {"lr": 0.1, "optimizer.name": "sgd", "optimizer.momentum": 0.9,
                     "per_device_train_batch_size": 8, "weight_decay": 0.01}  # fmt: skip
    lightning = of_run(
        "version_2", str(DATA / "corpus/dl-fundamentals/6.5-part2-cli-simple/version_2")
    )
    assert lightning == {"learning_rate": 0.1}  # the real hparams.yaml beside the event files


def test_an_unreadable_run_is_reported_and_the_rest_compared(tmp_path):
    shutil.copytree(SWEEP / "lr=0.001_seed=0", tmp_path / "lr=0.001_seed=0")
    (tmp_path / "lr=0.01_seed=0").mkdir()
    (tmp_path / "lr=0.01_seed=0" / "metrics.jsonl").write_text(
        '{"step": 1, "loss": 2}\n{broken\n{"step": 3}\n'
    )
    result = runner.invoke(app, ["compare", str(tmp_path), "--jobs", "1"])
    assert result.exit_code == 0
    assert "lr=0.01_seed=0" in result.stderr and "lr=0.001_seed=0" in result.stdout


def test_hyperparameters_from_the_tensorboard_hparams_plugin(tmp_path):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path / "run"))
    writer.add_event(
        event_pb2.Event(
            step=0, wall_time=1.0, summary=summary_v2.hparams_pb({"lr": 0.01, "optimizer": "adam"})
        )
    )
    for step in range(20):
        value = summary_pb2.Summary.Value(tag="loss", simple_value=3.0 - step / 10)
        writer.add_event(
            event_pb2.Event(
                step=step, wall_time=2.0 + step, summary=summary_pb2.Summary(value=[value])
            )
        )
    writer.close()
    result = compare([str(tmp_path / "run")], jobs=1)
    assert result.runs[0].hparams == {"lr": 0.01, "optimizer": "adam"}


def _oracle(run_dir, target=None):
    """final_loss, auc and steps_to_target of a sweep run, computed here from the raw log."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = np.array([r["step"] for r in rows if "loss" in r], dtype=float)
    loss = np.array([r["loss"] for r in rows if "loss" in r], dtype=float)
    ok = np.isfinite(loss)
    steps, loss = steps[ok], loss[ok]
    final = float(np.median(loss[-max(1, round(0.05 * len(loss))) :]))
    x = (steps - steps[0]) / (steps[-1] - steps[0])
    auc = float(np.sum((loss[1:] + loss[:-1]) / 2 * np.diff(x)))
    reached = steps[loss <= target] if target is not None else []
    return {"final_loss": final, "auc": auc,
            "steps_to_target": int(reached[0]) if len(reached) else None}  # fmt: skip


@pytest.mark.parametrize("rank_by", ["final_loss", "auc", "steps_to_target"])
def test_ranking_by_each_measure_follows_the_logs(sweep, rank_by):
    result = compare([str(SWEEP)], rank_by=rank_by, target=2.0, jobs=1)
    assert result.rank_by == rank_by
    verdicts = {r.run: r.verdict for r in sweep.runs}
    truth = {d.name: _oracle(d, 2.0)[rank_by] for d in SWEEP.iterdir()}
    got = [r.value(rank_by) for r in result.runs]
    assert got == pytest.approx([truth[r.run] for r in result.runs])
    expected = sorted(truth, key=lambda run: (verdicts[run] == "fail", truth[run] is None,
                                              truth[run] or 0.0, run))  # fmt: skip
    assert [r.run for r in result.runs] == expected


def test_runs_ending_in_nan_rank_after_every_run_that_did_not_fail(tmp_path):
    for name in ("lr=0.001_seed=0", "lr=0.003_seed=0"):
        shutil.copytree(SWEEP / name, tmp_path / name)
    rows = (SWEEP / "lr=0.003_seed=1/metrics.jsonl").read_text().splitlines()
    nan_run = tmp_path / "lr=0.003_seed=1"
    nan_run.mkdir()
    (nan_run / "metrics.jsonl").write_text("\n".join(rows) + '\n{"step": 99999, "loss": NaN}\n')
    result = compare([str(tmp_path)], rank_by="final_loss", jobs=1)
    assert [r.run for r in result.runs] == ["lr=0.003_seed=0", "lr=0.001_seed=0", "lr=0.003_seed=1"]
    last = result.runs[-1]
    assert last.verdict == "fail" and "nan" in last.findings
    assert last.final_loss == pytest.approx(_oracle(SWEEP / "lr=0.003_seed=1")["final_loss"])


def test_every_run_unreadable_is_exit_2_naming_each(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text('{"step": 1, "loss": 2}\n{broken\n')
    result = runner.invoke(app, ["compare", str(tmp_path), "--jobs", "1"])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all("line 2 is not valid JSON" in line for line in lines)
    assert {line.split("/")[-2] for line in lines} == {"a", "b"}


def test_an_unknown_ranking_is_a_usage_error():
    result = runner.invoke(app, ["compare", str(SWEEP), "--rank-by", "loss", "--jobs", "1"])
    assert result.exit_code == 2 and "--rank-by 'loss': one of best_val_loss" in result.stderr
