"""plateau: where it must fire and where it must stay quiet, real logs first; then its defaults
pinned from both sides."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.checks import plateau

from ..conftest import healthy_curve
from .runs import Boundary, finding, kinds, made_up, of_kind, real, unpinned

# (log, what the message says)
FIRES = [
    ("realruns/plateau.jsonl", "never moved"),
    ("realruns/frozen.jsonl", "never moved"),
    ("realruns_csv/plateau.csv", "never moved"),
    ("corpus/dl-fundamentals/6.5-part2-cli-simple/version_5", "never moved"),
]
QUIET = [
    "realruns/healthy.jsonl", "realruns/slow.jsonl", "realruns/noisy.jsonl",
    "realruns/overfitting.jsonl", "realruns/late_divergence.jsonl", "realruns/resumed.jsonl",
    "sweep/lr=0.0003_seed=0", "corpus/megatron-lm/golden_values_dev_dgx_h100_2nd.json",
    "corpus/dl-fundamentals/6.5-part2-cli-simple/version_2",
    "corpus/whisper-large-v2-ja/trainer_state.json",
    # a regression learnt almost exactly, printed to four decimals: 0.0001 from epoch 190 on
    "printed/regression_rounded.log",
]  # fmt: skip


@pytest.mark.parametrize("name, what", FIRES)
def test_fires_on_real_runs_that_learned_nothing(name, what):
    (finding,) = of_kind(real(name), "plateau")
    assert what in finding.message and finding.severity == "fail"
    assert finding.evidence["best"] > 0.9 * finding.evidence["start"]
    assert kinds(real(name)) == ["plateau"]


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_that_learned(name):
    assert of_kind(real(name), "plateau") == []


def test_a_frozen_loss_and_a_flat_line():
    rng = np.random.default_rng(1)
    still = 4.2 * np.exp(0.02 * rng.standard_normal(800))
    (finding,) = of_kind(made_up(still), "plateau")
    assert "never moved" in finding.message and (finding.start_step, finding.end_step) == (0, 799)
    flat = healthy_curve(1000)
    flat[700:] = flat[699]
    (finding,) = of_kind(made_up(flat), "plateau")
    assert finding.start_step == 699 and finding.evidence["since_step"] == 699
    assert finding.evidence["value"] == pytest.approx(flat[699], rel=1e-4)


def test_an_oscillation_is_no_plateau():
    t = np.arange(2000)
    swinging = 3.0 * np.exp(0.5 * np.sin(2 * np.pi * t / 250))
    assert kinds(made_up(swinging)) == ["oscillation"]


N = 1000


def _falls(drop):
    """A loss that falls by `drop` (log units) over the run, with 0.05 % noise."""
    noise = np.exp(0.0005 * np.random.default_rng(0).standard_normal(N))
    return 3.0 * np.exp(-drop * np.arange(N) / N) * noise


def _flat_tail(share):
    loss = healthy_curve(N, 0.02)
    k = round(share * N)
    loss[N - k :] = loss[N - k - 1]
    return loss


def _wiggling_tail(relative):
    loss = healthy_curve(N, 0.02)
    loss[700:] = loss[699] * (1 + relative * np.sin(np.arange(300)))
    return loss


def _high_start(points):
    """`points` at 3 first, then 2 throughout: a start the median of the first window sees
    as 3 only when most of the window is at 3."""
    noise = np.exp(0.0005 * np.random.default_rng(0).standard_normal(N))
    return np.r_[[3.0] * int(points), [2.0] * (N - int(points))] * noise


def _few(points):
    return 2.0 * np.exp(0.001 * np.random.default_rng(0).standard_normal(int(points)))


BOUNDARIES = [
    Boundary("min_improvement", _falls, quiet=0.0225, fires=0.02, silences=0.015, wakes=0.025),
    Boundary("flat_fraction", _flat_tail, quiet=0.19, fires=0.2, silences=0.25, wakes=0.15),
    Boundary("flat_tolerance", _wiggling_tail, quiet=8e-7, fires=5e-7, silences=5e-7, wakes=2e-6),
    # the start is the median of the first 5 % (50 points): 24 high points do not move it
    Boundary("window", _high_start, quiet=26, fires=24, silences=0.04, wakes=0.06),
    Boundary("min_points", _few, quiet=19, fires=20, silences=21, wakes=19),
]  # fmt: skip


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("plateau")


def test_every_parameter_is_pinned():
    assert unpinned(plateau.Params, BOUNDARIES, {}) == set()


def test_a_loss_flat_at_zero_fits_its_data():
    """Boosting that stops splitting stays at 5e-6 to the digit, the HF Trainer logs such a
    loss as 0.0 (four decimals): nothing left to learn. Flat at a hundredth of its start, the
    loss has stopped."""
    t = np.arange(1000)
    loss = np.exp(-t / 30) * np.exp(0.01 * np.random.default_rng(0).standard_normal(1000))
    for flat, found in ((4e-5, []), (0.0, []), (1e-2, ["plateau"])):
        loss[200:] = flat
        assert kinds(made_up(loss)) == found, flat


def test_a_plateau_gives_way_to_an_oscillation_and_never_moving_to_fitting_noise():
    never_moved = finding("plateau", improvement=0.0)
    flat_line = finding("plateau", since_step=50)
    fitting_noise = finding("underfitting", basis="validation never improved", rose=True)
    assert plateau.superseded(never_moved, [finding("oscillation", 10, 20)])
    assert plateau.superseded(flat_line, [finding("oscillation", 500, 600)])
    assert plateau.superseded(never_moved, [fitting_noise])
    assert not plateau.superseded(flat_line, [fitting_noise])  # a flat line is a flat line
    not_rising = finding("underfitting", basis="validation never improved", rose=False)
    assert not plateau.superseded(never_moved, [not_rising, finding("underfitting")])
    # a loss that never fell because it rose has diverged; a flat line after a rise is flat
    assert plateau.superseded(never_moved, [finding("divergence")])
    assert not plateau.superseded(flat_line, [finding("divergence")])


def test_a_loss_that_never_fell_because_it_rose_diverged():
    """A GAN's generator loss: level for a while, then up x3 as the discriminator wins."""
    t = np.arange(1000)
    loss = (
        0.7
        * np.exp(np.clip(t - 300, 0, None) / 600)
        * np.exp(0.05 * np.random.default_rng(0).standard_normal(1000))
    )
    assert kinds(made_up(loss)) == ["divergence"]


def test_a_real_plateau_in_full():
    """A tiny transformer at a learning rate of 1e-7: the loss never left its start."""
    (found,) = of_kind(real("realruns/plateau.jsonl"), "plateau")
    assert (found.metric, found.start_step, found.end_step, found.severity) == (
        "loss",
        0,
        799,
        "fail",
    )
    assert found.message == "loss never moved: 4.567 at the start, at best 4.535 over 800 steps"
    assert dict(found.evidence) == {"start": 4.56728, "best": 4.53454, "improvement": 0.00719526}


@pytest.mark.parametrize("first, found", [(400, ["plateau"]), (600, [])])
def test_a_stretch_of_a_resumed_run_has_no_start_to_judge(first, found):
    """A flat loss logged from step 400 of 1,000 never moved; logged only from step 600 on (past
    the middle of its steps: a run resumed late in its schedule) it has no start to judge by."""
    steps = np.arange(first, 1000)
    loss = 2.0 * np.exp(0.01 * np.random.default_rng(0).standard_normal(len(steps)))
    assert kinds(made_up(loss, steps=steps)) == found
