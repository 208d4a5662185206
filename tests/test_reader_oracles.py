"""The JSONL and CSV readers against independent parsers of the same files, value for value.

Every value losstest reads must be the bit pattern that pyarrow (JSONL) or pandas with
round-trip float parsing (CSV) reads, at the step the row was written at. The JSONL reader
has two paths (duckdb told every key by a compiled scan, for large files; pyarrow for the
rest): each file is read through both.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pytest

import losstest
from losstest import frame as canonical
from losstest.readers import _json_keys, csv, jsonl

RNG = np.random.default_rng(17)


def awkward_floats(n: int) -> list[float]:
    """Random bit patterns (every exponent), noise, and the edges of float64."""
    bits = RNG.integers(0, 2**63, n, dtype=np.int64).view(np.float64)
    noise = RNG.standard_normal(n) * 10.0 ** RNG.integers(-12, 12, n)
    edges = [5e-324, 1.7976931348623157e308, -0.0, 0.1, 1e22, 1e23, 2.0**53 + 1]
    return [float(v) for v in bits if math.isfinite(v)][: n // 2] + noise.tolist() + edges


def oracle_curves(table: pa.Table, step: str = "step") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(steps, values) per metric from a parsed table: rows without a step take the last one."""
    steps = pd.Series(table.column(step).to_numpy(zero_copy_only=False)).ffill()
    out = {}
    for name in table.column_names:
        if name == step:
            continue
        column = table.column(name)
        if pa.types.is_string(column.type):
            column = pc.cast(column, pa.float64())
        present = pc.is_valid(column).to_numpy(zero_copy_only=False) & steps.notna().to_numpy()
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        if present.any():
            out[name] = (steps.to_numpy()[present].astype(np.int64), values[present])
    return out


def assert_same_curves(frame: pd.DataFrame, expected: dict) -> None:
    assert set(frame["metric"].cat.categories) == set(expected)
    for metric, (steps, values) in expected.items():
        rows = frame[frame["metric"] == metric]
        np.testing.assert_array_equal(rows["step"].to_numpy(), steps, err_msg=metric)
        got = rows["value"].to_numpy()
        assert got.view(np.int64).tolist() == values.view(np.int64).tolist(), metric


@pytest.fixture(params=["duckdb", "pyarrow"])
def jsonl_path(request, monkeypatch):
    """Which JSONL path reads: the large-file one is forced on small files by its threshold,
    and its key scan is cut into ranges of a few KB so lines straddle range boundaries."""
    if request.param == "duckdb":
        monkeypatch.setattr(jsonl, "FAST_FROM", 0)
        monkeypatch.setattr(_json_keys, "RANGE", 4093)
    else:
        monkeypatch.setattr(jsonl, "FAST_FROM", 1 << 62)
    return request.param


def late_key_log(rows: int, late_row: int) -> str:
    """Train rows, an eval-only row every 100 steps, float steps every 7th row, NaN and
    Infinity as Python writes them, and a key first written at `late_row`."""
    values = awkward_floats(rows)
    lines = []
    for i in range(rows):
        record = {"step": float(i) if i % 7 == 3 else i, "loss": values[i], "lr": 3e-4}
        if i == rows // 3:
            record["loss"] = math.nan
        if i == rows // 2:
            record["loss"] = -math.inf
        if i >= late_row:
            record["late/metric"] = values[-1 - i % 50]
        lines.append(json.dumps(record))
        if i % 100 == 0:
            lines.append(json.dumps({"step": i, "val_loss": values[i] * 2}))
    return "\n".join(lines) + "\n"


def test_late_keys_eval_rows_and_awkward_floats_match_pyarrow(write, jsonl_path):
    path = write("late.jsonl", late_key_log(60_000, late_row=55_000))
    frame = losstest.load(path)
    assert_same_curves(frame, oracle_curves(pajson.read_json(path)))
    assert (frame["metric"] == "late/metric").sum() == 5_000


def test_rows_picked_a_block_at_a_time_match_pyarrow(write, jsonl_path, monkeypatch):
    """The melt picks a metric's rows in blocks: here blocks far shorter than a chunk, of an
    odd length, so that each chunk ends inside one."""
    monkeypatch.setattr(canonical, "PICKED_AT_ONCE", 997)
    path = write("late.jsonl", late_key_log(20_000, late_row=15_000))
    assert_same_curves(losstest.load(path), oracle_curves(pajson.read_json(path)))


def test_fast_path_reads_it_itself(write, monkeypatch):
    """The differential test above compares the fast path only while it does not fall back."""
    monkeypatch.setattr(_json_keys, "RANGE", 4093)
    path = write("late.jsonl", late_key_log(30_000, late_row=29_990))
    table = jsonl._fast_table(str(path))
    assert table.num_rows == 30_000 + 300
    assert set(table.column_names) == {"step", "loss", "lr", "late/metric", "val_loss"}


def test_lines_longer_than_a_scan_range_match_pyarrow(write, jsonl_path):
    """Wide records (300 metrics) make each line longer than the scan's ranges here."""
    values = awkward_floats(300 * 40)
    lines = [
        json.dumps({"step": i, **{f"layer{k}/grad_norm": values[i * 300 + k] for k in range(300)}})
        for i in range(40)
    ]
    path = write("wide.jsonl", "\n".join(lines) + "\n")
    assert len(lines[0]) > 4093
    assert_same_curves(losstest.load(path), oracle_curves(pajson.read_json(path)))


