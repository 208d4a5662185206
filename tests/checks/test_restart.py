"""restart: where it must fire and where it must stay quiet, real logs first; then which value
of a step logged twice is kept."""

from __future__ import annotations

import numpy as np
import pytest

from ..conftest import healthy_curve
from .runs import made_up, of_kind, real

FIRES = [
    ("realruns/resumed.jsonl", [("loss", 500, 401), ("val_loss", 500, 450)]),
]
QUIET = [
    "realruns/healthy.jsonl", "realruns/nan.jsonl", "realruns_tb/healthy", "sweep/lr=0.001_seed=1",
    "corpus/modded-nanogpt/main.log", "corpus/dl-fundamentals/6.7-dropout/version_1/metrics.csv",
    "corpus/whisper-large-v2-ja/trainer_state.json",
]  # fmt: skip


@pytest.mark.parametrize("name, expected", FIRES)
def test_fires_on_a_real_resumed_run(name, expected):
    found = of_kind(real(name), "restart")
    got = [(f.metric, f.evidence["from_step"], f.evidence["to_step"]) for f in found]
    assert got == expected and all(f.severity == "info" for f in found)
    assert real(name).verdict == "pass"


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_logged_once(name):
    assert of_kind(real(name), "restart") == []


def test_a_resumed_run_is_judged_on_the_values_written_last():
    """The abandoned branch diverged; the resumed one is healthy: no divergence."""
    first = healthy_curve(600)
    first[400:] *= np.exp(np.linspace(0, 2, 200))  # diverged before the resume
    steps = np.r_[np.arange(0, 600), np.arange(400, 1000)]
    loss = np.r_[first, healthy_curve(1000)[400:]]
    run = made_up(loss, steps=steps)
    (finding,) = of_kind(run, "restart")
    assert finding.evidence == {"from_step": 599, "to_step": 400}
    assert (finding.start_step, finding.end_step) == (400, 599)
    assert finding.message == (
        "loss steps went back from 599 to 400 (a resumed run); the values written last are kept"
    )
    assert run.verdict == "pass" and run.steps == 1000
    assert run.summary.last == pytest.approx(loss[-1])
    assert run.curves.train.value[450] == pytest.approx(healthy_curve(1000)[450])


def test_a_run_logged_twice_is_judged_on_the_second():
    steps = np.r_[np.arange(100), np.arange(100)]
    loss = np.r_[np.full(100, 7.0), healthy_curve(100)]
    run = made_up(loss, steps=steps)
    assert run.curves.train.value == pytest.approx(healthy_curve(100))
    (finding,) = of_kind(run, "restart")
    assert finding.evidence == {"from_step": 99, "to_step": 0}


def test_steps_logged_twice_in_place_are_one_finding():
    steps = np.repeat(np.arange(50), 2)  # each step twice, in order: no step goes back
    loss = np.repeat(healthy_curve(50), 2)
    loss[1::2] *= 0.5  # the second value of each step is the one kept
    run = made_up(loss, steps=steps)
    (finding,) = of_kind(run, "restart")
    assert finding.evidence == {"duplicates": 50} and finding.metric == "loss"
    assert (finding.start_step, finding.end_step) == (0, 49)
    assert finding.message == (
        "loss has 50 values logged again at a step already logged; the values written last are kept"
    )
    assert run.curves.train.value == pytest.approx(healthy_curve(50) * 0.5)
