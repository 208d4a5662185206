"""regression: runs worse than a known-good reference, real logs first; then its tolerance, its
warmup and how long a run must stay worse."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import losstest
from losstest import checks
from losstest.checks import regression
from losstest.config import Config, from_mapping
from losstest.errors import ConfigError

from ..conftest import DATA, healthy_curve
from .runs import made_up, of_kind, real_with

REFERENCE = {"run": str(DATA / "realruns/healthy.jsonl"), "tolerance": 0.05, "after_step": 50}

# (log, tolerance, first step found worse)
FIRES = [
    ("realruns/slow.jsonl", 0.05, 50),
    ("realruns/late_divergence.jsonl", 0.05, 496),
    ("realruns/plateau.jsonl", 0.05, 50),
    ("realruns/healthy_seed1.jsonl", 0.05, 256),  # another seed: up to 9 % worse for a while
]
QUIET = [
    ("realruns/healthy.jsonl", 0.05),
    ("realruns_tb/healthy", 0.05),  # the same regime written by torch's SummaryWriter
    ("realruns/healthy_seed1.jsonl", 0.1),
]


def against(reference: dict) -> Config:
    return Config(reference=reference)


@pytest.mark.parametrize("name, tolerance, start", FIRES)
def test_fires_on_real_runs_worse_than_the_reference(name, tolerance, start):
    config = against(REFERENCE | {"tolerance": tolerance})
    (finding,) = of_kind(real_with(name, config), "regression")
    assert finding.start_step == start and finding.severity == "fail"
    assert finding.evidence["worst_excess"] > tolerance
    assert finding.evidence["reference"] == REFERENCE["run"]


@pytest.mark.parametrize("name, tolerance", QUIET)
def test_quiet_on_real_runs_as_good_as_the_reference(name, tolerance):
    run = real_with(name, against(REFERENCE | {"tolerance": tolerance}))
    assert of_kind(run, "regression") == [] and "regression" in run.checks


def test_without_a_reference_nothing_is_compared():
    run = made_up(healthy_curve(100))
    assert "regression" not in run.checks


@pytest.fixture
def reference_file(tmp_path):
    path = tmp_path / "reference.jsonl"
    path.write_text("".join(f'{{"step": {s}, "loss": {v}}}\n' for s, v in enumerate(LOSS)))
    return str(path)


LOSS = healthy_curve(1000, 0.0)


def worse_by(share: float, start: int = 600, end: int = 1000) -> np.ndarray:
    loss = LOSS.copy()
    loss[start:end] *= 1 + share
    return loss


@pytest.mark.parametrize("share, found", [(0.04, False), (0.06, True)])
def test_the_tolerance_is_5_percent(reference_file, share, found):
    config = against({"run": reference_file})
    assert bool(of_kind(made_up(worse_by(share), config=config), "regression")) is found
    moved = against({"run": reference_file, "tolerance": 0.07 if found else 0.03})
    assert bool(of_kind(made_up(worse_by(share), config=moved), "regression")) is not found


def test_a_run_logged_more_sparsely_is_compared_where_it_logged(reference_file):
    every5 = np.arange(0, 1000, 5)
    run = made_up(worse_by(0.02)[every5], steps=every5, config=against({"run": reference_file}))
    assert of_kind(run, "regression") == []
    run = made_up(worse_by(0.2)[every5], steps=every5, config=against({"run": reference_file}))
    (finding,) = of_kind(run, "regression")
    assert 590 <= finding.start_step <= 620
    assert finding.evidence["worst_excess"] == pytest.approx(0.2, abs=0.01)


def test_a_worse_warmup_counts_unless_after_step_skips_it(reference_file):
    loss = worse_by(0.3, start=0, end=100)
    (finding,) = of_kind(made_up(loss, config=against({"run": reference_file})), "regression")
    assert finding.start_step == 0 and finding.end_step < 110
    skipped = against({"run": reference_file, "after_step": 150})
    assert of_kind(made_up(loss, config=skipped), "regression") == []


def test_three_compared_points_in_a_row_are_a_regression(reference_file):
    """Logged every 100 steps: three points in a row worse survive the smoothing and count."""
    every100 = np.arange(0, 1000, 100)
    loss = LOSS[every100].copy()
    loss[4:7] *= 1.5
    config = against({"run": reference_file})
    (finding,) = of_kind(made_up(loss, steps=every100, config=config), "regression")
    assert finding.end_step == 600 and finding.evidence["worst_step"] in (400, 500, 600)
    assert regression.SUSTAINED == 3


def test_every_parameter_is_pinned():
    params = {f.name for f in dataclasses.fields(regression.Params)}
    assert params == {"run", "tolerance", "after_step", "severity"}
    assert regression.Params().tolerance == 0.05 and regression.Params().after_step == 0


def test_the_finding_in_full(reference_file):
    """20 % worse from step 600 to the end: the worst point a little after the change, where
    the reference is still falling and the run's smoothed level has caught up."""
    run = made_up(worse_by(0.2), config=against({"run": reference_file}))
    (f,) = of_kind(run, "regression")
    assert (f.kind, f.code, f.severity, f.metric, f.start_step, f.end_step) == (
        "regression",
        "LT502",
        "fail",
        "loss",
        600,
        999,
    )
    assert f.message == (
        "loss is worse than the reference by up to 20% (at step 630: 3.503 against 2.919; "
        "tolerance 5%) over 40% of the compared steps"
    )
    assert dict(f.evidence) == {
        "reference": reference_file, "worst_step": 630, "run": 3.503, "reference_value": 2.91917,
        "worst_excess": 0.2, "share_outside": 0.4, "tolerance": 0.05,
    }  # fmt: skip


