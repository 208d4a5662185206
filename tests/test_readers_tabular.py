"""JSONL and CSV logs as users' real files have them."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

import losstest
from losstest.errors import InputError
from losstest.readers._table import frame_from_table

from .conftest import CORPUS, DATA


def curve(frame, metric):
    rows = frame[frame["metric"] == metric]
    return rows["step"].tolist(), rows["value"].tolist()


def test_jsonl_nan_tokens_eval_rows_and_sparse_keys(write):
    path = write(
        "run.jsonl",
        '{"step": 1, "loss": 2.5, "lr": 0.1}\n'
        '{"step": 2, "loss": NaN}\n'
        '{"step": 3, "loss": Infinity}\n'
        '{"step": 3, "val_loss": -Infinity}\n'
        '{"step": 4, "loss": 1.5, "grad_norm": 3}\n',
    )
    frame = losstest.load(path)
    steps, values = curve(frame, "loss")
    assert steps == [1, 2, 3, 4]
    assert values[0] == 2.5 and math.isnan(values[1]) and values[2] == math.inf
    assert curve(frame, "val_loss") == ([3], [-math.inf])
    assert curve(frame, "grad_norm") == ([4], [3.0])
    assert list(frame.columns) == ["source", "run", "metric", "step", "value"]


def test_jsonl_partial_last_line_is_ignored_but_a_complete_one_kept(write):
    partial = write(
        "a.jsonl", '{"step": 1, "loss": 2.5}\n{"step": 2, "loss": 2.4}\n{"step": 3, "lo'
    )
    assert curve(losstest.load(partial), "loss")[0] == [1, 2]
    complete = write("b.jsonl", '{"step": 1, "loss": 2.5}\r\n{"step": 2, "loss": 2.4}')
    assert curve(losstest.load(complete), "loss")[0] == [1, 2]


def test_jsonl_quoted_numbers_nested_records_and_no_step(write):
    path = write("c.jsonl", '{"train": {"loss": "3.5"}}\n{"train": {"loss": 3.0}}\n')
    assert curve(losstest.load(path), "train.loss") == ([0, 1], [3.5, 3.0])


def test_jsonl_bad_line_in_the_middle_is_named(write):
    path = write("d.jsonl", '{"step": 1, "loss": 2}\nnot json\n{"step": 2, "loss": 1}\n')
    with pytest.raises(InputError, match="line 2"):
        losstest.load(path)


def test_gzip_is_read_by_content(write):
    path = write("e.jsonl.gz", '{"step": 5, "loss": 1.0}\n{"step": 6, "loss": 0.9}\n')
    assert curve(losstest.load(path), "loss") == ([5, 6], [1.0, 0.9])


def test_csv_missing_cells_versus_nan_values(write):
    path = write("m.csv", 'step,loss,val_loss\n1,2.0,\n2,nan,NA\n3,"1.5",1.7\n4,inf,\n')
    frame = losstest.load(path)
    steps, values = curve(frame, "loss")
    assert steps == [1, 2, 3, 4] and math.isnan(values[1]) and values[3] == math.inf
    assert curve(frame, "val_loss") == ([3], [1.7])


def test_tsv_without_step_column_uses_row_number(write):
    frame = losstest.load(write("t.tsv", "loss\tacc\n3.0\t0.1\n2.0\t0.2\n"))
    assert curve(frame, "loss") == ([0, 1], [3.0, 2.0])


def test_csv_partial_last_row_is_dropped(write):
    path = write("p.csv", "step,loss,lr\n1,2.0,0.1\n2,1.9,0.1\n3,1.")
    assert curve(losstest.load(path), "loss")[0] == [1, 2]


def test_csv_type_change_after_first_block_falls_back(write):
    rows = "".join(f"{i},{2.0 - i * 1e-6}\n" for i in range(200_000))
    path = write("late.csv", "step,loss,note\n" + rows.replace("\n", ",\n") + "200000,1.0,x\n")
    steps, _ = curve(losstest.load(path), "loss")
    assert len(steps) == 200_001


def test_step_option_names_the_step_column(write):
    path = write("s.csv", "iteration_count,loss\n10,2.0\n20,1.0\n")
    report = losstest.analyze(path)
    assert report.runs[0].last_step == 1
    frame = losstest.load(path, losstest.api.ReadOptions(step="iteration_count"))
    assert curve(frame, "loss")[0] == [10, 20]


def test_lightning_metrics_csv_crlf_sparse_rows():
    frame = losstest.load(CORPUS / "dl-fundamentals/6.7-dropout/version_0/metrics.csv")
    train_steps, _ = curve(frame, "train_loss")
    val_steps, val = curve(frame, "val_loss")
    assert len(train_steps) == 900 and len(val_steps) == 100
    assert val[0] == pytest.approx(0.4831, abs=1e-4)
    assert "epoch" in frame.columns and frame["epoch"].max() == 100


def test_lightning_csv_with_val_first_and_test_row():
    frame = losstest.load(CORPUS / "dl-fundamentals/6.8-debugging/version_6/metrics.csv")
    assert set(frame["metric"].cat.categories) >= {"val_loss", "train_loss", "test_acc"}
    report = losstest.analyze(frame)
    assert report.runs[0].metric == "train_loss" and report.runs[0].val_metric == "val_loss"


def test_quoted_wandb_style_csv_without_trailing_newline():
    frame = losstest.load(CORPUS / "trackio/logs.csv")
    steps = np.sort(frame["step"].unique())
    assert steps[0] == 4 and steps[-1] == 42509


def test_what_lies_under_a_missing_arrow_value_is_never_read():
    """The melt reads Arrow buffers in place; under a null they may hold anything."""
    garbage_steps = pa.py_buffer(np.array([1.0, 0.5, 3.0]).tobytes())
    garbage_loss = pa.py_buffer(np.array([2.0, 9.0, 1.0]).tobytes())
    valid = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    step = pa.Array.from_buffers(pa.float64(), 3, [valid, garbage_steps], null_count=1)
    loss = pa.Array.from_buffers(pa.float64(), 3, [valid, garbage_loss], null_count=1)
    frame = frame_from_table(pa.table({"step": step, "loss": loss, "lr": [0.1, 0.1, 0.1]}))
    assert curve(frame, "loss") == ([1, 3], [2.0, 1.0])
    assert curve(frame, "lr") == ([1, 1, 3], [0.1, 0.1, 0.1])


def test_a_batch_counted_from_zero_each_epoch_is_counted_on_through_the_epochs():
    """`Epoch,Batch,Loss`, one row a batch (tests/data/printed/epoch_batch_loss.csv, a real
    loop of 8 epochs x 44 batches): the step runs on through the epochs, no resumed run."""
    frame = losstest.load(DATA / "printed" / "epoch_batch_loss.csv")
    steps = frame.loc[frame["metric"] == "Loss", "step"].to_numpy()
    assert steps.tolist() == list(range(8 * 44))
    (run,) = losstest.analyze(DATA / "printed" / "epoch_batch_loss.csv").runs
    assert run.steps == 352 and run.findings == ()


@pytest.mark.parametrize(
    "rows, steps",
    [
        # a resumed run: the step goes back with its epoch: kept as written (a restart)
        ("0,0,2.0\n0,1,1.9\n1,0,1.8\n1,1,1.7\n0,0,1.85\n", [0, 1, 0, 1, 0]),
        # a step going back within an epoch is no new epoch's count
        ("0,0,2.0\n0,1,1.9\n0,0,1.8\n1,1,1.7\n", [0, 1, 0, 1]),
        # counted from 1: the second epoch's batch 1 is step 3
        ("0,1,2.0\n0,2,1.9\n1,1,1.8\n1,2,1.7\n", [1, 2, 3, 4]),
    ],
)
def test_only_a_step_that_goes_back_as_its_epoch_moves_on_is_counted_on(write, rows, steps):
    path = write("loop.csv", "epoch,batch,loss\n" + rows)
    assert losstest.load(path)["step"].tolist() == steps


def _jsonl(path):
    from losstest.readers import Source, jsonl

    return jsonl, Source(str(path), path)


@pytest.mark.parametrize(
    "content, problem",
    [
        ('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": \n{"step": 3, "loss": 1.8}\n',
         "line 2 is not valid JSON ("),
        ('{"step": 1, "loss": 2.0}\n[2, 1.9]\n', "line 2 is not a JSON object"),
        ("\n  \n\n", "no complete JSON record"),
        ('{"step": 1, "lo', "no complete JSON record"),  # only a line still being written
    ],
)  # fmt: skip
def test_a_jsonl_log_that_cannot_be_read_names_itself_and_the_problem(write, content, problem):
    jsonl, source = _jsonl(write("run.jsonl", content))
    with pytest.raises(InputError) as raised:
        jsonl.read(source)
    assert str(raised.value).startswith(f"{source.name}: {problem}")
    assert raised.value.source == source.name


def test_a_jsonl_log_after_a_head_of_blank_lines_is_read(write):
    jsonl, source = _jsonl(write("run.jsonl", "\n" * 5000 + '{"step": 1, "loss": 2.0}\n'))
    frame = jsonl.read(source)
    assert frame["step"].tolist() == [1] and frame["value"].tolist() == [2.0]


@pytest.mark.parametrize("quoted", [False, True], ids=["columnar", "record by record"])
def test_a_jsonl_logs_step_named_by_the_option(write, quoted):
    """`step` names the step column in either path (a key whose values are numbers in some
    records and text in others sends the file record by record, where a blank line between
    records is skipped); every run of a reader's frame is named by its caller ("")."""
    from losstest.readers.options import ReadOptions

    rows = [
        {
            "step": 1000 + i,
            "iter": i,
            "loss": f"{2.0 - 0.1 * i}" if quoted and i % 2 else 2.0 - 0.1 * i,
        }
        for i in range(5)
    ]
    text = "".join(json.dumps(r) + "\n" + ("\n" if i == 1 else "") for i, r in enumerate(rows))
    jsonl, source = _jsonl(write("run.jsonl", text))
    frame = jsonl.read(source, ReadOptions(step="iter"))
    loss = frame[frame["metric"] == "loss"]
    assert loss["step"].tolist() == [0, 1, 2, 3, 4]
    assert loss["value"].tolist() == pytest.approx([2.0, 1.9, 1.8, 1.7, 1.6])
    assert frame["run"].astype(str).unique().tolist() == [""]


