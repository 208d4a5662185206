"""runaway: a loss that falls without bound below zero, told apart from one that settles there."""

from __future__ import annotations

import numpy as np

from losstest.config import Config

from .runs import made_up as report

STEPS = np.arange(2000)
NOISE = np.random.default_rng(0).normal(size=2000)


def _broken(growth: float) -> np.ndarray:
    """A loss whose size grows `growth` times over the run, exponentially, below zero."""
    return -3e4 * np.exp(STEPS / 2000 * np.log(growth)) * (1 + 0.05 * NOISE)


def test_an_unbounded_likelihood_fails():
    run = report(_broken(2000))
    (finding,) = run.findings
    assert (finding.kind, finding.severity, finding.code) == ("runaway", "fail", "LT106")
    assert finding.evidence["last"] < -1e7 and finding.evidence["growth"] > 10


def test_a_negative_log_likelihood_that_levels_off_passes():
    nll = -2.3 + 3.8 * np.exp(-STEPS / 300) + 0.05 * NOISE
    assert report(nll).verdict == "pass"


def test_just_above_and_below_the_growth_over_the_second_half():
    # the median of the last 5 % over the middle: growth ** 0.475 for this curve
    assert "runaway" in {f.kind for f in report(_broken(160)).findings}  # 11x
    assert "runaway" not in {f.kind for f in report(_broken(100)).findings}  # 9x


def test_a_loss_that_stopped_falling_is_not_running_away():
    settled = np.maximum(_broken(2000), -3e4 * 60)  # it stops at a floor
    assert "runaway" not in {f.kind for f in report(settled).findings}


def test_it_can_be_turned_off():
    assert report(_broken(2000), config=Config(ignore=frozenset({"runaway"}))).verdict == "pass"
