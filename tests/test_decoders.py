"""The text readers' decoding, value by value: what each cell of a JSONL or CSV log becomes.
(Cases that mutation testing showed no other test looked at.)"""

from __future__ import annotations

import json

import pytest

import losstest
from losstest.errors import InputError
from losstest.readers import options


def metrics(path, **read) -> dict[str, list[tuple[int, float]]]:
    frame = losstest.load(path, options(**read))
    return {
        str(m): list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))
        for m, rows in frame.groupby("metric", observed=True)
    }


def test_quoted_numbers_with_spaces_are_numbers(write):
    path = write("q.jsonl", '{"step": 0, "loss": " 3.5 "}\n{"step": 1, "loss": "2.5"}\n')
    assert metrics(path) == {"loss": [(0, 3.5), (1, 2.5)]}


def test_nested_records_become_dotted_names(write):
    lines = [{"step": 0, "train": {"loss": 3.0, "acc": {"top1": 0.1}}}, {"step": 1, "train": {"loss": 2.0, "acc": {"top1": 0.2}}}]  # fmt: skip
    path = write("n.jsonl", "".join(json.dumps(r) + "\n" for r in lines))
    assert metrics(path) == {
        "train.acc.top1": [(0, 0.1), (1, 0.2)],
        "train.loss": [(0, 3.0), (1, 2.0)],
    }


def test_text_columns_are_passed_over_and_the_rest_read(write):
    path = write("t.csv", "name,step,loss\nalpha,0,3.0\nbeta,1,2.0\n")
    assert metrics(path) == {"loss": [(0, 3.0), (1, 2.0)]}


def test_of_two_columns_named_alike_the_first_is_kept(write):
    path = write("d.csv", "step,loss, loss \n0,3.0,9.0\n1,2.0,9.0\n")
    assert metrics(path) == {"loss": [(0, 3.0), (1, 2.0)]}


def test_an_empty_column_is_no_metric(write):
    path = write("e.csv", "step,loss,val_loss\n0,3.0,\n1,2.0,\n")
    assert metrics(path) == {"loss": [(0, 3.0), (1, 2.0)]}


@pytest.mark.parametrize("name, content", [
    ("s.csv", "it,objective,heldout\n0,3.0,1\n1,2.0,1\n"),
    ("s.jsonl", '{"it": 0, "objective": 3.0, "heldout": 1}\n{"it": 1, "objective": 2.0, "heldout": 1}\n'),
])  # fmt: skip
def test_a_step_column_that_is_not_there_names_the_columns(write, name, content):
    path = write(name, content)
    with pytest.raises(
        InputError, match=r"no numeric column 'iter' for --step \(columns: it, objective, heldout\)"
    ):
        metrics(path, step="iter")
    assert metrics(path, step="it") == {
        "heldout": [(0, 1.0), (1, 1.0)],
        "objective": [(0, 3.0), (1, 2.0)],
    }


def test_columns_of_lists_or_nulls_are_passed_over(write):
    rows = [{"step": 0, "loss": 3.0, "shape": [1, 2], "note": None}, {"step": 1, "loss": 2.0, "shape": [3], "note": None}]  # fmt: skip
    path = write("l.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert metrics(path) == {"loss": [(0, 3.0), (1, 2.0)]}
