"""What holds for every check at once: degenerate curves, healthy noise, and invariances (a
curve x1000, shifted and irregular steps, every tenth step). Each check's own cases are in
tests/checks/test_KIND.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import losstest
from losstest.checks import CHECKS
from losstest.config import Config
from losstest.frame import long_frame, single

from .checks.runs import kinds, made_up, of_kind, only, real
from .conftest import DATA, healthy_curve

# curve -> {kind: severity} of what each check alone finds in it; every other check stays quiet
EDGE_CASES = {
    "one point": ([2.0], {"short": "info"}),
    "two points": ([2.0, 1.0], {"short": "info"}),
    "ten points falling": (list(np.linspace(3, 1, 10)), {}),
    "all NaN": ([np.nan] * 50, {"nan": "fail"}),
    "all inf": ([np.inf] * 20, {"nan": "fail"}),
    "constant": ([2.5] * 200, {"plateau": "fail", "underfitting": "warn"}),
    "zeros": ([0.0] * 200, {"plateau": "fail"}),  # no ratio to judge improvement by
    "negative noise": (list(np.random.default_rng(0).normal(-1.0, 0.1, 300)), {"plateau": "fail"}),
}


@pytest.mark.parametrize("name", EDGE_CASES)
@pytest.mark.parametrize("kind", CHECKS)
def test_every_check_on_degenerate_curves(kind, name):
    curve, expected = EDGE_CASES[name]
    run = made_up(curve, config=only(kind))
    assert [(f.kind, f.severity) for f in run.findings] == (
        [(kind, expected[kind])] if kind in expected else []
    )
    assert run.checks == ((kind,) if kind not in ("rule", "regression") else ())


@pytest.mark.parametrize("noise", [0.005, 0.05, 0.2, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_healthy_curves_get_no_warning(noise, seed):
    run = made_up(healthy_curve(2000, noise, seed))
    assert kinds(run, at_least="info") == [] and run.verdict == "pass"


def _steps(run):
    return [(f.kind, f.start_step, f.end_step) for f in run.findings]


def test_curve_times_1000_and_shifted_irregular_steps_read_the_same():
    loss = healthy_curve(1500, 0.05)
    loss[700] *= 3  # a spike
    loss[1100:] *= np.linspace(1, 4, 400)  # a divergence
    base = made_up(loss)
    assert kinds(base) == ["divergence", "spike"]
    assert _steps(made_up(loss * 1000)) == _steps(base)
    steps = 5000 + np.cumsum(np.random.default_rng(3).integers(1, 20, 1500))
    irregular = made_up(loss, steps=steps)
    at = [(f.kind, int(np.searchsorted(steps, f.start_step))) for f in irregular.findings]
    assert at == [(f.kind, f.start_step) for f in base.findings]


REAL_EVERY_10TH = [
    ("realruns/late_divergence.jsonl", "divergence", 501),
    ("realruns/plateau.jsonl", "plateau", 0),
    # not the oscillation run: its 80 points a tenth leave 5 a swing, below what the check
    # resolves (its docstring: about twenty logged points a cycle)
    ("realruns/overfitting.jsonl", "overfitting", 50),
    ("realruns/nan.jsonl", "nan", 4),
]


@pytest.mark.parametrize("name, kind, start", REAL_EVERY_10TH)
def test_every_tenth_step_of_a_real_run_reads_the_same(name, kind, start):
    """A run logged ten times more sparsely keeps its verdict and its kinds, with the onset
    within a tenth of the run."""
    full = losstest.load(DATA / name)
    sparse = full[(full["step"] % 10 == 0) | (full["metric"] != "loss")]
    (run,) = losstest.analyze(sparse).runs
    assert kinds(run) == kinds(real(name)) and run.verdict == real(name).verdict
    (finding,) = of_kind(run, kind)[:1]
    assert abs(finding.start_step - start) <= 0.1 * real(name).last_step


def test_severity_and_selection_come_from_the_config():
    loss = healthy_curve(1000)
    loss[500] *= 3
    assert made_up(loss).verdict == "warn"
    assert made_up(loss, config=Config(checks={"spike": {"severity": "fail"}})).verdict == "fail"
    assert made_up(loss, config=Config(checks={"spike": {"severity": "info"}})).verdict == "pass"
    assert made_up(loss, config=Config(ignore=frozenset({"spike"}))).verdict == "pass"
    assert made_up(loss, config=Config(ignore=frozenset({"LT103"}))).verdict == "pass"
    assert made_up(loss, config=Config(checks={"spike": {"enabled": False}})).verdict == "pass"
    assert made_up(loss, config=Config(select=frozenset({"nan"}))).checks == ("nan",)


def test_findings_are_ordered_by_step_and_each_carries_its_code():
    run = real("realruns/nan.jsonl")
    assert [f.start_step for f in run.findings] == sorted(f.start_step for f in run.findings)
    assert all(f.code == CHECKS[f.kind].code for f in run.findings)


def test_frame_of_several_runs_gives_a_report_each():
    a = made_up(healthy_curve(100))
    assert a.run == "r" and a.source == "made-up"
    frame = pd.concat(
        [long_frame(["loss"] * 3, np.arange(3), [3.0, 2.0, 1.0], run=name) for name in "ab"],
        ignore_index=True,
    )
    frame.insert(0, "source", single("x", len(frame)))
    assert [r.run for r in losstest.analyze(frame).runs] == ["a", "b"]
