"""stall: a loss that fell early and then hardly moved for most of the run."""

from __future__ import annotations

import numpy as np

from ..conftest import healthy_curve
from .runs import made_up as report

STEPS = np.arange(3000)
NOISE = np.random.default_rng(1).normal(size=3000)


def _stalled(progress: float) -> np.ndarray:
    """Falls from 4 to 1.5 over the first third, then by `progress` (a ratio) to the end."""
    early = 1.5 + 2.5 * np.exp(-STEPS / 150)
    late = np.where(STEPS > 1000, 1 - progress * (STEPS - 1000) / 2000, 1.0)
    return early * late * np.exp(0.02 * NOISE)


def test_a_loss_that_stopped_improving_after_its_first_third_warns():
    run = report(_stalled(0.0))
    (finding,) = [f for f in run.findings if f.kind == "stall"]
    assert run.verdict == "warn" and finding.code == "LT203"
    assert 1000 <= finding.start_step <= 1300 and abs(finding.evidence["progress"]) < 0.01


def test_just_below_and_above_one_percent_of_progress():
    assert "stall" in {f.kind for f in report(_stalled(0.005)).findings}
    assert "stall" not in {f.kind for f in report(_stalled(0.03)).findings}


def test_a_healthy_run_that_keeps_learning_slowly_and_a_fine_tune_do_not_stall():
    assert report(healthy_curve(3000)).verdict == "pass"
    fine_tune = 2.0 * (1 - 0.04 * (1 - np.exp(-STEPS / 300))) * np.exp(0.01 * NOISE)
    assert "stall" not in {f.kind for f in report(fine_tune).findings}  # it never fell far
