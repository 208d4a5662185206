"""Every format on real files from the corpus (tests/data/corpus, see its SOURCES.md), with the
quirks listed there, plus small files in each format's exact layout."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import losstest
from losstest import readers
from losstest.api import ReadOptions
from losstest.errors import InputError
from losstest.readers import Source

from .conftest import CORPUS, DATA


def values(frame, metric, run=None):
    rows = frame[(frame["metric"] == metric) & ((frame["run"] == run) if run else True)]
    return rows["step"].to_numpy(), rows["value"].to_numpy()


def format_of(path) -> str:
    found, errors = readers.discover([str(path)])
    assert not errors and len(found) == 1
    return readers.read(found[0])[1]


@pytest.mark.parametrize(
    "path, expected",
    [
        ("dl-fundamentals/6.5-part2-cli-simple/version_2", "tensorboard"),
        ("keras-2017-mnist/events.out.tfevents.1487804655.achal-Inspiron-7559", "tensorboard"),
        ("wandb/events.out.tfevents.1585769947.cvp", "tensorboard"),
        ("whisper-large-v2-ja/trainer_state.json", "hf-trainer"),
        ("megatron-lm/golden_values_dev_dgx_h100_2nd.json", "megatron"),
        ("dl-fundamentals/6.7-dropout/version_1/metrics.csv", "csv"),
        ("trackio/logs.csv", "wandb-csv"),
        ("modded-nanogpt/main.log", "text"),
        ("deepspeed-examples/dschat_step3_rlhf", "text"),
    ],
)
def test_format_is_found_from_content(path, expected):
    assert format_of(CORPUS / path) == expected


def test_format_is_found_whatever_the_file_is_called(tmp_path):
    data = (CORPUS / "whisper-large-v2-ja/trainer_state.json").read_bytes()
    renamed = tmp_path / "state.txt"
    renamed.write_bytes(data)
    assert format_of(renamed) == "hf-trainer"


# --- TensorBoard -----------------------------------------------------------------------------


def test_tensorboard_lightning_run_merges_fit_and_test_files():
    frame = losstest.load(CORPUS / "dl-fundamentals/6.5-part2-cli-simple")
    assert sorted(frame["run"].cat.categories) == ["version_2", "version_5"]
    steps, loss = values(frame, "train_loss", "version_2")
    assert len(steps) == 90 and loss[0] == pytest.approx(0.6967, abs=1e-4)
    assert len(values(frame, "test_acc", "version_2")[0]) == 1  # from the `.1` file
    assert frame["wall_time"].notna().all()


def test_tensorboard_tf1_keras_and_hostname_only_names():
    frame = losstest.load(CORPUS / "keras-2017-mnist")
    steps, val = values(frame, "val_loss")
    assert list(steps) == list(range(20)) and val[17] == pytest.approx(0.0629, abs=1e-4)
    wandb = losstest.load(CORPUS / "wandb")
    assert {"epoch_loss", "epoch_val_loss", "batch_loss"} <= set(wandb["metric"].cat.categories)


def test_tensorboard_duplicate_steps_keep_the_last_and_say_so():
    frame = losstest.load(CORPUS / "tensorboard-reducer/duplicate_steps_run_1")
    report = losstest.analyze(frame, losstest.Config(metric="dup_steps/foo"))
    (restart,) = [f for f in report.runs[0].findings if f.kind == "restart"]
    assert restart.severity == "info"
    steps, _ = values(frame, "dup_steps/foo")
    assert len(steps) == 210 and len(np.unique(steps)) == 200


def test_tensorboard_scalar_tensors_as_tf2_writes_them(tmp_path):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    writer = EventFileWriter(str(tmp_path / "run"))
    for step, loss in enumerate([3.0, 2.5, 2.0]):
        value = summary_pb2.Summary.Value(
            tag="epoch_loss", tensor=tensor_util.make_tensor_proto(loss)
        )
        value.metadata.plugin_data.plugin_name = "scalars"
        image = summary_pb2.Summary.Value(tag="sample", image=summary_pb2.Summary.Image(height=1))
        summary = summary_pb2.Summary(value=[value, image])
        writer.add_event(event_pb2.Event(step=step, wall_time=100.0 + step, summary=summary))
    writer.close()
    frame = losstest.load(tmp_path / "run")
    assert list(frame["metric"].cat.categories) == ["epoch_loss"]
    assert values(frame, "epoch_loss")[1].tolist() == [3.0, 2.5, 2.0]


def test_tensorboard_restart_is_kept_in_write_order(tmp_path):
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

    writer = SummaryWriter(str(tmp_path / "resumed"))
    for step in [*range(0, 30), *range(20, 40)]:
        writer.add_scalar("loss", 3.0 - step / 100, step)
    writer.close()
    report = losstest.analyze(tmp_path / "resumed")
    (restart,) = [f for f in report.runs[0].findings if f.kind == "restart"]
    assert restart.evidence == {"from_step": 29, "to_step": 20}


def test_tensorboard_truncated_file_reads_what_is_intact(tmp_path):
    data = (
        CORPUS / "keras-2017-mnist/events.out.tfevents.1487804655.achal-Inspiron-7559"
    ).read_bytes()
    cut = tmp_path / "events.out.tfevents.1.cut"
    cut.write_bytes(data[: len(data) - 50])
    warnings = []
    report = losstest.analyze(cut, on_error=lambda e: None, on_warning=warnings.append)
    assert report.runs and "truncated record" in warnings[0]
    broken = tmp_path / "events.out.tfevents.2.bad"
    broken.write_bytes(data[:12] + b"\xff" * 8 + data[20:])
    with pytest.raises(InputError, match="checksum"):
        losstest.load(broken, ReadOptions(input_format="tensorboard"))


def test_git_lfs_pointer_is_named_as_such():
    path = CORPUS / "whisper-large-v2-ja/events.out.tfevents.1674974582.gpu07.cyverse.org.94170.0"
    with pytest.raises(InputError, match="Git LFS pointer"):
        losstest.load(path)


# --- Hugging Face, Megatron, Keras History ---------------------------------------------------


def test_hf_trainer_state_leaves_out_the_summary_row():
    frame = losstest.load(CORPUS / "whisper-large-v2-ja/trainer_state.json")
    steps, loss = values(frame, "loss")
    assert len(steps) == 200 and steps[-1] == 5000
    assert values(frame, "eval_loss")[1] == pytest.approx(
        [0.321, 0.359, 0.394, 0.412, 0.42], abs=1e-3
    )
    assert "train_runtime" not in frame["metric"].cat.categories
    assert "epoch" in frame.columns


def test_hf_trainer_nan_grad_norm_is_reported(write):
    state = {
        "log_history": [
            {"step": 10, "epoch": 0.1, "loss": 2.0, "grad_norm": float("nan")},
            {"step": 20, "epoch": 0.2, "loss": 1.9, "grad_norm": 1.0},
            {"step": 20, "epoch": 0.2, "eval_valid_loss": 2.1},
        ]
    }
    path = write("trainer_state.json", json.dumps(state))
    warnings = []
    report = losstest.analyze(path, on_error=lambda e: None, on_warning=warnings.append)
    assert "logging_nan_inf_filter" in warnings[0]
    assert report.runs[0].val_metric == "eval_valid_loss"


def test_megatron_nan_strings_are_missing_steps_not_nan_losses():
    frame = losstest.load(CORPUS / "megatron-lm/golden_values_dev_dgx_h100.json")
    steps, loss = values(frame, "lm loss")
    assert np.isfinite(loss).all() and len(steps) == 10201 - 28
    run = losstest.analyze(CORPUS / "megatron-lm/golden_values_dev_dgx_h100_2nd.json").runs[0]
    assert run.summary.first == pytest.approx(9.55, abs=0.01) and run.steps == 50
    assert "nan" not in {f.kind for f in run.findings}


def test_keras_history_dump(write):
    path = write("history.json", json.dumps({"loss": [2.0, 1.5, 1.2], "val_loss": [2.1, 1.7, 1.6]}))
    frame = losstest.load(path)
    assert values(frame, "val_loss")[0].tolist() == [0, 1, 2]


def test_json_records_in_chainers_layout_found_by_its_file_name_in_a_walk():
    """Chainer's `LogReport` file `log` (no suffix): the mean loss every 100 iterations and at
    each epoch's end, the validation loss at each epoch's end, stepped by iteration."""
    (source,), errors = readers.discover([str(DATA / "records" / "chainer")])
    frame, name = readers.read(source)
    assert not errors and name == "json-records" and source.run == "result"
    steps, loss = values(frame, "main/loss")
    val_steps, _ = values(frame, "validation/main/loss")
    assert len(steps) == 28 and steps[0] == 43 and steps[-1] == 860
    assert val_steps.tolist() == list(range(43, 861, 43))
    assert loss[0] == pytest.approx(1.7359805772470873)
    run = losstest.analyze(DATA / "records" / "chainer").runs[0]
    assert (run.metric, run.val_metric, run.verdict) == (
        "main/loss",
        "validation/main/loss",
        "pass",
    )


def test_json_records_of_a_training_loops_own_dump_nest_with_dots():
    frame = losstest.load(DATA / "records" / "history.json")
    steps, loss = values(frame, "train.loss")
    assert steps.tolist() == list(range(1, 31)) and loss[0] == pytest.approx(2.2252604484558107)
    assert set(frame["metric"].unique()) == {"train.loss", "val.loss", "val.accuracy"}


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[{"loss": 1.0}, 3]', "not a JSON array of records"),
        ('[{"loss": 1.0}, {"loss": 0.9}', "could not be read as json-records"),
    ],
)
def test_json_records_that_are_not_records_name_the_problem(write, text, problem):
    with pytest.raises(InputError, match=problem):
        losstest.load(write("log.json", text))


# --- CSV family ------------------------------------------------------------------------------


def test_keras_csvlogger_na_cells(write):
    frame = losstest.load(write("log.csv", "epoch,loss,val_loss\n0,2.0,NA\n1,1.5,1.7\n"))
    assert values(frame, "val_loss")[0].tolist() == [1]


def test_lightning_csv_slash_names_and_huge_values():
    frame = losstest.load(CORPUS / "pytorch-lightning-test-artifact/default/version_0/metrics.csv")
    assert "loss/valid" in frame["metric"].cat.categories


def test_wandb_export_splits_runs_and_drops_min_max(write):
    path = write(
        "export.csv",
        '"Step","a - loss","a - loss__MIN","a - loss__MAX","b - loss"\n'
        '"1","3.0","2.9","3.1","3.5"\n"2","2.0","1.9","2.1",""\n',
    )
    frame = losstest.load(path)
    assert sorted(frame["run"].cat.categories) == ["a", "b"]
    assert values(frame, "loss", "a")[1].tolist() == [3.0, 2.0]
    assert values(frame, "loss", "b")[1].tolist() == [3.5]


def test_mlflow_file_store(tmp_path):
    run = tmp_path / "mlruns" / "1" / "abc123"
    (run / "metrics" / "train").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: abc123\nrun_name: bright-fox-7\n")
    (run / "metrics" / "train" / "loss").write_text(
        "".join(f"{1700000000000 + i} {3.0 - i / 50} {i}\n" for i in range(40))
    )
    (run / "metrics" / "val_loss").write_text("1700000000000 3.1 0\n1700000000100 nan 20\n")
    frame = losstest.load(tmp_path / "mlruns")
    assert list(frame["run"].cat.categories) == ["bright-fox-7"]
    assert len(values(frame, "train/loss")[0]) == 40
    assert math.isnan(values(frame, "val_loss")[1][1])
    assert losstest.analyze(frame).runs[0].metric == "train/loss"


# --- text logs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, train, val, n_train, n_val",
    [
        ("modded-nanogpt/f66d43d7-e449-4029-8adf-e8537bab49ea.log", "trl", "tel", 9536, 76),
        ("modded-nanogpt/main.log", "trl", "tel", 19560, 80),
        (
            "modded-nanogpt/87bd51fd-6203-4c88-b3aa-8a849a6a83ca.txt",
            "train_loss",
            "val_loss",
            20344,
            164,
        ),
        ("modded-nanogpt/2a5d5cde-db5f-4aab-a4a8-cc8e183ea671.txt", None, "val_loss", 0, 9),
    ],
)
def test_llmc_and_modded_nanogpt_dialects(path, train, val, n_train, n_val):
    frame = losstest.load(CORPUS / path)
    if train:
        assert len(values(frame, train)[0]) == n_train
    assert len(values(frame, val)[0]) == n_val
    assert "step_avg" not in frame["metric"].cat.categories  # `step_avg:nanms` is a timing
    assert np.isfinite(frame["value"]).all()


def test_deepspeed_noise_lines_are_not_data():
    frame = losstest.load(CORPUS / "deepspeed-examples/dschat_step3_rlhf")
    assert set(frame["metric"].cat.categories) == {
        "epoch",
        "ppo_ep",
        "act_loss",
        "cri_loss",
        "unsuper_loss",
    } - {"epoch"}
    assert len(values(frame, "act_loss")[0]) == 477
    sft = losstest.load(CORPUS / "deepspeed-examples/dschat_step1_sft")
    assert list(sft["metric"].cat.categories) == ["ppl"] and len(sft) == 17


def test_crashed_run_without_metrics_is_an_input_error():
    with pytest.raises(InputError, match="no metric lines"):
        losstest.load(CORPUS / "deepspeed-examples/dschat_step1_check-7b/training.log")


@pytest.mark.parametrize(
    "text, metric, steps, last",
    [
        (
            "iter 0: loss 4.2345, time 10ms\niter 10: loss 3.1000, time 9ms\n"
            "step 10: train loss 3.0, val loss 3.2\n",
            "loss",
            [0, 10],
            3.1,
        ),
        (
            "| epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch 10.5 | loss  7.63 | ppl  2063.3\n"
            "| epoch   2 |   200/ 2983 batches | lr 20.00 | ms/batch 10.5 | loss   nan | ppl   nan\n",
            "loss",
            [200, 3183],
            math.nan,
        ),
        (
            "{'loss': 2.3, 'learning_rate': 5e-05, 'epoch': 0.1}\n"
            "{'loss': 2.1, 'learning_rate': 4e-05, 'epoch': 0.2}\n"
            "{'eval_loss': 2.2, 'eval_runtime': 3.1, 'epoch': 0.2}\n",
            "loss",
            [0, 1],
            2.1,
        ),
        (
            "[INFO] step 10 loss=2.3 lr=1e-4\nloss_scale ........ 0\n[INFO] step 20 loss=2.1 lr=1e-4\n",
            "loss",
            [10, 20],
            2.1,
        ),
    ],
)
def test_text_dialects(write, text, metric, steps, last):
    frame = losstest.load(write("train.log", text))
    got_steps, got = values(frame, metric)
    assert got_steps.tolist() == steps
    assert (math.isnan(got[-1]) and math.isnan(last)) or got[-1] == last


def test_text_pattern_option_and_partial_last_line(write):
    path = write(
        "out.txt",
        "epoch=1 batch=5 objective=3.2\nepoch=1 batch=6 objective=3.1\nepoch=1 batch=7 obj",
    )
    frame = losstest.load(
        path, ReadOptions(pattern=r"batch=(?P<step>\d+) objective=(?P<objective>\S+)")
    )
    assert values(frame, "objective")[0].tolist() == [5, 6]
    with pytest.raises(InputError, match="named group `step`"):
        losstest.load(path, ReadOptions(pattern=r"objective=(?P<objective>\S+)"))


def test_unknown_input_format_and_forced_format(write):
    path = write("run.data", '{"step": 1, "loss": 2}\n{"step": 2, "loss": 1}\n')
    assert len(losstest.load(path, ReadOptions(input_format="jsonl"))) == 2
    with pytest.raises(InputError, match="could not be read as megatron|no numeric"):
        losstest.load(path, ReadOptions(input_format="megatron"))


def test_directory_of_mixed_formats_is_one_report_entry_per_run():
    report = losstest.analyze(CORPUS, on_error=lambda e: None)
    names = {r.run for r in report.runs}
    assert {
        "dl-fundamentals/6.5-part2-cli-simple/version_2",
        "keras-2017-mnist",
        "wandb",
        "whisper-large-v2-ja",
    } <= names
    assert len(report.runs) == 20
    problems = {p.source.split("corpus/")[1]: p.message for p in report.problems}
    assert sorted(problems) == [  # a crashed run's log, a run without a loss, an LFS pointer
        "deepspeed-examples/dschat_step1_check-7b/training.log",
        "tensorboard-reducer/duplicate_steps_run_1",
        "whisper-large-v2-ja/events.out.tfevents.1674974582.gpu07.cyverse.org.94170.0",
    ]
    no_loss = problems["tensorboard-reducer/duplicate_steps_run_1"]
    assert "no loss metric found in run tensorboard-reducer/duplicate_steps_run_1" in no_loss
    assert "(found: dup_steps/bar, dup_steps/foo)" in no_loss
    assert "Git LFS pointer" in problems[sorted(problems)[2]]
    assert Source  # the public reader type


def test_mlflow_store_written_by_mlflow():
    """tests/data/mlflow was written by MLflow 3 (bench/realruns/mlflow_store.py)."""
    report = losstest.analyze(DATA / "mlflow" / "mlruns")
    (run,) = report.runs
    assert run.run == "bright-fox" and run.metric == "train/loss" and run.val_metric == "val_loss"
    assert run.steps == 51 and [f.kind for f in run.findings] == ["nan"]
    from losstest.hparams import of_run

    assert of_run(run.run, run.source) == {"lr": 0.001}


def test_llama_factory_trainer_log_is_stepped_by_current_steps(write):
    """LLaMA-Factory's `trainer_log.jsonl` (its exact fields): `current_steps` is the step."""
    rows = [
        {"current_steps": s, "total_steps": 8660, "loss": 2.5 / s, "learning_rate": 1e-6,
         "epoch": s / 2165, "percentage": s / 86.6, "elapsed_time": "0:00:24",
         "remaining_time": "5:58:33", "throughput": "0.00", "total_tokens": 0}
        for s in (10, 20, 30)
    ] + [{"current_steps": 30, "total_steps": 8660, "eval_loss": 1.2, "epoch": 30 / 2165}]  # fmt: skip
    frame = losstest.load(write("trainer_log.jsonl", "".join(json.dumps(r) + "\n" for r in rows)))
    assert values(frame, "loss")[0].tolist() == [10, 20, 30]
    assert values(frame, "eval_loss")[0].tolist() == [30]
