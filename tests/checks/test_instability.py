"""instability: a long blow-up that came back, told apart from spikes and divergence; real logs
first, then its defaults pinned from both sides."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.checks import instability
from losstest.config import Config

from ..conftest import healthy_curve
from .runs import Boundary, finding, found, kinds, made_up, of_kind, real, unpinned

# (log, onset, back at, peak over the level before at least, share of the run lost at least):
# the sweep's loss blew up at its second step, and the trend over 1 % of the run stands high
# from the first on; the linear regression's at its third, swinging x10 step to step
FIRES = [
    ("sweep/lr=10_seed=1", 0, 263, 1000, 0.8),
    ("families/linreg_blowup_recovered_mlflow", 3, 1309, 500, 0.6),
]
QUIET = [
    "sweep/lr=0.001_seed=0", "sweep/lr=0.003_seed=1", "sweep/lr=0.0003_seed=0",
    "sweep/lr=10_seed=0",  # it never came back: a divergence
    "realruns/spikes.jsonl", "realruns/oscillation.jsonl", "realruns/late_divergence.jsonl",
    "realruns/noisy.jsonl", "corpus/modded-nanogpt/87bd51fd-6203-4c88-b3aa-8a849a6a83ca.txt",
    "corpus/deepspeed-examples/data_efficiency_vit_cifar/training.log",
]  # fmt: skip


@pytest.mark.parametrize("name, onset, back, peak, share", FIRES)
def test_a_real_blow_up_that_came_back_as_the_learning_rate_decayed(name, onset, back, peak, share):
    run = real(name)
    (finding,) = of_kind(run, "instability")
    assert run.verdict == "warn" and finding.severity == "warn" and finding.code == "LT105"
    assert (finding.start_step, finding.end_step) == (onset, back)
    assert finding.evidence["peak"] > peak * finding.evidence["level_before"]
    assert finding.evidence["steps_lost"] == back - onset
    assert finding.evidence["share_lost"] > share


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_without_a_long_blow_up(name):
    assert of_kind(real(name), "instability") == []


def _blow_up(ratio: float, length: int = 300, n: int = 2000) -> np.ndarray:
    loss = healthy_curve(n)
    loss[500 : 500 + int(length)] *= ratio
    return loss


def test_a_blow_up_that_never_comes_back_is_a_divergence_not_an_instability():
    assert kinds(made_up(_blow_up(50, 1500))) == ["divergence"]


def test_it_can_be_turned_off_by_code():
    run = made_up(_blow_up(10), config=Config(ignore=frozenset({"LT105"})))
    assert of_kind(run, "instability") == [] and run.verdict == "pass"


def test_the_steps_lost_run_until_the_level_is_back_within_back_ratio():
    """x10 for 300 steps, then x2 for 100, then x1.45 for 100: back within 1.5x of the level
    before at step 900; within 1.2x only at 1000, within 2.5x already at 800."""
    loss = _blow_up(10)
    loss[800:900] *= 2
    loss[900:1000] *= 1.45
    for back_ratio, back in ((None, 900), (1.2, 1000), (2.5, 800)):
        params = {} if back_ratio is None else {"back_ratio": back_ratio}
        (finding,) = found("instability", loss, **params)
        assert (finding.start_step, finding.evidence["back_step"]) == (500, back)
        assert finding.evidence["steps_lost"] == back - 500


def _few(points):
    m = int(points)
    loss = 2.0 * np.exp(0.01 * np.random.default_rng(0).standard_normal(m))
    loss[m // 4 : m // 4 + m // 3] *= 10
    return loss


BOUNDARIES = [
    Boundary("min_ratio", _blow_up, quiet=2.95, fires=3.0, silences=3.5, wakes=2.5),
    # of 2000 steps: 200 above are 10 %, 205 more
    Boundary("min_share", lambda length: _blow_up(10, length), quiet=200, fires=205, silences=0.12, wakes=0.08),
    Boundary("min_points", _few, quiet=11, fires=12, silences=15, wakes=9),
]  # fmt: skip
UNPINNED = {"back_ratio": "test_the_steps_lost_run_until_the_level_is_back_within_back_ratio"}


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("instability")


def test_every_parameter_is_pinned():
    assert unpinned(instability.Params, BOUNDARIES, UNPINNED) == set()


def _steady(n: int = 2001, level: float = 1.0) -> np.ndarray:
    """A loss flat at `level`: every level the check reports is one of the levels set."""
    return np.full(n, level)


def test_the_finding_in_full_on_steps_that_start_late_and_count_by_ten():
    """x10 from the 500th point for 300, then settled at 1.6x, never back within 1.5x: lost
    until the level is back below the excursion's edge; the share is of the run's 20,000 steps."""
    loss = _steady(level=2.0)
    loss[500:800] *= 10
    loss[800:] *= 1.6
    (f,) = found("instability", {"loss": loss, "steps": 1000 + 10 * np.arange(2001)})
    assert (f.metric, f.start_step, f.end_step) == ("loss", 6000, 9000)
    assert f.message == (
        "loss blew up from 2 to 20 at step 6000 and took 3000 steps (15% of the run) to come back"
    )
    assert dict(f.evidence) == {
        "level_before": 2.0, "peak": 20.0, "peak_step": 6000, "onset_step": 6000,
        "back_step": 9000, "steps_lost": 3000, "share_lost": 0.15,
    }  # fmt: skip


def test_a_blow_up_of_exactly_min_share_of_the_run_is_reported():
    """Above from step 500 to 700 of 0..2000: exactly a tenth of the run, "at least" it."""
    loss = _steady()
    loss[500:701] = 10.0
    (f,) = found("instability", loss)
    assert (f.start_step, f.evidence["share_lost"]) == (500, 0.1005)
    assert found("instability", loss, min_share=0.1001) == []


def test_a_level_back_at_exactly_back_ratio_times_the_level_before_is_back():
    loss = _steady()
    loss[500:701] = 10.0
    loss[701:900] = 1.5
    (f,) = found("instability", loss)
    assert f.evidence["back_step"] == 701


def test_a_short_jump_before_a_long_blow_up_does_not_hide_it():
    loss = _steady(level=2.0)
    loss[300:350] *= 10  # 2.5 % of the run: a spike's
    loss[1000:1400] *= 10
    (f,) = found("instability", loss)
    assert (f.start_step, f.end_step) == (1000, 1400)


def test_inside_a_divergence_or_an_oscillation_it_is_part_of_that():
    blow_up = finding("instability", 500, 800)
    assert instability.superseded(blow_up, [finding("divergence", 400, 2000)])
    assert instability.superseded(blow_up, [finding("oscillation", 500, 600)])
    assert not instability.superseded(blow_up, [finding("oscillation", 100, 400)])
    assert not instability.superseded(blow_up, [finding("spike", 0, 2000)])
