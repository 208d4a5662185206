"""The engine: which curves of a run's frame the checks see, what a run's summary says, and a
run that names a metric it does not have; on frames whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from losstest.checks import CATALOG, CHECKS
from losstest.config import Config
from losstest.engine import (
    analyze_frame,
    analyze_run,
    counts_of,
    curve_of,
    pick_metrics,
    require_a_loss,
    run_curves,
    summary_of,
)
from losstest.errors import InputError
from losstest.frame import concat, empty, long_frame, single
from losstest.report import Summary


def _frame(rows: list[tuple[str, int, float]], run: str = "r", **extra) -> pd.DataFrame:
    metric, step, value = zip(*rows, strict=True)
    frame = long_frame(list(metric), np.array(step), np.array(value), run=run, **extra)
    frame.insert(0, "source", single("log.jsonl", len(frame)))
    return frame


# evaluations written between training steps, as a training loop logs them
INTERLEAVED = [("loss", 0, 4.0), ("loss", 10, 3.0), ("val_loss", 10, 3.5), ("loss", 20, 2.0),
               ("lr", 20, 0.1), ("val_loss", 20, 2.5), ("loss", 30, 1.0), ("grad_norm", 30, 9.0)]  # fmt: skip


def test_a_metric_written_between_others_is_one_curve_of_its_own_rows():
    frame = _frame(INTERLEAVED, wall_time=np.arange(8.0), epoch=np.zeros(8))
    loss = curve_of(frame, "loss")
    assert loss.metric == "loss"
    assert loss.step.tolist() == [0, 10, 20, 30] and loss.value.tolist() == [4.0, 3.0, 2.0, 1.0]
    assert loss.wall_time.tolist() == [0.0, 1.0, 3.0, 6.0] and loss.epoch.tolist() == [0.0] * 4
    val = curve_of(frame, "val_loss")
    assert val.step.tolist() == [10, 20] and val.value.tolist() == [3.5, 2.5]


def test_a_metric_written_in_one_stretch_is_taken_as_it_is():
    frame = _frame([("val_loss", 5, 9.0), ("loss", 0, 3.0), ("loss", 1, 2.0), ("lr", 1, 0.1)])
    loss = curve_of(frame, "loss")
    assert loss.step.tolist() == [0, 1] and loss.value.tolist() == [3.0, 2.0]
    assert loss.wall_time is None and loss.epoch is None


def test_the_counts_leave_out_metrics_without_values():
    frame = _frame(INTERLEAVED)
    assert counts_of(frame) == {"grad_norm": 1, "loss": 4, "lr": 1, "val_loss": 2}
    assert counts_of(frame[frame["metric"] != "lr"]) == {"grad_norm": 1, "loss": 4, "val_loss": 2}


def test_the_losses_are_found_by_name_unless_configured():
    frame = _frame(INTERLEAVED + [("eval_acc", 30, 0.5), ("total_loss", 30, 1.0)])
    assert pick_metrics(frame, Config()) == ("loss", "val_loss")
    assert pick_metrics(frame, Config(metric="total_loss")) == ("total_loss", "val_loss")
    assert pick_metrics(frame, Config(val_metric="eval_acc")) == ("loss", "eval_acc")
    # a configured name the run does not have is not replaced by a guess
    assert pick_metrics(frame, Config(metric="lss", val_metric="vl")) == (None, None)


def test_a_run_that_logged_only_evaluations_is_judged_on_them():
    curves = run_curves(
        _frame([("val_loss", 10, 3.0), ("val_loss", 20, 2.0)]), Config(), {"val_loss": 2}
    )
    assert curves.train.metric == "val_loss" and curves.val is None


def test_the_learning_rate_and_gradient_norm_come_along_for_the_plots():
    frame = _frame(INTERLEAVED)
    curves = run_curves(frame, Config(target=1.5), counts_of(frame))
    assert curves.lr.value.tolist() == [0.1] and curves.grad_norm.value.tolist() == [9.0]
    assert curves.target == 1.5 and curves.reference is None
    alone = _frame([("loss", 0, 1.0), ("loss", 1, 0.5)])
    curves = run_curves(alone, Config(), counts_of(alone))
    assert curves.lr is None and curves.grad_norm is None and curves.val is None


def _curve(values, steps=None):
    values = np.asarray(values, dtype=float)
    steps = np.arange(len(values)) if steps is None else np.asarray(steps)
    return curve_of(
        _frame([("loss", int(s), float(v)) for s, v in zip(steps, values, strict=True)]), "loss"
    )


def test_a_summary_is_the_first_last_and_lowest_value_and_the_final_level():
    curve = _curve([5.0, 3.0, 1.0, 2.0], steps=[10, 20, 30, 40])
    assert summary_of(curve) == Summary(5.0, 2.0, 1.0, 30, 2.0)


def test_a_summary_with_nans_keeps_the_raw_ends_of_training_and_the_finite_ends_of_validation():
    curve = _curve([np.nan, 3.0, 1.0, 2.0, np.nan], steps=[10, 20, 30, 40, 50])
    raw = summary_of(curve)
    assert np.isnan(raw.first) and np.isnan(raw.last) and (raw.min, raw.min_step) == (1.0, 30)
    assert summary_of(curve, ends="finite") == Summary(3.0, 2.0, 1.0, 30, 2.0)
    assert summary_of(_curve([np.nan, np.inf])) is None and summary_of(None) is None


def test_a_report_per_run_with_its_counts_and_sizes():
    two = concat([_frame(INTERLEAVED, run="a"), _frame(INTERLEAVED[:2], run="b")])
    a, b = analyze_frame(two, Config())
    assert (a.source, a.run, b.run) == ("log.jsonl", "a", "b")
    assert (a.metric, a.val_metric, a.steps, a.last_step, a.val_steps) == (
        "loss",
        "val_loss",
        4,
        30,
        2,
    )
    assert dict(a.metrics) == {"grad_norm": 1, "loss": 4, "lr": 1, "val_loss": 2}
    assert a.summary == Summary(4.0, 1.0, 1.0, 30, 1.0) and a.val_summary.min == 2.5
    assert (b.steps, b.last_step, b.val_metric, b.val_steps, b.val_summary) == (
        2,
        10,
        None,
        0,
        None,
    )


def test_a_frame_put_together_by_hand_is_one_run_when_its_columns_say_so():
    frame = _frame(INTERLEAVED)
    frame["source"], frame["run"] = "by-hand.csv", "only"  # plain text columns, not categories
    (report,) = analyze_frame(frame, Config())
    assert (report.source, report.run, report.steps) == ("by-hand.csv", "only", 4)


def test_a_misspelled_metric_is_named_with_what_the_run_has():
    with pytest.raises(InputError) as error:
        analyze_frame(_frame(INTERLEAVED), Config(metric="lss", val_metric="val_loss"))
    assert (
        str(error.value)
        == "log.jsonl: no metric 'lss' in run r (found: grad_norm, loss, lr, val_loss)"
    )
    with pytest.raises(InputError, match="no metric 'lss', 'vl' in run r"):
        analyze_frame(_frame(INTERLEAVED), Config(val_metric="vl", metric="lss"))


def test_a_run_without_a_loss_asks_for_one():
    with pytest.raises(InputError) as error:
        analyze_frame(_frame([("accuracy", 0, 0.5), ("lr", 0, 0.1)]), Config())
    assert str(error.value) == (
        "log.jsonl: no loss metric found in run r (found: accuracy, lr); name the loss with --metric"
    )


def test_a_run_s_report_holds_its_findings_its_curves_and_the_reference():
    frame = _frame([("loss", s, v) for s, v in enumerate([4.0, 3.0, 2.0, np.nan])]
                   + [("val_loss", 1, np.nan), ("val_loss", 2, 3.5), ("val_loss", 3, 2.5)])  # fmt: skip
    reference = _curve([4.0, 3.0])
    (report,) = analyze_frame(frame, Config(vocab_size=100), reference)
    assert "nan" in [f.kind for f in report.findings] and "nan" in report.checks
    assert report.curves.train.value[:3].tolist() == [4.0, 3.0, 2.0]
    assert report.curves.reference is reference and report.curves.chance == pytest.approx(
        np.log(100)
    )
    assert report.val_summary == Summary(3.5, 2.5, 2.5, 3, 2.5)  # its finite ends
    assert report.catalog is CATALOG


def test_a_run_judged_alone_without_a_training_loss_reports_nothing_measured():
    """What analyze_run makes of a frame with no loss at all (analyze_frame refuses one)."""
    report = analyze_run(_frame([("lr", 0, 0.1), ("lr", 1, 0.05)]), "log.jsonl", "r", Config())
    assert (report.metric, report.steps, report.last_step, report.summary) == (None, 0, None, None)
    assert report.curves.train is None and report.findings == ()
    # every check ran; rule and regression stand for no case without rules or a reference
    assert report.checks == tuple(k for k in CHECKS if k not in ("rule", "regression"))
    assert report.catalog is CATALOG


def test_runs_are_told_apart_by_their_source_and_their_name():
    by_hand = _frame(INTERLEAVED)
    by_hand["run"] = ["b", "a"] * 4  # plain text, not a category
    assert [r.run for r in analyze_frame(by_hand, Config())] == ["b", "a"]  # as they came
    one = _frame(INTERLEAVED, run="a")
    other = _frame(INTERLEAVED, run="b")
    other["source"] = single("other.jsonl", len(other))
    reports = analyze_frame(concat([one, other]), Config())
    assert [(r.source, r.run) for r in reports] == [("log.jsonl", "a"), ("other.jsonl", "b")]


def test_a_run_with_no_metric_at_all_says_so():
    with pytest.raises(InputError, match=r"no loss metric found in run r \(found: none\)"):
        require_a_loss(empty(), "log.jsonl", "r", Config())


def test_a_log_of_one_value_is_one_run_of_one_step():
    (report,) = analyze_frame(_frame([("loss", 7, 2.5)]), Config())
    assert (report.source, report.run, report.steps, report.last_step) == ("log.jsonl", "r", 1, 7)


def test_a_frame_of_over_a_million_rows_is_counted_whole():
    """Counted a million rows at a time: every chunk counts, not only the last."""
    n = (1 << 20) + 1000
    metric = pd.Categorical.from_codes(np.arange(n) % 2, ["loss", "lr"])
    frame = long_frame(metric, np.arange(n) // 2, np.ones(n))
    assert counts_of(frame) == {"loss": n // 2, "lr": n // 2}
