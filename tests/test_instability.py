"""instability: a long blow-up that came back, told apart from spikes and divergence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import losstest
from losstest.config import Config

from .conftest import healthy_curve
from .test_detectors import report

DATA = Path(__file__).parent / "data"


def test_a_real_blow_up_that_came_back_as_the_learning_rate_decayed():
    (run,) = losstest.analyze(DATA / "sweep/lr=10_seed=1").runs
    (finding,) = [f for f in run.findings if f.kind == "instability"]
    assert run.verdict == "warn" and finding.severity == "warn" and finding.code == "LT105"
    assert finding.evidence["peak"] > 1000 * finding.evidence["level_before"]
    assert finding.evidence["steps_lost"] > 200 and finding.evidence["share_lost"] > 0.8


def test_the_healthy_runs_of_the_sweep_stay_quiet():
    for name in ("lr=0.001_seed=0", "lr=0.003_seed=1", "lr=0.0003_seed=0"):
        (run,) = losstest.analyze(DATA / "sweep" / name).runs
        assert "instability" not in {f.kind for f in run.findings}, name


def _blow_up(ratio: float, length: int, n: int = 2000) -> np.ndarray:
    loss = healthy_curve(n)
    loss[500 : 500 + length] *= ratio
    return loss


def test_just_above_and_below_the_ratio_and_the_length():
    kinds = {f.kind for f in report(_blow_up(3.3, 300)).findings}
    assert "instability" in kinds
    assert "instability" not in {f.kind for f in report(_blow_up(2.7, 300)).findings}
    assert "instability" not in {f.kind for f in report(_blow_up(10, 150)).findings}  # < 10 %
    assert "instability" in {f.kind for f in report(_blow_up(10, 250)).findings}


def test_a_blow_up_that_never_comes_back_is_a_divergence_not_an_instability():
    loss = _blow_up(50, 1500)
    kinds = {f.kind for f in report(loss).findings}
    assert "divergence" in kinds and "instability" not in kinds


def test_it_can_be_turned_off_by_code():
    run = report(_blow_up(10, 300), config=Config(ignore=frozenset({"LT105"})))
    assert "instability" not in {f.kind for f in run.findings}


def _bad_shards(n: int = 3000, ratio: float = 1000.0) -> np.ndarray:
    """A healthy run hit by three bad data shards: up at once, back over about 100 steps."""
    loss = healthy_curve(n)
    decay = 1 + (ratio - 1) * np.exp(-np.arange(150) / 15)
    for at in (700, 1500, 2300):
        loss[at : at + 150] *= decay
    return loss


def test_isolated_jumps_that_decay_slowly_are_spikes_not_an_oscillation():
    run = report(_bad_shards())
    assert [(f.kind, f.severity) for f in run.findings] == [("spike", "warn")] * 3
    assert [f.evidence["peak_step"] for f in run.findings] == [700, 1500, 2300]
    low, high = run.findings[0].evidence["skip_steps"]
    assert low <= 700 and 780 <= high <= 900


def test_jumps_up_most_of_the_time_are_still_an_oscillation():
    loss = healthy_curve(3000)
    for at in range(200, 2800, 400):  # up half of every cycle
        loss[at : at + 200] *= 5
    kinds = {f.kind for f in report(loss).findings if f.severity != "info"}
    assert "oscillation" in kinds and "spike" not in kinds
