"""overfitting: where it must fire and where it must stay quiet, real logs first; then its
defaults pinned from both sides."""

from __future__ import annotations

import re

import numpy as np
import pytest

from losstest.checks import overfitting
from losstest.formatting import num

from ..conftest import healthy_curve
from .runs import Boundary, found, kinds, made_up, of_kind, real, unpinned

# (log, step of the best validation loss, severity)
FIRES = [
    ("realruns/overfitting.jsonl", 50, "fail"),
    ("realruns_tb/overfitting", 50, "fail"),
    ("corpus/dl-fundamentals/6.7-dropout/version_1/metrics.csv", 9899, "fail"),
    ("corpus/whisper-large-v2-ja/trainer_state.json", 1000, "fail"),
    ("sample_logs/overfitting_lightning", 9899, "fail"),
    # evaluations scattered +-6 % (a tenth of an LSTM's digits): +10 % is slight, yet a rise
    ("families/lstm_overfit_mild_tbx", 160, "warn"),
    ("families/keras_cnn_overfit_mild_csvlogger", 21, "warn"),
]
QUIET = [
    "realruns/healthy.jsonl", "realruns/slow.jsonl", "realruns/noisy.jsonl",
    "realruns/plateau.jsonl", "realruns_tb/healthy", "sweep/lr=0.003_seed=0",
    "sweep/lr=0.0003_seed=1", "corpus/dl-fundamentals/6.7-dropout/version_0/metrics.csv",
    "corpus/dl-fundamentals/6.5-part2-cli-simple/version_2",
    "corpus/megatron-lm/golden_values_dev_dgx_h100.json",
    # 15 epochs whose validation loss scatters +-19 %: a last value 7 % over the best is noise
    "families/keras_lstm_short_csvlogger",
]  # fmt: skip


@pytest.mark.parametrize("name, best_step, severity", FIRES)
def test_fires_on_real_overfitting(name, best_step, severity):
    (finding,) = of_kind(real(name), "overfitting")
    assert (finding.start_step, finding.severity) == (best_step, severity)
    assert finding.evidence["best_step"] == best_step
    assert finding.evidence["last"] > finding.evidence["best"]
    assert finding.evidence["train_last"] < finding.evidence["train_at_best"]
    assert finding.metric == real(name).val_metric


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_that_generalise(name):
    assert of_kind(real(name), "overfitting") == []


TRAIN = healthy_curve(1000, 0.02)
EVALS = np.arange(0, 1000, 50)


def _u_shape(rise, best=600):
    """Validation loss falling to step `best`, then rising by `rise` (log) to the end."""
    z = np.where(best >= EVALS, -0.5 * EVALS / best, -0.5 + rise * (EVALS - best) / (950 - best))
    return {"loss": TRAIN, "val": 2.5 * np.exp(z), "val_steps": EVALS}


def _best_before_end(evaluations):
    """The best validation loss `evaluations` before the last, each later one 0.2 higher."""
    k = int(evaluations)
    z = np.r_[np.linspace(0, -0.5, 20 - k), -0.5 + 0.2 * np.arange(1, k + 1)]
    return {"loss": TRAIN, "val": 2.5 * np.exp(z), "val_steps": EVALS}


def _train_falls_after_best(drop):
    """The training loss falls by `drop` (log) after the best validation step 500."""
    t = np.arange(500)
    train = np.r_[3.0 * np.exp(-t / 200), 3.0 * np.exp(-2.5) * np.exp(-drop * t / 500)]
    z = np.where(EVALS <= 500, -0.5 * EVALS / 500, -0.5 + 0.2 * (EVALS - 500) / 450)
    return {"loss": train, "val": 2.5 * np.exp(z), "val_steps": EVALS}


def _noisy_u(noise, rise=0.8):
    """`_u_shape` (best at step 400) with evaluations scattered by `noise` (log, fixed seed)."""
    case = _u_shape(rise, best=400)
    case["val"] = case["val"] * np.exp(noise * np.random.default_rng(1).standard_normal(len(EVALS)))
    return case


