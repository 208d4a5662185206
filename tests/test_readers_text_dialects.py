"""Stdout of training tools read by the text reader: Keras `fit`, fairseq, Megatron-LM,
DeepSpeed, torchtune (tests/data/keras_fit and tests/data/text_formats, see their SOURCES.md),
and the key/value pattern in linear time."""

from __future__ import annotations

import time

import numpy as np
import pytest

import losstest
from losstest import readers
from losstest.engine import pick_metrics
from losstest.readers import Source
from losstest.readers.text import FAIRSEQ_NOTE, PAIR

from .conftest import DATA

KERAS = DATA / "keras_fit"
TEXT = DATA / "text_formats"


def metric(frame, name):
    rows = frame[frame["metric"] == name]
    return rows["step"].to_numpy(), rows["value"].to_numpy()


def read(path):
    source = Source(str(path), path)
    frame, name = readers.read(source)
    return frame, name, source.warnings


def test_keras_fit_verbose_2_one_line_an_epoch():
    frame, name, _ = read(KERAS / "fit_verbose2.out")
    assert name == "text"
    steps, loss = metric(frame, "loss")
    assert list(steps) == list(range(1, 13))
    assert loss[0] == pytest.approx(0.4562) and loss[-1] == pytest.approx(0.2052)
    assert metric(frame, "val_loss")[1][-1] == pytest.approx(0.1800)
    assert set(frame["metric"].cat.categories) == {"accuracy", "loss", "val_accuracy", "val_loss"}


def test_keras_fit_verbose_1_progress_bar_gives_each_epochs_last_update():
    """Carriage returns, backspaces and colour codes as a terminal received them: the same
    numbers as verbose=2 (the two runs were seeded alike)."""
    bars, _, _ = read(KERAS / "fit_verbose1.out")
    lines, _, _ = read(KERAS / "fit_verbose2.out")
    for name in ("loss", "val_loss", "accuracy"):
        np.testing.assert_array_equal(metric(bars, name)[0], metric(lines, name)[0])
        np.testing.assert_allclose(metric(bars, name)[1], metric(lines, name)[1])


@pytest.mark.parametrize("style", ["fairseq_legacy", "fairseq_hydra", "fairseq_json"])
def test_fairseq_train_log_steps_by_updates_and_says_losses_are_base_2(style):
    frame, name, warnings = read(TEXT / style / "train.log")
    assert name == "text"
    steps, loss = metric(frame, "loss")  # train_inner progress, every 20 updates
    assert list(steps) == list(range(20, 401, 20)) and loss[0] == pytest.approx(7.839)
    val_steps, val = metric(frame, "valid/loss")
    assert list(val_steps) == [100, 200, 300, 400] and val[0] == pytest.approx(5.213)
    assert metric(frame, "train/loss")[1][0] == pytest.approx(5.163)  # epoch summaries
    assert frame.loc[frame["metric"] == "valid/loss", "epoch"].tolist() == [1, 2, 3, 4]
    assert warnings == [f"{TEXT / style / 'train.log'}: {FAIRSEQ_NOTE}"]
    assert pick_metrics(frame, losstest.Config()) == ("loss", "valid/loss")


def test_megatron_lm_stdout_with_spaces_in_keys_and_validation_blocks():
    frame, _, warnings = read(TEXT / "megatron_lm.log")
    steps, loss = metric(frame, "lm loss")
    assert list(steps) == list(range(10, 301, 10)) and loss[0] == pytest.approx(8.724791)
    val_steps, val = metric(frame, "validation lm loss")
    assert list(val_steps) == [100, 200, 300] and val[0] == pytest.approx(5.163124)
    assert "loss_scale" not in set(frame["metric"].cat.categories)  # the config dump
    assert not warnings


