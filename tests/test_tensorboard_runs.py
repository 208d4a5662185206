"""Which folders of event files are runs, as TensorBoard shows them, on files of real writers."""

from __future__ import annotations

import numpy as np
import pytest

import losstest
from losstest.compare import compare


def series(frame, run: str, metric: str) -> tuple[list[int], list[float]]:
    rows = frame[(frame["run"] == run) & (frame["metric"] == metric)]
    return rows["step"].tolist(), rows["value"].tolist()


def test_add_scalars_series_are_runs_of_their_own(tmp_path, reading):
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    writer = SummaryWriter(str(tmp_path / "exp"))
    for step in range(50):
        writer.add_scalar("loss", 3.0 - step / 25, step)
        writer.add_scalars("loss_by_split", {"train": 1.0 + step, "val": -1.0 - step}, step)
    writer.close()
    frame = losstest.load(tmp_path / "exp")
    assert sorted(frame["run"].unique()) == ["exp", "loss_by_split_train", "loss_by_split_val"]
    assert series(frame, "loss_by_split_train", "loss_by_split") == (
        list(range(50)),
        [1.0 + s for s in range(50)],
    )
    assert series(frame, "loss_by_split_val", "loss_by_split")[1] == [-1.0 - s for s in range(50)]
    assert series(frame, "exp", "loss")[0] == list(range(50))
    report = losstest.analyze(tmp_path / "exp")
    assert [r.run for r in report.runs] == ["exp", "loss_by_split_train", "loss_by_split_val"]


def test_hparams_subfolder_of_the_hf_trainer_belongs_to_its_run(tmp_path, reading):
    """Older HF Trainers called `add_hparams(args, metric_dict={})` on torch's writer, which
    puts the hyperparameters in a subfolder named after the time; TensorBoard shows no scalars
    there, and the run is its parent."""
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    run = tmp_path / "runs" / "Nov25_09-00-00_host"
    writer = SummaryWriter(str(run))
    writer.add_text("args", '{"learning_rate": 5e-05}')
    writer.add_hparams({"learning_rate": 5e-05, "seed": 42}, metric_dict={})
    for step in range(1, 31):
        writer.add_scalar("train/loss", 2.0 / step, step)
    writer.close()
    assert len([p for p in run.iterdir() if p.is_dir()]) == 1  # the hparams subfolder
    frame = losstest.load(tmp_path / "runs")
    assert list(frame["run"].unique()) == ["Nov25_09-00-00_host"]
    assert series(frame, "Nov25_09-00-00_host", "train/loss")[0] == list(range(1, 31))
    (summary,) = compare([str(tmp_path / "runs")]).runs
    assert summary.hparams["learning_rate"] == pytest.approx(5e-05)


def test_subfolder_with_metrics_of_add_hparams_is_a_run(tmp_path, reading):
    """`add_hparams` with metrics writes them as scalars in its subfolder: a run there."""
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    writer = SummaryWriter(str(tmp_path / "exp"))
    for step in range(10):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.add_hparams({"lr": 0.1}, {"hparam/accuracy": 0.9}, run_name="final")
    writer.close()
    frame = losstest.load(tmp_path / "exp")
    assert sorted(frame["run"].unique()) == ["exp", "final"]
    assert series(frame, "final", "hparam/accuracy")[1] == [pytest.approx(0.9)]


def test_lightning_versions_are_one_run_each_with_long_metric_names(tmp_path, reading):
    """Lightning's logger writes `epoch` after the metrics; a metric name of 31 bytes and more
    before it broke the reader once."""
    loggers = pytest.importorskip("lightning.pytorch.loggers")
    long_name = "validation/cross_entropy_loss_of_the_held_out_set"
    for version in range(2):
        logger = loggers.TensorBoardLogger(str(tmp_path), name="lightning_logs", version=version)
        logger.log_hyperparams({"lr": 10.0**-version, "batch_size": 32})
        for step in range(40):
            logger.log_metrics({long_name: 1.0 / (step + 1) + version, "epoch": step // 10}, step)
        logger.finalize("success")
    frame = losstest.load(tmp_path / "lightning_logs")
    assert sorted(frame["run"].unique()) == ["version_0", "version_1"]
    steps, values = series(frame, "version_1", long_name)
    assert steps == list(range(40))
    assert values == [float(np.float32(1.0 / (s + 1) + 1)) for s in range(40)]
    assert series(frame, "version_0", "epoch")[1] == [s // 10 for s in range(40)]


def _epochs(writer, tag: str, values) -> None:
    for epoch, value in enumerate(values):
        writer.add_scalar(tag, value, epoch)
    writer.close()


TRAIN = [2.0 / (e + 1) for e in range(20)]
VAL = [1.0 + 0.5 / (e + 1) + (0.05 * (e - 8) if e > 8 else 0) for e in range(20)]


def test_keras_train_and_validation_folders_are_one_run(tmp_path, reading):
    """Keras' TensorBoard callback writes `logs/train/` and `logs/validation/`, both with
    `epoch_loss`: one run, whose validation loss can then be set against its training loss."""
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    _epochs(SummaryWriter(str(tmp_path / "logs" / "train")), "epoch_loss", TRAIN)
    _epochs(SummaryWriter(str(tmp_path / "logs" / "validation")), "epoch_loss", VAL)
    frame = losstest.load(tmp_path / "logs")
    assert list(frame["run"].unique()) == ["logs"]
    assert series(frame, "logs", "train/epoch_loss")[1] == pytest.approx(TRAIN)
    assert series(frame, "logs", "validation/epoch_loss")[1] == pytest.approx(VAL)
    (run,) = losstest.analyze(tmp_path / "logs").runs
    assert run.curves.val.metric == "validation/epoch_loss"
    assert [f.kind for f in run.findings] == ["overfitting"]
    # one split given alone is read alone, as before
    (alone,) = losstest.analyze(tmp_path / "logs" / "validation").runs
    assert alone.run == "validation" and alone.curves.val is None


def test_an_estimator_eval_folder_joins_the_training_run_above_it(tmp_path, reading):
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    _epochs(SummaryWriter(str(tmp_path / "model")), "loss", TRAIN)
    _epochs(SummaryWriter(str(tmp_path / "model" / "eval")), "loss", VAL)
    frame = losstest.load(tmp_path / "model")
    assert list(frame["run"].unique()) == ["model"]
    assert sorted(frame["metric"].unique()) == ["eval/loss", "loss"]


def test_a_validation_folder_without_a_training_one_stays_a_run(tmp_path, reading):
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    _epochs(SummaryWriter(str(tmp_path / "sweep" / "a")), "loss", TRAIN)
    _epochs(SummaryWriter(str(tmp_path / "sweep" / "validation")), "loss", VAL)
    assert sorted(losstest.load(tmp_path / "sweep")["run"].unique()) == ["a", "validation"]