def _rounded_rise(steps):
    """A validation loss logged to four decimals: down to 0.0003 at step 500, then up by `steps`
    of that rounding by step 700, and there to the end."""
    z = np.where(EVALS <= 500, 0.01 * (0.0003 / 0.01) ** (EVALS / 500), 0.0)
    later = EVALS > 500
    z[later] = 0.0003 + steps * 1e-4 * np.minimum(1.0, (EVALS[later] - 500) / 200)
    return {"loss": TRAIN, "val": np.round(z, 4), "val_steps": EVALS}


def _rising_evaluations(count):
    """`count` evaluations between steps 100 and 900, the validation loss rising from 1 to 2.5."""
    steps = np.linspace(100, 900, int(count)).astype(int)
    return {"loss": TRAIN, "val": np.linspace(1.0, 2.5, int(count)), "val_steps": steps}


def test_clear_overfitting_fails_and_slight_warns():
    (clear,) = of_kind(made_up(**_u_shape(0.3, best=400)), "overfitting")
    assert clear.severity == "fail" and clear.start_step == 400
    slight = np.concatenate([np.linspace(3, 2.5, 16), [2.6, 2.63, 2.66, 2.7]])
    run = made_up(TRAIN, val=slight, val_steps=EVALS)
    assert [f.severity for f in of_kind(run, "overfitting")] == ["warn"]


def test_no_overfitting_while_the_training_loss_stalls_too():
    train = TRAIN.copy()
    train[300:] = train[300] * np.exp(0.02 * np.random.default_rng(0).standard_normal(700))
    case = _u_shape(0.3, best=400) | {"loss": train}
    assert of_kind(made_up(**case), "overfitting") == []


def test_no_validation_loss_no_finding():
    assert kinds(made_up(TRAIN)) == []


BOUNDARIES = [
    Boundary("min_rise", _u_shape, quiet=0.045, fires=0.0475, silences=0.05, wakes=0.02),
    Boundary("fail_rise", _u_shape, quiet=0.30, fires=0.31, silences=0.25, wakes=0.15, at="fail"),
    Boundary("fail_points", _best_before_end, quiet=2, fires=3, silences=4, wakes=2, at="fail"),
    Boundary("min_points_after", _best_before_end, quiet=1, fires=2, silences=3, wakes=1),
    # a rise of 0.3 among evaluations that scatter by 0.53 (log) is evidence, by 0.54 not
    Boundary("significance", lambda n: _noisy_u(n, 0.3), quiet=0.54, fires=0.53, silences=0.7, wakes=0.3),
    # a rise of 0.8 fails among evaluations scattered by 0.16, only warns by 0.165
    Boundary("fail_significance", _noisy_u, quiet=0.165, fires=0.16, silences=5.0, wakes=3.0, at="fail"),
    # 3 evaluations rising from the first are too few to judge, 4 are judged
    Boundary("min_points", _rising_evaluations, quiet=3, fires=4, silences=5, wakes=3),
    Boundary("train_drop", _train_falls_after_best, quiet=0.01, fires=0.015, silences=0.03, wakes=0.003),
    # 0.0003 to 0.0005 logged to four decimals is the rounding's; to 0.0006, a rise
    Boundary("min_rounding_steps", _rounded_rise, quiet=2, fires=3, silences=4, wakes=2),
]  # fmt: skip
UNPINNED = {}


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("overfitting")


def test_every_parameter_is_pinned():
    assert unpinned(overfitting.Params, BOUNDARIES, UNPINNED) == set()


def test_the_finding_of_a_made_up_overfitting_in_full():
    """Validation loss 2.5 falling to 2.5/e^0.5 at step 400, then rising 0.3 (log) by 950:
    the last level is the median of the last fifth of the evaluations (850 and 900)."""
    (finding,) = found("overfitting", _u_shape(0.3, best=400))
    assert (finding.metric, finding.start_step, finding.end_step) == ("val_loss", 400, 950)
    last = 2.5 * np.exp(-0.5 + 0.3 * 475 / 550)
    train_at_best, train_last = np.median(TRAIN[376:425]), np.median(TRAIN[-50:])
    assert dict(finding.evidence) == pytest.approx(
        {"best": 2.5 * np.exp(-0.5), "best_step": 400, "last": last,
         "evaluations_after_best": 11, "train_at_best": train_at_best, "train_last": train_last},
        rel=1e-3,
    )  # fmt: skip
    assert finding.message == (
        f"val_loss rose from 1.516 at step 400 to {num(last)} by step 950 (+30%) while loss fell "
        f"from {num(train_at_best)} to {num(train_last)}"
    )