def test_deepspeed_pipeline_engine_and_torchtune_stdout():
    frame, _, _ = read(TEXT / "deepspeed_pipe.out")
    steps, loss = metric(frame, "loss")
    assert list(steps) == list(range(10, 201, 10)) and loss[0] == pytest.approx(8.7248)
    frame, _, _ = read(TEXT / "torchtune_stdout.txt")
    steps, loss = metric(frame, "loss")
    assert list(steps) == list(range(1, 121)) and loss[0] == pytest.approx(9.847429999543426)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("step 3 loss 2.5", {"step": 3, "loss": 2.5}),
        ("step=3, loss=2.5e-01, lr=3E-4", {"step": 3, "loss": 0.25, "lr": 3e-4}),
        ("step: 3 | loss: nan | grad_norm: inf", {"step": 3, "loss": np.nan, "grad_norm": np.inf}),
        ("[step 3] train/loss: -1.5 (acc: 0.9)", {"step": 3, "train/loss": -1.5, "acc": 0.9}),
        ("step 3 time 12ms loss 2", {"step": 3, "loss": 2}),  # a value with a unit is no value
        # keys with spaces between pipes: two `Loss` keys stay two metrics
        (
            "Epoch 1 | Step 3 | Train Loss: 2.5 | Val Loss: 2.7",
            {"Train Loss": 2.5, "Val Loss": 2.7},
        ),
    ],
)
def test_key_value_pairs_in_any_common_separator(write, line, expected):
    path = write("run.out", "\n".join(line.replace("3", str(i)) for i in (3, 4)) + "\n")
    frame, _, _ = read(path)
    assert set(frame["metric"].cat.categories) == set(expected) - {"step"}
    for key, value in expected.items():
        if key != "step":
            np.testing.assert_equal(metric(frame, key)[1][0], value)


def test_key_value_pattern_takes_linear_time_on_a_long_token():
    """A 1 MB token (a base64 blob, a minified line) once took hours: the key was retried
    from every position of the token."""
    blob = "step 1 loss 2.0 " + "a" * 1_000_000 + " step 2 loss 1.5"
    start = time.perf_counter()
    pairs = [(m["key"], m["value"]) for m in PAIR.finditer(blob)]
    assert time.perf_counter() - start < 2.0
    assert pairs == [("step", "1"), ("loss", "2.0"), ("step", "2"), ("loss", "1.5")]


def test_pytorch_examples_mnist_steps_by_samples_and_keeps_the_test_set(write):
    """pytorch/examples mnist/main.py prints exactly these two lines."""
    lines = []
    for epoch in (1, 2):
        for seen in (0, 640, 1280):
            percent = 100 * seen // 60000
            lines.append(
                f"Train Epoch: {epoch} [{seen}/60000 ({percent}%)]\tLoss: {2.3 / epoch:.6f}"
            )
        lines.append(f"\nTest set: Average loss: {0.05 / epoch:.4f}, Accuracy: 9839/10000 (98%)\n")
    frame, _, _ = read(write("mnist", "\n".join(lines) + "\n"))
    steps, loss = metric(frame, "loss")
    assert list(steps) == [0, 640, 1280, 60000, 60640, 61280] and loss[0] == pytest.approx(2.3)
    test_steps, test_loss = metric(frame, "test_loss")
    assert list(test_steps) == [1280, 61280] and test_loss == pytest.approx([0.05, 0.025])
    assert metric(frame, "test_accuracy")[1][0] == pytest.approx(0.9839)


def test_pytorch_tutorial_epoch_and_step_in_brackets(write):
    text = "".join(
        f"Epoch [{e}/5], Step [{s}/600], Loss: {1 / (e * s):.4f}\n"
        for e in (1, 2)
        for s in (100, 200)
    )
    frame, _, _ = read(write("train.out", text))
    steps, loss = metric(frame, "Loss")
    assert list(steps) == [100, 200, 700, 800] and loss[0] == pytest.approx(0.01)
    assert frame["epoch"].tolist() == [1, 1, 2, 2]


BOOSTING = DATA / "boosting"  # real stdout of xgboost and lightgbm, see its SOURCES.md


@pytest.mark.parametrize(
    "log, train, val, rounds, kinds",
    [
        ("xgboost_healthy.log", "train-logloss", "validation-logloss", range(150), []),
        ("xgboost_overfit.log", "train-logloss", "validation-logloss", range(300), ["overfitting"]),
        ("lightgbm_healthy.log", "training's binary_logloss", "valid_1's binary_logloss", range(1, 151), []),
        ("lightgbm_overfit.log", "training's binary_logloss", "valid_1's binary_logloss", range(1, 301), ["overfitting"]),
        # the training loss flat at 5e-6 from round 47: fit exactly, no plateau nor stall
        ("lightgbm_exact_fit.log", "training's binary_logloss", "valid_1's binary_logloss", range(1, 301), ["overfitting"]),
    ],
)  # fmt: skip
def test_gradient_boosting_rounds(log, train, val, rounds, kinds):
    frame = losstest.load(BOOSTING / log)
    assert pick_metrics(frame, losstest.Config()) == (train, val)
    steps, values = metric(frame, val)
    assert list(steps) == list(rounds)
    last = (BOOSTING / log).read_text().splitlines()[-1]
    assert values[-1] == pytest.approx(float(last.rsplit(":", 1)[1]))
    (run,) = losstest.analyze(BOOSTING / log).runs
    assert [f.kind for f in run.findings if f.severity != "info"] == kinds


