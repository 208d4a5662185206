"""The registry of checks: each check's parameters and severity read from the configuration
(and every mistake there named), checks picked by kind or code, findings severity-stamped,
ordered and said once, and what `config --show` prints."""

from __future__ import annotations

import dataclasses
import re

import pytest

from losstest import Severity
from losstest.checks import (
    CATALOG,
    CHECKS,
    Plan,
    describe,
    identity,
    kind_of,
    plan,
    section,
    tallies,
)
from losstest.checks import spike as spike_check
from losstest.config import Config
from losstest.curves import RunCurves
from losstest.errors import ConfigError

from .runs import finding


def _params(config: Config, kind: str):
    return {c.kind: (p, s) for c, p, s in plan(config).steps}[kind]


def test_a_check_s_table_sets_its_parameters_and_severity():
    params, severity = _params(
        Config(checks={"spike": {"threshold": 9, "severity": "fail"}}), "spike"
    )
    assert params == spike_check.Params(threshold=9.0) and severity == Severity.FAIL
    assert _params(Config(), "spike") == (spike_check.Params(), None)


@pytest.mark.parametrize(
    "config, problem",
    [
        (Config(checks={"spike": {"threshhold": 3}}),
         "configuration: unknown key checks.spike.threshhold (known: enabled, severity, "),
        (Config(checks={"spike": {"threshold": "high"}}, source="lt.toml"),
         "lt.toml: checks.spike.threshold must be float, not str"),
        (Config(checks={"spike": {"severity": 3}}), "configuration: checks.spike.severity must be str, not int"),
        (Config(checks={"spike": {"severity": "loud"}}),
         "configuration: checks.spike.severity: severity must be fail, warn or info, not 'loud'"),
        (Config(checks={"spike": {"enabled": "no"}}), "configuration: checks.spike.enabled must be bool, not str"),
        (Config(checks={"wobble": {}}, source="lt.toml"), "lt.toml: [checks.wobble]: unknown check 'wobble'"),
        (Config(select=frozenset({"LT999"})), "configuration: unknown check 'LT999' (known: nan (LT101), "),
        (Config(ignore=frozenset({"spikes"})), "configuration: unknown check 'spikes'"),
    ],
)  # fmt: skip
def test_every_mistake_in_the_checks_configuration_is_named(config, problem):
    with pytest.raises(ConfigError, match="^" + re.escape(problem)):
        plan(config)


def test_an_unknown_key_is_named_with_every_key_the_check_knows():
    with pytest.raises(ConfigError) as error:
        plan(Config(checks={"spike": {"threshhold": 3}}))
    known = str(error.value).partition("(known: ")[2].rstrip(")").split(", ")
    assert sorted(known) == sorted(
        ["enabled", "severity", *spike_check.Params.__dataclass_fields__]
    )


def test_checks_are_named_by_kind_or_by_code_in_any_case():
    assert kind_of("spike", "") == kind_of("LT103", "") == kind_of("lt103", "") == "spike"
    kinds = lambda config: [c.kind for c, _, _ in plan(config).steps]  # noqa: E731
    assert kinds(Config(select=frozenset({"lt101", "spike"}))) == ["nan", "spike"]
    assert "spike" not in kinds(Config(ignore=frozenset({"LT103"})))
    assert "spike" not in kinds(Config(checks={"spike": {"enabled": False}}))
    assert kinds(Config(checks={"spike": {"enabled": True}})) == list(CHECKS)


class _Fixed:
    """A stand-in detect that returns set findings: what the plan does with them is the test."""

    def __init__(self, *findings):
        self.findings = list(findings)

    def __call__(self, curves, params):
        return self.findings


def _run(steps, found: dict) -> tuple:
    checks = [(dataclasses.replace(CHECKS[k], detect=_Fixed(*found.get(k, ()))), CHECKS[k].params(), s)
              for k, s in steps]  # fmt: skip
    return Plan(tuple(checks)).run(RunCurves(None, None))


