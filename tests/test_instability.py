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