PRINTED = DATA / "printed"  # real training loops' own prints, see bench/printed/make_printed.py


@pytest.mark.parametrize(
    "log, train, val, epochs, kinds",
    [
        ("epoch_print_healthy.log", "Train Loss", "Val Loss", 30, []),
        ("epoch_logging_overfit.log", "Average Train Loss", "Validation Loss", 30, ["overfitting"]),
        # `... INFO:Epoch 3: Train Loss=0.0304, Val Loss=0.0106`, to 0.0001 by epoch 190: a loss
        # at the log's rounding has reached zero, and a move of a step or two is the rounding's
        ("regression_rounded.log", "Train Loss", "Val Loss", 300, []),
    ],
)
def test_a_training_loops_own_print_one_line_an_epoch(log, train, val, epochs, kinds):
    frame = losstest.load(PRINTED / log)
    assert pick_metrics(frame, losstest.Config()) == (train, val)
    assert list(metric(frame, train)[0]) == list(range(1, epochs + 1))
    (run,) = losstest.analyze(PRINTED / log).runs
    assert [f.kind for f in run.findings if f.severity != "info"] == kinds


def test_an_epochs_numbers_on_the_lines_below_its_heading():
    """`epoch   3` on a line of its own, then `loss: 4.93` and `test accuracy: 27.41%, (...)`."""
    frame = losstest.load(PRINTED / "epoch_block.log")
    steps, values = metric(frame, "loss")
    assert list(steps) == list(range(1, 41)) and values[0] == pytest.approx(2.298532)
    assert set(frame["metric"].unique()) == {"loss"}  # `27.41%` carries a unit: no number
    (run,) = losstest.analyze(PRINTED / "epoch_block.log").runs
    assert run.findings == () and run.verdict == "pass"


@pytest.mark.parametrize(
    "line",
    [
        "Epoch 3/30 - Train Loss: 2.5, Val Loss: 2.7",
        "Epoch 3 - train_loss: 2.5, val_loss: 2.7",
        "Epoch 3 - Train Loss: 2.5 - Val Loss: 2.7",
        "Epoch 3: train_loss=2.5 val_loss=2.7",
        "Epoch [3/30], Train Loss: 2.5, Val Loss: 2.7",
        "epoch 3 | Train Loss 2.5 | Val Loss 2.7",
        "2025-03-02 05:16:20,348 - INFO - Epoch 3 - Train Loss: 2.5, Val Loss: 2.7",
        "[12:00:01] Epoch 3: Train Loss: 2.5; Val Loss: 2.7",
    ],
)
def test_epoch_lines_in_the_shapes_people_print(write, line):
    lines = [line.replace("3", str(e)).replace("2.5", f"{2.5 / e:.3f}") for e in (3, 4, 5)]
    frame = losstest.load(write("train.log", "\n".join(lines) + "\n"))
    train, val = pick_metrics(frame, losstest.Config())
    assert sorted(frame["metric"].cat.categories) == sorted([train, val])
    steps, values = metric(frame, train)
    assert list(steps) == [3, 4, 5] and values == pytest.approx(
        [2.5 / 3, 2.5 / 4, 2.5 / 5], abs=1e-3
    )
    assert list(metric(frame, val)[1]) == [2.7] * 3


def test_a_logging_prefix_is_no_csv_table(write):
    """Python's logging writes `05:16:20,348`: one comma a line, never a table's header."""
    path = write("train.log", "2025-03-02 05:16:20,348 - INFO - starting\n" * 3)
    assert readers.sniff(Source(str(path), path)) is None


LOG_LINE = "step {0} loss {1:.3f}"


def _readme(records: int, prose: int) -> str:
    """A page of `prose` lines of text quoting `records` lines of a log (blank lines between
    paragraphs are not counted)."""
    lines = [f"Some words about the run, paragraph {i}." for i in range(prose)]
    lines += [LOG_LINE.format(10 * i, 2.0 - 0.01 * i) for i in range(records)]
    return "\n\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "records, prose, is_log",
    [
        (5, 20, True),  # 5 records in 25 lines: a fifth of them
        (5, 21, False),  # 5 in 26: under a fifth, a README quoting a log
        (4, 0, False),  # too few records to call it a log, however few other lines
        (30, 10, True),
    ],
)
def test_a_file_without_a_logs_suffix_is_a_log_when_records_make_a_fifth_of_it(
    write, records, prose, is_log
):
    from losstest.readers import text

    path = write("notes.md", _readme(records, prose))
    assert text.mostly_log(Source(str(path), path)) is is_log


