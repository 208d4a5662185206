"""stall: a loss that fell early and then hardly moved for most of the run."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.checks import stall

from ..conftest import healthy_curve
from .runs import Boundary, finding, of_kind, real, unpinned
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


# No real log of the corpus stalls by this measure; these must stay quiet.
QUIET = [
    "realruns/healthy.jsonl", "realruns/slow.jsonl", "realruns/noisy.jsonl",
    "realruns/plateau.jsonl", "sweep/lr=0.0003_seed=0", "corpus/modded-nanogpt/main.log",
    "corpus/megatron-lm/golden_values_dev_dgx_h100.json", "corpus/trackio/logs.csv",
    "corpus/deepspeed-examples/dschat_step1_sft/opt-1.3b-globalBatchSize128.log",
]  # fmt: skip


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs(name):
    assert of_kind(real(name), "stall") == []


def _fell_early(drop):
    """Falls by `drop` (log) with a time constant of 150 steps, then stays."""
    return 2.0 * np.exp(drop * np.exp(-STEPS / 150)) * np.exp(0.005 * NOISE)


def _falls_until(share):
    """Falls by 1 (log) steadily until `share` of the run, then stays."""
    k = int(share * len(STEPS))
    return (
        2.0
        * np.exp(np.r_[np.linspace(1.0, 0.0, k), np.zeros(len(STEPS) - k)])
        * np.exp(0.003 * NOISE)
    )


BOUNDARIES = [
    Boundary("max_progress", _stalled, quiet=0.0125, fires=0.01, silences=0.005, wakes=0.02),
    # measured from where the loss began (its first points) to a later window: a fall of 0.2
    # (log) is one, 0.198 not
    Boundary("min_early_drop", _fell_early, quiet=0.198, fires=0.2, silences=0.21, wakes=0.19),
    # still falling at 42.5 % of the run leaves less than the last 60 % flat
    Boundary("tail", _falls_until, quiet=0.425, fires=0.4, silences=0.7, wakes=0.5),
]  # fmt: skip
UNPINNED = {
    "window": "not pinned: it sets where the levels are measured together with tail",
    "min_points": "not pinned: no made-up run of 18 to 22 points falls and then stalls",
}


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("stall")


def test_every_parameter_is_pinned():
    assert unpinned(stall.Params, BOUNDARIES, UNPINNED) == set()


@pytest.mark.parametrize("other", ["plateau", "divergence", "oscillation"])
def test_a_stall_is_said_by_a_plateau_a_divergence_or_an_oscillation(other):
    """Each says the loss is not improving, and more; wherever in the run it lies."""
    assert stall.superseded(finding("stall", 500, 1000), [finding(other, 0, 10)])


def test_a_stall_beside_a_spike_or_an_overfitting_stands():
    others = [finding("spike", 600, 601), finding("overfitting", 400, 1000)]
    assert not stall.superseded(finding("stall", 500, 1000), others)


def test_a_real_stall_in_full():
    """Logistic regression whose learning rate fell to nothing at 40 % of the run."""
    (found,) = of_kind(real("families/logreg_stalled_csv"), "stall")
    assert (found.metric, found.start_step, found.end_step, found.severity) == (
        "loss",
        601,
        1500,
        "warn",
    )
    assert found.message == (
        "loss stalled: 0.4098 at step 601, 0.412 by step 1500 (+1% over the last 60% of the run)"
    )
    assert dict(found.evidence) == {
        "start": 2.22398, "since_step": 601, "level_then": 0.409762, "last": 0.411958,
        "progress": -0.00534435,
    }  # fmt: skip
