"""nan: where it must fire and where it must stay quiet, real logs first; then its evidence."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.checks import nan

from ..conftest import healthy_curve
from .runs import Boundary, made_up, of_kind, real, unpinned

# (log, (metric, first step, came back) of each finding)
FIRES = [
    ("realruns/nan.jsonl", [("loss", 4, False), ("val_loss", 50, False)]),
    ("realruns_csv/nan.csv", [("loss", 4, False), ("val_loss", 50, False)]),
    ("sample_logs/nan.jsonl", [("loss", 4, False), ("val_loss", 50, False)]),
]
QUIET = [
    "realruns/healthy.jsonl", "realruns/late_divergence.jsonl", "realruns/oscillation.jsonl",
    "realruns/spikes.jsonl", "sweep/lr=10_seed=0", "sweep/lr=10_seed=1",
    "corpus/modded-nanogpt/main.log", "corpus/whisper-large-v2-ja/trainer_state.json",
    "corpus/trackio/logs.csv", "corpus/megatron-lm/golden_values_dev_dgx_h100.json",
]  # fmt: skip


@pytest.mark.parametrize("name, expected", FIRES)
def test_fires_on_real_runs_that_went_nan(name, expected):
    found = of_kind(real(name), "nan")
    assert [(f.metric, f.start_step, f.evidence["recovered"]) for f in found] == expected
    assert all(f.severity == "fail" and "became NaN" in f.message for f in found)
    assert "came back" not in found[0].message


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_that_stayed_finite(name):
    assert of_kind(real(name), "nan") == []


def test_onset_count_and_the_last_finite_value():
    loss = healthy_curve(300)
    loss[200:] = np.nan
    loss[250] = np.inf
    (finding,) = of_kind(made_up(loss), "nan")
    assert (finding.start_step, finding.end_step) == (200, 299)
    assert finding.evidence["non_finite"] == 100 and finding.evidence["inf"] == 1
    assert finding.evidence["nan"] == 99 and finding.evidence["first_step"] == 200
    assert finding.evidence["last_finite_step"] == 199
    assert finding.evidence["last_finite_value"] == pytest.approx(loss[199], rel=1e-3)
    assert finding.evidence["recovered"] is False and "came back" not in finding.message


def test_a_loss_that_came_back_after_a_nan_says_so():
    loss = healthy_curve(300)
    loss[100:103] = np.nan
    (finding,) = of_kind(made_up(loss), "nan")
    assert finding.evidence["recovered"] is True and "but it came back" in finding.message
    assert (finding.start_step, finding.end_step) == (100, 102)
    loss[-1] = np.nan  # NaN again at the very end: it did not come back after all
    (finding,) = of_kind(made_up(loss), "nan")
    assert finding.evidence["recovered"] is False and finding.end_step == 299
    loss[-2] = np.nan  # ... and back for the last point only
    loss[-1] = 2.0
    (finding,) = of_kind(made_up(loss), "nan")
    assert finding.evidence["recovered"] is True and finding.end_step == 298


def test_infinity_first_is_named_and_a_nan_first_point_has_no_last_finite():
    loss = healthy_curve(100)
    loss[40] = -np.inf
    (finding,) = of_kind(made_up(loss), "nan")
    assert "became -inf at step 40" in finding.message and finding.evidence["inf"] == 1
    loss[0] = np.nan
    (finding,) = of_kind(made_up(loss), "nan")
    assert "last_finite_step" not in finding.evidence and finding.start_step == 0


def test_a_nan_validation_loss_is_its_own_finding():
    steps = np.arange(0, 300, 50)
    val = np.array([3.0, 2.5, 2.2, np.nan, 2.0, 1.9])
    (finding,) = of_kind(made_up(healthy_curve(300), val=val, val_steps=steps), "nan")
    assert finding.metric == "val_loss" and finding.start_step == 150
    assert finding.evidence["recovered"] is True


def test_a_real_run_that_lost_two_batches_to_float16_warns():
    """float16 training under torch's GradScaler: two batches overflow to a NaN loss, the scaler
    skips them (halving its scale) and the run goes on to 0.06: a warning, not a failure."""
    run = real("amp/skipped_steps.jsonl")
    (finding,) = run.findings
    assert (finding.kind, finding.severity, run.verdict) == ("nan", "warn", "warn")
    assert (finding.start_step, finding.end_step) == (300, 700)
    assert finding.evidence["non_finite"] == 2 and finding.evidence["recovered"] is True
    assert finding.message == (
        "loss became NaN at step 300; 2 of 500 values are not finite, but it came back: "
        "a few batches lost, not the run"
    )


def _lost(share):
    """1,000 steps of a healthy loss, NaN at `share` of them spread over the run."""
    loss = healthy_curve(1000)
    loss[np.linspace(100, 900, round(share * 1000)).astype(int)] = np.nan
    return loss


BOUNDARIES = [
    # NaN at 5 % of the steps and back: a warning; at 5.1 %, a failure
    Boundary("recovered_share", _lost, quiet=0.05, fires=0.051, silences=0.06, wakes=0.04, at="fail"),
]  # fmt: skip


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("nan")


def test_every_parameter_is_pinned():
    assert unpinned(nan.Params, BOUNDARIES, {}) == set()


def test_a_loss_that_never_came_back_fails_however_few_its_nans():
    loss = healthy_curve(1000)
    loss[-1] = np.nan  # one NaN of 1,000, the last
    (finding,) = of_kind(made_up(loss), "nan")
    assert finding.severity == "fail" and finding.evidence["recovered"] is False


def test_the_finding_in_full_on_steps_counted_by_ten():
    """NaN from the 60th point, one +inf among them, one finite value in between: the first
    and last non-finite steps, and the last finite value before them."""
    loss = np.linspace(3, 1, 100)
    loss[60:] = np.nan
    loss[70], loss[80] = np.inf, 2.0
    (f,) = of_kind(made_up(loss, 5 + 10 * np.arange(100)), "nan")
    assert (f.code, f.severity, f.metric, f.start_step, f.end_step) == (
        "LT101",
        "fail",
        "loss",
        605,
        995,
    )
    assert f.message == "loss became NaN at step 605; 39 of 100 values are not finite"
    assert dict(f.evidence) == {
        "first_step": 605, "non_finite": 39, "nan": 38, "inf": 1, "recovered": False,
        "last_finite_step": 595, "last_finite_value": 1.80808,
    }  # fmt: skip