@pytest.mark.parametrize(
    "lines",
    [
        ['{"step": 1, "loss": {"train": 2.0}}'],  # nested: flattened by the general reader
        ['{"step": 1, "lo\\u0073s": 2.0}'],  # an escaped key
        ['{"step": 1, "loss": 2.0}', '{"step": 2, "loss": "high"}'],  # a number, then text
        ['{"step": 1, "Loss": 2.0, "loss": 3.0}'],  # duckdb's names ignore case
    ],
)
def test_fast_path_leaves_what_it_cannot_read_exactly_to_the_general_reader(write, lines):
    path = write("odd.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(jsonl._Unsuited):
        jsonl._fast_table(str(path))


def test_nulls_strings_and_booleans_match_the_general_reader(write, monkeypatch):
    log = (
        '{"step": 1, "loss": null, "tag": "a:b", "ok": true, "q": "1.5"}\n'
        '{"step": 2, "loss": 2.5, "tag": "c", "ok": false, "q": "2"}\n'
        '{"step": 3 , "loss" : 1e400, "ok": null, "q": null}\n'
    )
    path = write("mixed.jsonl", log)
    monkeypatch.setattr(jsonl, "FAST_FROM", 1 << 62)
    general = losstest.load(path)
    monkeypatch.setattr(jsonl, "FAST_FROM", 0)
    jsonl._fast_table(str(path))  # does not fall back
    pd.testing.assert_frame_equal(losstest.load(path), general)
    assert curve_values(general, "loss") == [2.5, math.inf]
    assert "ok" not in set(general["metric"]) and curve_values(general, "q") == [1.5, 2.0]


def curve_values(frame: pd.DataFrame, metric: str) -> list[float]:
    return frame.loc[frame["metric"] == metric, "value"].tolist()


def test_csv_matches_pandas_round_trip_parse(write):
    """Sparse eval values, `nan` and `inf` written as values, and a column first filled at row
    35,000 (past pyarrow's first block, whose types it infers)."""
    values = awkward_floats(40_000)
    rows = []
    for i, v in enumerate(values):
        val = repr(values[-1 - i]) if i % 50 == 0 else ""
        loss = "nan" if i == 100 else ("inf" if i == 200 else repr(v))
        late = repr(values[i // 2]) if i >= 35_000 else ""
        rows.append(f"{i},{loss},0.0003,{val},{late}")
    rows.append(f"{len(values)},,,{values[0]!r},")  # an eval-only row at the end
    path = write("run.csv", "step,loss,lr,val_loss,late\n" + "\n".join(rows) + "\n")
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    numbers = pd.read_csv(path, **exact)  # pandas 3 parses round-trip by default
    cells = pd.read_csv(path, dtype=str, keep_default_na=False)  # which cells are empty
    expected = {}
    for name in ("loss", "lr", "val_loss", "late"):
        present = ~cells[name].isin(csv.NULLS).to_numpy()
        expected[name] = (numbers["step"].to_numpy()[present], numbers[name].to_numpy()[present])
    assert_same_curves(losstest.load(path), expected)
    assert np.isnan(expected["loss"][1][100]) and expected["loss"][1][200] == math.inf
    assert len(expected["late"][0]) == len(values) - 35_000


def csv_log(rows: int, late: int, late_cell: str) -> str:
    """Integer steps, awkward floats, a sparse eval column, an integer column that turns to
    `late_cell` at row `late`, and a column first filled there."""
    values = awkward_floats(rows)
    lines = ["step,loss,val_loss,tokens,after"]
    for i in range(rows):
        tokens = late_cell if i == late else str(i * 512)
        after = repr(values[i // 3]) if i >= late else ""
        lines.append(
            f"{i},{values[i]!r},{repr(values[-1 - i]) if i % 50 == 0 else ''},{tokens},{after}"
        )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("late_cell", ["1024", "3.5", "diverged", ""])
def test_csv_types_from_the_first_block_read_what_inferring_reads(write, monkeypatch, late_cell):
    """A file longer than pyarrow's first block is read with the types that block shows; the
    frame is the one inferring over the whole file gives, bit for bit, whether a later cell
    fits its column (an integer, an empty cell) or not (a float or a word in an integer
    column: read again, inferring)."""
    path = write("run.csv", csv_log(60_000, 40_000, late_cell))
    assert path.stat().st_size > 2 * csv.FIRST_BLOCK
    typed = losstest.load(path)
    monkeypatch.setattr(csv, "_typed", lambda *args: None)
    inferred = losstest.load(path)
    assert list(typed.columns) == list(inferred.columns)
    assert list(typed["metric"].cat.categories) == list(inferred["metric"].cat.categories)
    for name in typed.columns:
        got, expected = typed[name].to_numpy(), inferred[name].to_numpy()
        if got.dtype.kind == "f":
            got, expected = got.view(np.int64), expected.view(np.int64)
        np.testing.assert_array_equal(got, expected, err_msg=name)
