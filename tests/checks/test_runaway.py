"""runaway: a loss that falls without bound below zero, told apart from one that settles there;
real runs of an unbounded energy model and of Gaussian NLLs first."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.checks import runaway
from losstest.config import Config

from .runs import Boundary, found, of_kind, real, unpinned
from .runs import made_up as report

FIRES = ["families/density_unbounded_jsonl", "families/density_unbounded_mlflow"]
QUIET = ["families/gaussian_nll_negative_jsonl", "families/gaussian_nll_negative_tbx",
         "families/gaussian_nll_negative_mlflow", "families/vae_losses_jsonl"]  # fmt: skip


@pytest.mark.parametrize("name", FIRES)
def test_fires_on_a_real_unbounded_energy_model(name):
    (finding,) = of_kind(real(name), "runaway")
    assert finding.severity == "fail" and finding.evidence["last"] < -1e6


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_negative_losses_that_settle(name):
    assert of_kind(real(name), "runaway") == []


STEPS = np.arange(2000)
NOISE = np.random.default_rng(0).normal(size=2000)


def _broken(growth: float) -> np.ndarray:
    """A loss whose size grows `growth` times over the run, exponentially, below zero."""
    return -3e4 * np.exp(STEPS / 2000 * np.log(growth)) * (1 + 0.05 * NOISE)


def test_an_unbounded_likelihood_fails():
    run = report(_broken(2000))
    (finding,) = run.findings
    assert (finding.kind, finding.severity, finding.code) == ("runaway", "fail", "LT106")
    assert finding.evidence["last"] < -1e7 and finding.evidence["growth"] > 1000


def test_a_negative_log_likelihood_that_levels_off_passes():
    nll = -2.3 + 3.8 * np.exp(-STEPS / 300) + 0.05 * NOISE
    assert report(nll).verdict == "pass"


def test_just_above_and_below_the_growth_over_its_early_range():
    # the size at the end over the first tenth's range: growth ** 0.975 / (growth ** 0.1 - 1)
    assert "runaway" in {f.kind for f in report(_broken(60)).findings}  # 107x
    assert "runaway" not in {f.kind for f in report(_broken(50)).findings}  # 95x


def test_a_loss_that_stopped_falling_is_not_running_away():
    settled = np.maximum(_broken(2000), -3e4 * 60)  # it stops at a floor
    assert "runaway" not in {f.kind for f in report(settled).findings}


def test_it_can_be_turned_off():
    assert report(_broken(2000), config=Config(ignore=frozenset({"runaway"}))).verdict == "pass"


# The other real logs, positive losses or ones that end high, stay quiet too.
OTHER_REAL_RUNS = [
    "realruns/healthy.jsonl", "realruns/late_divergence.jsonl", "realruns/oscillation.jsonl",
    "sweep/lr=10_seed=0", "corpus/modded-nanogpt/main.log", "corpus/trackio/logs.csv",
    "corpus/megatron-lm/golden_values_dev_dgx_h100.json",
]  # fmt: skip


@pytest.mark.parametrize("name", OTHER_REAL_RUNS)
def test_quiet_on_other_real_runs(name):
    assert of_kind(real(name), "runaway") == []


def _falls_late(share):
    """Grows 1000x below zero until 90 % of the run, then by `share` of its size to the end."""
    base = -3e4 * np.exp(np.minimum(STEPS, 1800) / 1800 * np.log(1000))
    extra = np.where(STEPS > 1800, share * (STEPS - 1800) / 200, 0.0)
    return base * (1 + extra) * (1 + 0.005 * NOISE)


BOUNDARIES = [
    # the final level over the range of the first tenth: 50 gives 95x, 60 gives 107x
    Boundary("min_growth", _broken, quiet=50, fires=60, silences=120.0, wakes=80.0),
    Boundary("min_late_drop", _falls_late, quiet=0.125, fires=0.15, silences=0.2, wakes=0.05),
]  # fmt: skip
UNPINNED = {"min_points": "not pinned: no run of 9 to 14 points grows enough to fire"}


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("runaway")


def test_every_parameter_is_pinned():
    assert unpinned(runaway.Params, BOUNDARIES, UNPINNED) == set()


def test_the_finding_in_full_from_where_the_level_crossed_zero():
    """From +5,000 through zero at its 40th point (step 300), on steps 100, 105, ...: the span
    runs from there to the last step; the growth is the final size over the first tenth's range."""
    loss = 5000 - 3e4 * (np.exp(STEPS / 2000 * np.log(2000)) - 1) * (1 + 0.05 * NOISE)
    (f,) = found("runaway", {"loss": loss, "steps": 100 + 5 * STEPS})
    assert (f.metric, f.start_step, f.end_step) == ("loss", 300, 10095)
    assert f.message == (
        "loss fell without bound: from 5000 to -4.896e+07 by step 10095 (1.47e+03 times its "
        "early range), and still falling"
    )
    assert dict(f.evidence) == {
        "first": 5000.0, "early_range": 33229.9, "late": -27928200.0, "last": -48955800.0,
        "growth": 1473.25,
    }  # fmt: skip


def test_a_loss_logged_as_zero_for_its_first_tenth_has_no_early_range_to_grow_from():
    """Flat at exactly 0 until step 300, then falling without bound: runaway from the first
    step below zero, with no growth to state."""
    loss = np.where(STEPS < 300, 0.0, -(np.exp((STEPS - 300) / 170) - 1))
    (f,) = found("runaway", loss)
    assert (f.start_step, f.end_step) == (301, 1999)
    assert (
        f.message == "loss fell without bound: from 0 to -1.636e+04 by step 1999, and still falling"
    )
    assert (f.evidence["early_range"], f.evidence["growth"]) == (0.0, None)


@pytest.mark.parametrize("end", [0.0, 0.5])
def test_a_loss_logged_as_zero_at_first_that_ends_at_or_above_zero_did_not_run_away(end):
    """No early range to compare with, and still falling at the end, but not below zero."""
    loss = np.interp(STEPS, [0, 400, 1000, 1800, 1900, 1999], [0, 0, 50, 5, end, end])
    assert found("runaway", loss) == []


def test_a_run_too_short_to_judge_is_left_alone():
    assert found("runaway", -np.exp(np.arange(11))) == []