@pytest.mark.parametrize(
    "content, found",
    [
        (b'{"step": 1, "loss": 2.0}\n{"step": 2}\n', True),
        (b'# a comment\n{"step": 1, "loss": 2.0}\n', False),  # a JSON Lines log starts with "{"
        (b"", False),
        (b'{"step": 1, "loss": [1, 2]}\nnot json\n', True),  # the first line decides
        (b'"a string"\n', False),
    ],
)
def test_a_jsonl_log_is_sniffed_by_its_first_line(write, content, found):
    jsonl, source = _jsonl(write("run.log", content))
    assert bool(jsonl.sniff(source)) is found


def test_a_first_jsonl_line_nested_too_deep_is_the_files_problem(write):
    jsonl, source = _jsonl(write("run.jsonl", "{" + '"a": {' * 2000 + "}" * 2001 + "\n"))
    with pytest.raises(InputError) as raised:
        jsonl.sniff(source)
    assert raised.value.source == source.name and "nested deeper" in str(raised.value)


def test_only_the_first_jsonl_line_is_looked_at_when_sniffing(write):
    deep = "{" + '"a": {' * 2000 + "}" * 2001
    jsonl, source = _jsonl(write("run.jsonl", '{"step": 1, "loss": 2.0}\n' + deep + "\n"))
    assert jsonl.sniff(source) is True


