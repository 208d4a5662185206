"""rule: limits declared in [[rules]], met and broken on real logs first; then where each limit
and each measured level lies."""

from __future__ import annotations

import numpy as np
import pytest

import losstest
from losstest import checks
from losstest.checks import rule
from losstest.config import Config, from_mapping
from losstest.errors import ConfigError

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


def _plan(data: dict) -> None:
    checks.plan(from_mapping(data, "losstest.toml"))


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"checks": {"rule": {"final_loss_below": 2.0}}},
         "losstest.toml: rules are declared as [[rules]], not in [checks.rule]"),
        ({"rules": [3.0]}, "losstest.toml: rules[1] must be a table"),
        ({"rules": [{"final_loss_below": 2.0}, {"limit": 3}]},
         "losstest.toml: rules[2]: unknown key 'limit' (known: final_loss_below, at_step, "
         "loss_below, min_val_loss_below, severity, name)"),
        ({"rules": [{"final_loss_below": "low"}]},
         "losstest.toml: rules[1]: final_loss_below must be float, not str"),
        ({"rules": [{"at_step": 3.5, "loss_below": 1.0}]}, "at_step must be int, not float"),
        ({"rules": [{"final_loss_below": 2.0, "severity": "fatal"}]},
         "losstest.toml: rules[1]: severity must be fail, warn or info, not 'fatal'"),
        ({"rules": [{"loss_below": 2.0}]}, "losstest.toml: rules[1]: at_step and loss_below go together"),
        ({"rules": [{"name": "quiet", "severity": "warn"}]}, "losstest.toml: rules[1] sets no limit"),
    ],
)  # fmt: skip
def test_a_rule_that_cannot_be_checked_is_named_with_its_problem(data, problem):
    with pytest.raises(ConfigError) as error:
        _plan(data)
    assert problem in str(error.value)


def test_a_rule_with_a_severity_and_every_limit_is_taken_as_written():
    steps = {c.kind: p for c, p, _ in checks.plan(from_mapping({"rules": [
        {"final_loss_below": 2, "at_step": 10, "loss_below": 3.0, "min_val_loss_below": 1.5,
         "severity": "info", "name": "all"},
        {"min_val_loss_below": 1.0},
    ]}, "losstest.toml")).steps}  # fmt: skip
    assert steps["rule"].rules == (
        rule.Rule("all", 2.0, 10, 3.0, 1.5, losstest.Severity.INFO),
        rule.Rule("rule 2", min_val_loss_below=1.0),
    )


def test_the_loss_at_a_step_between_sparse_logs_is_read_off_the_line_between_them():
    """Logged every 100 steps: nothing within 1 % of step 250, so between 2.0 and 3.0."""
    steps = np.arange(0, 1001, 100)
    loss = np.where(steps <= 200, 2.0, 3.0)
    (finding,) = of_kind(
        made_up(loss, steps, config=rules({"at_step": 250, "loss_below": 1.0})), "rule"
    )
    assert dict(finding.evidence) == {"rule": "rule 1", "at_step": 250, "loss": 2.5, "limit": 1.0}
    assert (finding.start_step, finding.end_step, finding.metric) == (250, 250, "loss")
    assert finding.message == "rule 1: loss at step 250 is 2.5, not below 1"


@pytest.mark.parametrize(
    "first, at, high, level",
    [
        # steps 1000-2000: within 1 % is +-10 steps, both ends in: 11 of the 21 high, two of
        # them the ends
        (1000, 1500, [1490, *range(1495, 1504), 1510], 3.0),
        (1000, 1500, [1489, *range(1495, 1504), 1511], 1.0),  # 9 of the 21
        # steps 0-100: 1 % is a step, so the median of a step and its two neighbours
        (0, 50, range(50, 52), 3.0),
    ],
)
def test_the_window_around_a_step_is_1_percent_of_the_run_s_steps_either_side(
    first, at, high, level
):
    steps = np.arange(first, first + (1001 if first else 101))
    loss = np.where(np.isin(steps, high), 3.0, 1.0)
    config = rules({"at_step": at, "loss_below": 0.5})
    (finding,) = of_kind(made_up(loss, steps, config=config), "rule")
    assert finding.evidence["loss"] == level


@pytest.mark.parametrize("at, level", [(100, 4.0), (1100, 2.0), (99, None), (1101, None)])
def test_a_step_is_checked_from_the_first_logged_step_to_the_last(at, level):
    steps = np.arange(100, 1101)
    loss = np.linspace(4.0, 2.0, len(steps))
    (finding,) = of_kind(
        made_up(loss, steps, config=rules({"at_step": at, "loss_below": 1.0})), "rule"
    )
    assert finding.evidence["loss"] == (level and pytest.approx(level, abs=0.03))
    if level is None:
        assert finding.message == f"rule 1: the run has no loss at step {at}"


def test_the_final_loss_finding_in_full():
    loss = np.r_[np.full(950, 3.0), np.full(50, 2.0)]
    (f,) = of_kind(made_up(loss, np.arange(1000) + 7, config=_final_limit(1.5)), "rule")
    assert (f.kind, f.code, f.severity, f.metric, f.start_step, f.end_step) == (
        "rule",
        "LT501",
        "fail",
        "loss",
        7,
        1006,
    )
    assert f.message == "rule 1: final loss 2 is not below 1.5"
    assert dict(f.evidence) == {"rule": "rule 1", "final_loss": 2.0, "limit": 1.5}


def test_the_lowest_validation_loss_finding_in_full():
    val = rules({"min_val_loss_below": 1.0})
    run = made_up(
        np.full(100, 2.0),
        np.arange(100) + 5,
        val=[3.0, np.nan, 1.25],
        val_steps=[10, 50, 90],
        config=val,
    )
    (f,) = of_kind(run, "rule")
    assert (f.metric, f.start_step, f.end_step) == ("val_loss", 5, 104)
    assert f.message == "rule 1: val_loss was at best 1.25, not below 1"
    assert dict(f.evidence) == {"rule": "rule 1", "min_val_loss": 1.25, "limit": 1.0}
    never = made_up(np.full(100, 2.0), val=[np.nan, np.nan], val_steps=[10, 50], config=val)
    (f,) = of_kind(never, "rule")
    assert f.message == "rule 1: val_loss was never logged, not below 1"
    assert f.evidence["min_val_loss"] is None


def test_a_run_without_a_finite_loss_breaks_no_rule():
    """It fails on its NaNs; a rule has nothing to measure."""
    run = made_up(np.full(50, np.nan), config=rules({"final_loss_below": 1.0}))
    assert of_kind(run, "rule") == []


def test_two_rules_broken_at_once_are_two_findings_seen_apart():
    config = rules({"final_loss_below": 1.0, "name": "a"}, {"final_loss_below": 1.5, "name": "b"})
    a, b = of_kind(made_up(np.full(100, 2.0), config=config), "rule")
    assert checks.identity(a) != checks.identity(b)
    assert checks.identity(a) == ("rule", "loss", 0, "a: final loss 2 is not below 1")


def test_a_broken_rule_is_its_own_test_case():
    run = real_with(HEALTHY, rules({"final_loss_below": 1.0, "name": "converges"}))
    (finding,) = of_kind(run, "rule")
    assert run.catalog["rule"].case_of(finding) == "converges"