def test_findings_take_the_configured_severity_and_their_check_s_code():
    (f,) = _run([("spike", Severity.FAIL)], {"spike": [finding("spike", 10, 20)]})[0]
    assert (f.severity, f.code) == (Severity.FAIL, "LT103")
    (f,) = _run([("spike", None)], {"spike": [finding("spike", 10, 20)]})[0]
    assert (f.severity, f.code) == (Severity.WARN, "LT103")


def test_findings_are_ordered_by_step_then_the_most_severe_first():
    late, spike = finding("plateau", 50, 90), finding("spike", 10, 20)
    nan = dataclasses.replace(finding("nan", 10, 90), severity="fail")
    said, cases = _run([("plateau", None), ("spike", None), ("nan", None)],
                       {"spike": [spike], "plateau": [late], "nan": [nan]})  # fmt: skip
    assert [(f.kind, f.start_step) for f in said] == [("nan", 10), ("spike", 10), ("plateau", 50)]
    assert cases == ("plateau", "spike", "nan")


def test_a_finding_another_one_already_says_is_left_out():
    blow_up, divergence = finding("instability", 500, 800), finding("divergence", 400, 2000)
    said, _ = _run([("instability", None), ("divergence", None)],
                   {"instability": [blow_up], "divergence": [divergence]})  # fmt: skip
    assert [f.kind for f in said] == ["divergence"]


def test_a_check_that_stands_for_several_test_cases_names_them():
    rule = CHECKS["rule"]
    params = rule.settings(Config(rules=({"final_loss_below": 1.0, "name": "a"},
                                         {"final_loss_below": 2.0})))[0]  # fmt: skip
    _, cases = Plan(((rule, params, None), (CHECKS["nan"], CHECKS["nan"].params(), None))).run(
        RunCurves(None, None)
    )
    assert cases == ("a", "rule 2", "nan")


def test_a_finding_is_new_to_a_watcher_by_its_kind_and_metric_unless_its_check_says_more():
    a, b = finding("plateau", 10, 20), finding("plateau", 30, 40)
    assert identity(a) == identity(b) == ("plateau", "loss")
    assert identity(finding("unknown-kind")) == ("unknown-kind", "loss")


def test_the_leaderboard_counts_spikes_and_sums_swings():
    found = (finding("spike"), finding("spike"), finding("oscillation", swings=7),
             finding("oscillation", swings=5), finding("plateau"))  # fmt: skip
    assert tallies(found) == {"spikes": 2, "swings": 12}
    assert tallies(()) == {"spikes": 0, "swings": 0}


def test_a_check_s_title_and_advice_come_from_its_docstring():
    nan = CATALOG["nan"]
    assert (nan.kind, nan.code, nan.title) == ("nan", "LT101", "the loss became NaN or infinite.")
    assert nan.advice.startswith("lower the learning rate") and nan.advice.endswith(
        "division by zero in the loss."
    )
    # the example after "What to do" is not advice
    assert CATALOG["rule"].advice.endswith("the rule was too tight.")
    assert nan.marks and nan.blows_up and not CATALOG["plateau"].blows_up


def test_a_docstring_section_ends_at_the_next_heading():
    doc = "x — y.\n\nWhat it detects: a\nthing. Why it matters: it does.\nWhat to do: fix it."
    assert section(doc, "What it detects:") == "a thing."
    assert section(doc, "What to do:") == "fix it."
    assert section(doc, "Algorithm:") == ""


def test_config_show_states_every_check_with_its_settings_in_effect():
    lines = describe(Config(ignore=frozenset({"spike"}), checks={"nan": {"severity": "warn"}}))
    text = "\n".join(lines)
    assert lines[:4] == ["", "[checks.nan]  # LT101", "enabled = true", 'severity = "warn"']
    spike = "\n".join(["[checks.spike]  # LT103", "enabled = false", 'severity = "warn"',
                       f"threshold = {spike_check.Params().threshold!r}"])  # fmt: skip
    assert spike in text
    # rules and the reference are tables of their own, not parameters
    assert '[checks.rule]  # LT501\nenabled = true\nseverity = "fail"\n\n' in text
    assert all(f"[checks.{kind}]  # {check.code}" in text for kind, check in CHECKS.items())