def test_the_reference_takes_a_severity(reference_file):
    run = made_up(worse_by(0.2), config=against({"run": reference_file, "severity": "warn"}))
    (f,) = of_kind(run, "regression")
    assert f.severity == "warn" and run.verdict == "warn"


def test_steps_are_compared_from_after_step_on(reference_file):
    """A run worse everywhere: worse from step 150 exactly when the comparison starts there."""
    config = against({"run": reference_file, "after_step": 150})
    (f,) = of_kind(made_up(LOSS * 1.3, config=config), "regression")
    assert f.start_step == 150


def test_only_the_steps_the_reference_logged_are_compared(tmp_path):
    """The reference logged steps 300 to 700 only: a run worse everywhere is worse on those;
    one worse only before 300 and after 700 is not compared there."""
    part = tmp_path / "part.jsonl"
    part.write_text("".join(f'{{"step": {s}, "loss": {LOSS[s]}}}\n' for s in range(300, 701)))
    config = against({"run": str(part)})
    (f,) = of_kind(made_up(LOSS * 1.3, config=config), "regression")
    assert (f.start_step, f.end_step) == (300, 700)
    outside = LOSS.copy()
    outside[:250] *= 1.5
    outside[750:] *= 1.5
    assert of_kind(made_up(outside, config=config), "regression") == []


@pytest.mark.parametrize(
    "reference, problem",
    [
        ({"tolerance": "5%"}, "losstest.toml: reference: tolerance must be float, not str"),
        ({"tolerence": 0.1}, "losstest.toml: reference: unknown key 'tolerence' (known: run, "
                             "tolerance, after_step, metric, severity)"),
        ({"severity": "bad"}, "losstest.toml: reference: severity must be fail, warn or info"),
    ],
)  # fmt: skip
def test_a_reference_that_cannot_be_used_is_named_with_its_problem(reference, problem):
    config = from_mapping({"reference": {"run": "ref.jsonl", **reference}}, "losstest.toml")
    with pytest.raises(ConfigError, match=re.escape(problem)):
        checks.plan(config)


def test_the_reference_is_declared_in_its_own_table():
    config = from_mapping({"checks": {"regression": {"tolerance": 0.1}}}, "losstest.toml")
    with pytest.raises(ConfigError, match=re.escape("declared in [reference]")):
        checks.plan(config)


def test_the_reference_settings_are_taken_as_written():
    config = from_mapping({"reference": {"run": "/ref.jsonl", "tolerance": 1, "after_step": 20,
                                         "metric": "loss", "severity": "info"}}, "losstest.toml")  # fmt: skip
    (params,) = [p for c, p, _ in checks.plan(config).steps if c.kind == "regression"]
    assert params == regression.Params("/ref.jsonl", 1.0, 20, losstest.Severity.INFO)


def test_a_real_slow_run_in_full():
    (f,) = of_kind(real_with("realruns/slow.jsonl", against(REFERENCE)), "regression")
    assert (f.start_step, f.end_step) == (50, 799)
    assert f.message == (
        "loss is worse than the reference by up to 75% (at step 782: 2.601 against 1.485; "
        "tolerance 5%) over 100% of the compared steps"
    )
    assert dict(f.evidence) == {
        "reference": REFERENCE["run"], "worst_step": 782, "run": 2.60136,
        "reference_value": 1.48504, "worst_excess": 0.751712, "share_outside": 1.0,
        "tolerance": 0.05,
    }  # fmt: skip


@pytest.fixture
def flat_reference(tmp_path):
    path = tmp_path / "flat.jsonl"
    path.write_text("".join(f'{{"step": {s}, "loss": 2.0}}\n' for s in range(1101)))
    return str(path)


@pytest.mark.parametrize(
    "worse_at, found",
    [
        ((4, 5, 6), (400, 600)),  # three in a row, after the smoothing too
        ((5, 7, 8), None),  # smoothed, worse at 600 and 700 only: two in a row
    ],
)
def test_sustained_is_three_compared_points_in_a_row(flat_reference, worse_at, found):
    """Logged every 100 steps against a flat reference: 10 % worse at these points."""
    steps = np.arange(0, 1101, 100)
    loss = np.full(len(steps), 2.0)
    loss[list(worse_at)] *= 1.1
    run = made_up(loss, steps, config=against({"run": flat_reference}))
    assert [(f.start_step, f.end_step) for f in of_kind(run, "regression")] == (
        [found] if found else []
    )


def test_a_reference_without_a_finite_loss_is_compared_nowhere(tmp_path):
    broken = tmp_path / "nan.jsonl"
    broken.write_text("".join(f'{{"step": {s}, "loss": NaN}}\n' for s in range(100)))
    run = made_up(LOSS, config=against({"run": str(broken)}))
    assert of_kind(run, "regression") == [] and "regression" in run.checks
