"""rule: limits declared in [[rules]], met and broken on real logs first; then where each limit
and each measured level lies."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.config import Config

from .runs import made_up, of_kind, real, real_with

HEALTHY = "sample_logs/healthy.jsonl"  # final loss 1.51, lowest validation loss 1.80


def rules(*tables: dict) -> Config:
    return Config(rules=tuple(tables))


MET = [
    {"final_loss_below": 1.6},
    {"at_step": 400, "loss_below": 2.5},
    {"min_val_loss_below": 1.9},
]
BROKEN = [
    (HEALTHY, {"final_loss_below": 1.4}, "final loss 1.479 is not below 1.4"),
    (HEALTHY, {"at_step": 400, "loss_below": 1.0}, "loss at step 400 is 1.6"),
    (HEALTHY, {"min_val_loss_below": 1.7}, "val_loss was at best 1.8"),
    (HEALTHY, {"at_step": 99999, "loss_below": 9.0}, "the run has no loss at step 99999"),
    ("corpus/trackio/logs.csv", {"min_val_loss_below": 9.0}, "validation loss was never logged"),
]


@pytest.mark.parametrize("rule", MET, ids=str)
def test_a_real_run_meets_these_rules(rule):
    assert of_kind(real_with(HEALTHY, rules(rule)), "rule") == []


@pytest.mark.parametrize("name, rule, says", BROKEN, ids=lambda x: str(x))
def test_a_real_run_breaks_these_rules(name, rule, says):
    (finding,) = of_kind(real_with(name, rules(rule)), "rule")
    assert finding.message.startswith("rule 1: ") and says in finding.message
    assert finding.severity == "fail" and finding.evidence["rule"] == "rule 1"


def test_rules_are_named_test_cases_and_take_a_severity():
    config = rules({"final_loss_below": 1.0, "name": "converges", "severity": "warn"},
                   {"final_loss_below": 9.0})  # fmt: skip
    run = real_with(HEALTHY, config)
    (finding,) = of_kind(run, "rule")
    assert finding.severity == "warn" and finding.message.startswith("converges: ")
    assert run.verdict == "warn" and "converges" in run.checks and "rule 2" in run.checks


def test_without_rules_nothing_is_checked():
    assert of_kind(real(HEALTHY), "rule") == []
    assert "rule" not in real(HEALTHY).checks


def _final_limit(final: float) -> Config:
    return rules({"final_loss_below": final})


def test_the_final_loss_is_the_median_of_the_last_5_percent():
    """Of 1000 points, the last 24 at 5.0 leave the median of the last 50 at 1.0; 26 move it."""
    for high, final in ((24, 1.0), (26, 5.0)):
        loss = np.r_[np.full(1000 - high, 1.0), np.full(high, 5.0)]
        (finding,) = of_kind(made_up(loss, config=_final_limit(0.5)), "rule")
        assert finding.evidence["final_loss"] == final


def test_limits_are_strict():
    loss = np.full(100, 2.0)
    (finding,) = of_kind(made_up(loss, config=_final_limit(2.0)), "rule")
    assert finding.evidence["final_loss"] == 2.0
    assert of_kind(made_up(loss, config=_final_limit(2.0001)), "rule") == []
    at = rules({"at_step": 50, "loss_below": 2.0})
    assert len(of_kind(made_up(loss, config=at), "rule")) == 1
    val = rules({"min_val_loss_below": 2.0})
    run = made_up(loss, val=[3.0, 2.0], val_steps=[10, 90], config=val)
    assert len(of_kind(run, "rule")) == 1


def test_the_loss_at_a_step_is_the_median_within_1_percent_of_the_run_around_it():
    """Steps 0-1000: within 1 % is +-10 steps, 21 points."""
    at = rules({"at_step": 500, "loss_below": 2.0})
    dip = np.full(1001, 3.0)
    dip[495:506] = 1.0  # 11 of the 21: the median is 1.0; over +-20 steps it would be 3.0
    assert of_kind(made_up(dip, config=at), "rule") == []
    hump = np.full(1001, 1.0)
    hump[495:506] = 3.0  # 11 of 21 high; over +-20 steps the median would be 1.0
    (finding,) = of_kind(made_up(hump, config=at), "rule")
    assert finding.evidence["loss"] == 3.0
    narrow = np.full(1001, 1.0)
    narrow[497:503] = 3.0  # 6 of 21 high: still 1.0; over +-2 steps it would be 3.0
    assert of_kind(made_up(narrow, config=at), "rule") == []