def test_a_validation_loss_crossing_zero_has_no_ratio_in_its_message():
    case = _u_shape(0.3, best=400)
    case["val"] = np.log(case["val"]) - 0.7  # 0.22 falling to -0.28 at step 400, back to 0.02
    (finding,) = found("overfitting", case)
    best = np.log(2.5) - 1.2
    assert finding.start_step == 400 and finding.evidence["best"] == pytest.approx(best, rel=1e-3)
    assert re.fullmatch(
        r"val_loss rose from -0\.2837 at step 400 to -0\.02\d+ by step 950 while loss fell "
        r"from 3\.\d+ to 2\.\d+",
        finding.message,
    )


def test_one_lucky_evaluation_early_is_not_the_best_level():
    """The best is judged from the smoothed validation loss: one evaluation at step 100 below
    the real low at step 600 does not move it."""
    case = _u_shape(0.3, best=600)
    case["val"][2] = 0.97 * case["val"].min()
    (finding,) = found("overfitting", case)
    assert finding.start_step == 600
    assert finding.evidence["best"] == pytest.approx(2.5 * np.exp(-0.5), rel=1e-4)


def test_a_validation_loss_swinging_with_an_oscillating_training_loss_is_the_oscillation():
    """x e^(+-0.5) every 250 steps on both, the validation loss drifting up meanwhile."""
    train = TRAIN * np.exp(0.5 * np.sin(2 * np.pi * np.arange(1000) / 250))
    val = 2.5 * np.exp(0.5 * np.sin(2 * np.pi * EVALS / 250) + 0.3 * EVALS / 1000)
    assert [
        f.start_step for f in found("overfitting", {"loss": train, "val": val, "val_steps": EVALS})
    ] == [200]
    assert kinds(made_up(train, val=val, val_steps=EVALS)) == ["oscillation"]


def _crossing_zero(rise):
    """A validation loss falling from 5.0 to -0.3 by step 500, then rising by `rise`."""
    z = np.where(EVALS <= 500, 5.0 - 5.3 * EVALS / 500, -0.3 + rise * (EVALS - 500) / 450)
    return {"loss": TRAIN, "val": z, "val_steps": EVALS}


@pytest.mark.parametrize("rise, severity", [(0.2, None), (1.0, "warn"), (1.5, "fail")])
def test_a_loss_crossing_zero_rises_by_a_share_of_its_fall(rise, severity):
    """No ratios across zero: the rise (to the median of the last evaluations, 0.83 of the
    1.0 here) is judged against the fall of 5.3, 3 % at least, 20 % for a fail."""
    findings = found("overfitting", _crossing_zero(rise))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_a_training_loss_logged_sparsely_is_read_between_its_points():
    """Training loss every 100 steps (3 e^(-step/1000)), the best evaluation at 450: the
    training loss then is interpolated (in log units), the last is the median of the last 3."""
    z = np.where(EVALS <= 450, -0.5 * EVALS / 450, -0.5 + 0.3 * (EVALS - 450) / 500)
    case = {
        "loss": 3 * np.exp(-0.1 * np.arange(10)),
        "steps": np.arange(0, 1000, 100),
        "val": 2.5 * np.exp(z),
        "val_steps": EVALS,
    }
    (finding,) = found("overfitting", case)
    assert finding.start_step == 450
    assert finding.evidence["train_at_best"] == pytest.approx(3 * np.exp(-0.45), rel=1e-4)
    assert finding.evidence["train_last"] == pytest.approx(3 * np.exp(-0.8), rel=1e-4)
