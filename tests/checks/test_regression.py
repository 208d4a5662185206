"""regression: runs worse than a known-good reference, real logs first; then its tolerance, its
warmup and how long a run must stay worse."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from losstest.checks import regression
from losstest.config import Config

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