def test_a_file_without_a_logs_suffix_that_is_no_text_is_no_log(write):
    from losstest.readers import text

    path = write("blob", bytes(range(256)) * 40)
    assert text.mostly_log(Source(str(path), path)) is False


def test_a_pattern_decides_what_a_record_is_in_a_file_without_a_logs_suffix(write):
    from losstest.readers import text
    from losstest.readers.options import ReadOptions

    body = "\n".join(f"it={i} | nll={3.0 - 0.1 * i:.2f}" for i in range(8)) + "\n"
    path = write("train.out.md", body)
    source = Source(str(path), path)
    assert text.mostly_log(source) is False  # no loss-like key the dialects know
    pattern = r"it=(?P<step>\d+) \| nll=(?P<loss>[\d.]+)"
    assert text.mostly_log(source, ReadOptions(pattern=pattern)) is True


@pytest.mark.parametrize(
    "content, pattern, problem",
    [
        ("Some notes about a run.\nNothing logged here.\n", None,
         "no line matches a known training-log pattern"),
        ("step 1 loss 2.0\nstep 2 loss 1.9\n", "(", "--pattern is not a valid regular expression ("),
        ("step 1 loss 2.0\nstep 2 loss 1.9\n", r"loss (?P<loss>[\d.]+)",
         "--pattern needs a named group `step`"),
    ],
)  # fmt: skip
def test_a_text_log_that_cannot_be_read_names_itself_and_the_problem(
    write, content, pattern, problem
):
    from losstest.readers import text
    from losstest.readers.options import ReadOptions

    path = write("train.log", content)
    with pytest.raises(losstest.InputError) as raised:
        text.read(Source(str(path), path), ReadOptions(pattern=pattern))
    assert str(raised.value).startswith(f"{path}: {problem}")
    assert raised.value.source == str(path)


@pytest.mark.parametrize(
    "content",
    [
        "step 1 loss 2.0\nstep 2 loss 1.9\nstep 3 loss 1.",  # still being written
        "step 1 loss 2.0\r\nstep 2 loss 1.9\r\n",  # written on Windows
        # a line rewritten in place (a progress bar) and not yet ended is still being written
        "step 1 loss 2.0\nstep 2 loss 1.9\nstep 3 loss 1.8\rstep 3 loss 1.7\r",
    ],
)
def test_a_text_log_is_read_to_its_last_complete_line(write, content):
    from losstest.readers import text

    path = write("train.log", content)
    frame = text.read(Source(str(path), path))
    steps, values = metric(frame, "loss")
    assert list(steps) == [1, 2] and list(values) == [2.0, 1.9]


@pytest.mark.parametrize(
    "printed, shown",
    [
        ("\x1b[32mloss: 1.0\x1b[0m - acc: 0.5\n", "loss: 1.0 - acc: 0.5\n"),  # colour codes
        ("1/3 loss: 2.0\r2/3 loss: 1.5\r3/3 loss: 1.2\nnext\n", "3/3 loss: 1.2\nnext\n"),
        ("12% loss: 2.0  \r\n", "12% loss: 2.0  \n"),  # a line ended by \r\n keeps its spaces
        ("\rloss: 1.5\r", "loss: 1.5"),
    ],
)
def test_text_as_a_terminal_shows_it(printed, shown):
    from losstest.readers.text import as_printed

    assert as_printed(printed) == shown


def _stepped_lines(count: int) -> bytes:
    return b"".join(b"step %d loss %.2f\n" % (i, 2.0 - 0.01 * i) for i in range(count))


def test_the_head_of_a_text_log_as_sniffed(write):
    """Bytes that are not UTF-8 are replaced, not refused; `\\r\\n` ends a line as `\\n` does;
    a NUL byte in the first 4096 bytes makes it binary, one after them does not."""
    from losstest.readers import text

    def sniffed(data: bytes) -> bool:
        path = write("run.log", data)
        return text.sniff(Source(str(path), path))

    lines = _stepped_lines(300)
    assert sniffed(b"caf\xe9 run\n" + lines)  # latin-1 in a log's first line
    assert sniffed(lines.replace(b"\n", b"\r\n"))
    crlf = write("crlf.log", lines.replace(b"\n", b"\r\n"))
    assert "\r" not in text._head_text(Source(str(crlf), crlf))
    assert not sniffed(lines[:4095] + b"\x00" + lines[4096:])
    assert sniffed(lines[:4096] + b"\x00" + lines[4097:])