def test_a_jsonl_line_too_deep_or_too_wide_is_the_files_problem(write, monkeypatch):
    from losstest.readers.limits import ENV

    deep = "{" + '"a": {' * 2000 + "}" * 2001
    jsonl, source = _jsonl(write("deep.jsonl", '{"step": 1, "loss": 2.0}\n' + deep + "\n"))
    with pytest.raises(InputError) as raised:
        jsonl.read(source)
    assert raised.value.source == source.name and "nested deeper" in str(raised.value)
    monkeypatch.setenv(ENV["keys"], "10")
    wide = json.dumps({"step": 2, **{f"k{i}": i for i in range(20)}})
    jsonl, source = _jsonl(write("wide.jsonl", '{"step": 1, "loss": 2.0}\n' + wide + "\n"))
    with pytest.raises(InputError) as raised:
        jsonl.read(source)
    assert raised.value.source == source.name and "keys" in str(raised.value)


def _csv_read(path):
    from losstest.readers import Source, csv

    return csv.read(Source(str(path), path))


def test_a_csv_row_past_the_head_shorter_than_its_header_is_read_with_its_cells_missing(write):
    """A row of another width past the first rows (a crash mid-write, resumed): pyarrow refuses
    the table; it is read as text and typed after, the cells left out and the missing markers
    missing, the text column left out."""
    rows = [f"{i},{2.0 - i * 1e-4:.4f},{1.5 - i * 1e-4:.4f},warm" for i in range(6000)]
    rows[5000] = "5000,1.5"  # short: val_loss and note left out
    rows[5001] = "5001,1.4999,NA,warm"
    path = write("run.csv", "step,loss,val_loss,note\n" + "\n".join(rows) + "\n")
    frame = _csv_read(path)
    assert set(frame["metric"].astype(str)) == {"loss", "val_loss"}
    loss = frame[frame["metric"] == "loss"]
    val = frame[frame["metric"] == "val_loss"]
    assert loss["step"].tolist() == list(range(6000))
    assert loss["value"].iloc[5000] == 1.5 and loss["value"].iloc[5999] == pytest.approx(1.4001)
    assert len(val) == 5998 and not {5000, 5001} & set(val["step"].tolist())


def test_a_csv_row_past_the_head_wider_than_its_header_names_the_file(write):
    rows = [f"{i},{2.0 - i * 1e-4:.4f}" for i in range(6000)]
    rows[5000] = "5000,1.5,7,8"  # two cells no column holds
    path = write("run.csv", "step,loss\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as raised:
        _csv_read(path)
    assert raised.value.source == str(path)
