"""oscillation: where it must fire and where it must stay quiet, real logs first; then its
defaults pinned from both sides."""

from __future__ import annotations

import re

import numpy as np
import pytest

import losstest
from losstest.checks import oscillation

from ..conftest import healthy_curve
from .runs import Boundary, found, kinds, made_up, of_kind, real, realpath, unpinned

# (log, first step of the swinging, swings at least)
FIRES = [
    ("realruns/oscillation.jsonl", 19, 3),
    ("sweep/lr=10_seed=0", 2, 3),
    # swings of 6 and 5 logged points: too fast for the bins, found by their regularity
    ("families/linreg_fast_oscillation_csv", 5, 90),
    ("families/linreg_fast_oscillation_tbx", 10, 70),
]
QUIET = [
    "realruns/healthy.jsonl", "realruns/noisy.jsonl", "realruns/slow.jsonl",
    "realruns/spikes.jsonl", "realruns/late_divergence.jsonl", "realruns/plateau.jsonl",
    "sweep/lr=0.003_seed=0", "sweep/lr=10_seed=1",
    "corpus/modded-nanogpt/87bd51fd-6203-4c88-b3aa-8a849a6a83ca.txt",
    "corpus/deepspeed-examples/dschat_step1_sft/opt-1.3b-globalBatchSize128.log",
    "corpus/dl-fundamentals/6.7-dropout/version_1/metrics.csv",
]  # fmt: skip


@pytest.mark.parametrize("name, start, swings", FIRES)
def test_fires_on_real_oscillation(name, start, swings):
    (finding,) = of_kind(real(name), "oscillation")
    assert finding.start_step == start and finding.severity == "fail"
    assert finding.evidence["swings"] >= swings and finding.evidence["log_space"] is True


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_that_do_not_swing(name):
    assert of_kind(real(name), "oscillation") == []


def test_oscillation_supersedes_a_plateau_and_a_divergence():
    assert kinds(real("realruns/oscillation.jsonl")) == ["oscillation"]


def test_a_real_oscillation_logged_every_tenth_step_still_swings():
    """Ten logged points a cycle: the bins alias it to a divergence after a plateau; the swings'
    regularity finds all eight, a period of 100 steps."""
    frame = losstest.load(realpath("realruns/oscillation.jsonl"))
    (run,) = losstest.analyze(frame[frame["step"] % 10 == 0]).runs
    (finding,) = run.findings
    evidence = finding.evidence
    assert (finding.kind, evidence["swings"], evidence["period_steps"]) == ("oscillation", 8, 100)


T = np.arange(2000)


def _fast(period, noise=0.02, amplitude=0.5):
    """A loss level swinging x exp(+-amplitude) every `period` points: too fast for the bins."""
    rng = np.random.default_rng(0)
    swing = amplitude * np.cos(2 * np.pi * T / period)
    return 3.0 * np.exp(swing + noise * rng.standard_normal(len(T)))


def _cycles(count, amplitude=0.5, noise=0.02):
    """A loss level swinging `count` times over the run, x exp(+-amplitude)."""
    rng = np.random.default_rng(0)
    return (
        3.0
        * np.exp(amplitude * np.sin(2 * np.pi * T * count / len(T)))
        * np.exp(noise * rng.standard_normal(len(T)))
    )


def test_period_and_count_of_a_made_up_oscillation():
    (finding,) = of_kind(made_up(_cycles(8, noise=0.05)), "oscillation")
    assert finding.evidence["swings"] in (7, 8)
    assert 200 <= finding.evidence["period_steps"] <= 300
    assert finding.evidence["typical_swing"] == pytest.approx(1.0, abs=0.15)


def test_the_finding_of_a_made_up_oscillation_in_full():
    """8 cycles of x e^(+-0.5) over 2000 steps: from the first rise to the last fall, swings of
    about e^1 from trough to peak."""
    (finding,) = found("oscillation", _cycles(8, noise=0.05))
    start, end = finding.start_step, finding.end_step
    assert finding.metric == "loss" and start < 40 and 1900 <= end < 2000
    assert set(finding.evidence) == {"swings", "typical_swing", "log_space", "period_steps"}
    assert re.fullmatch(
        rf"loss swung up and down 8 times between steps {start} and {end} "
        r"\(typical swing x2\.[5-7]\)",
        finding.message,
    )


def test_a_loss_crossing_zero_swings_in_iqr_units():
    loss = np.log(_cycles(6, noise=0.01)) - 1.2  # swings between -0.6 and 0.4
    (finding,) = of_kind(made_up(loss), "oscillation")
    assert finding.evidence["log_space"] is False and "IQR" in finding.message


def _settling(late, flat_from=0.7):
    """8 swings of x e^+-0.5 over the run, at `late` of that size from `flat_from` of it on."""
    amplitude = np.where(flat_from * len(T) > T, 0.5, 0.5 * late)
    noise = 0.005 * np.random.default_rng(0).standard_normal(len(T))
    return 3.0 * np.exp(amplitude * np.sin(2 * np.pi * T * 8 / len(T)) + noise)


def _jumps(ratio, share):
    """A healthy run x`ratio` for `share` of every 400 steps."""
    loss = healthy_curve(3000)
    for at in range(200, 2800, 400):
        loss[at : at + int(400 * share)] *= ratio
    return loss


BOUNDARIES = [
    Boundary("min_swings", _cycles, quiet=2.25, fires=2.5, silences=4, wakes=2),
    Boundary("min_amplitude", lambda a: _cycles(6, a, noise=0.005), quiet=0.1, fires=0.11, silences=0.25, wakes=0.15),
    # in noise of 50 %, swings of +-0.27 are not out of it, +-0.29 are
    Boundary("significance", lambda a: _cycles(6, a, noise=0.5), quiet=0.27, fires=0.29, silences=5.0, wakes=3.0),
    # x5 jumps up 32.5 % of every cycle swing; up 30 % of the time they are jumps
    Boundary("max_duty", lambda share: _jumps(5.0, share), quiet=0.3, fires=0.325, silences=0.4, wakes=0.2),
    # up 20 % of the time: x2.75 swings, x3 jumps
    Boundary("jump_ratio", lambda ratio: _jumps(ratio, 0.2), quiet=3.0, fires=2.75, silences=2.0, wakes=4.0),
    # swings every 10 points in noise of 32 % correlate 0.56 a period on, in 33 % 0.54
    # swings a quarter as large over the last 30 % of the run go on; under a quarter, they died out
    Boundary("settled_ratio", _settling, quiet=0.24, fires=0.25, silences=0.3, wakes=0.2),
    # swings that stop 30 % before the end died out; 28 % before, they may yet go on
    Boundary("settled_share", lambda at: _settling(0.0, at), quiet=0.7, fires=0.72, silences=0.2, wakes=0.4),
    Boundary("period_correlation", lambda noise: _fast(10, noise), quiet=0.33, fires=0.32, silences=0.65, wakes=0.45),
]  # fmt: skip
UNPINNED = {
    "bin_points": "only bounds the bins of short runs, below min_points' reach of a swing",
    "min_points": "a run under 24 points holds too few bins for three swings anyway",
    "trend_span": "test_fast_swings_on_a_level_that_rises_and_falls",
    "bins": "test_the_bins_resolve_irregular_swings",
}


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("oscillation")


def test_every_parameter_is_pinned():
    assert unpinned(oscillation.Params, BOUNDARIES, UNPINNED) == set()


def test_jumps_up_most_of_the_time_are_still_an_oscillation():
    loss = healthy_curve(3000)
    for at in range(200, 2800, 400):  # up half of every cycle
        loss[at : at + 200] *= 5
    assert kinds(made_up(loss)) == ["oscillation"]


def test_a_loss_that_swings_and_jumps_once_is_still_an_oscillation():
    """One bad-data jump (x6 for 40 steps) among eight swings: the swings are not jumps."""
    loss = _cycles(8, noise=0.05)
    loss[1000:1040] *= 6
    (finding,) = found("oscillation", loss)
    assert finding.start_step < 40 and finding.evidence["swings"] == 8


@pytest.mark.parametrize("cycles, swings, period", [(1, 1, None), (2, 2, 992)])
def test_with_min_swings_lowered_the_period_needs_two_peaks(cycles, swings, period):
    """One cycle over 2000 steps has no period; two are 1000 steps apart (992 between bins)."""
    (finding,) = found("oscillation", _cycles(cycles), min_swings=1)
    assert (finding.evidence["swings"], finding.evidence["period_steps"]) == (swings, period)


def test_a_loss_falling_in_steps_does_not_swing():
    """Learning-rate steps: five levels, each 0.7 of the one before; every move is down."""
    noise = np.exp(0.02 * np.random.default_rng(0).standard_normal(2000))
    assert found("oscillation", 3.0 * 0.7 ** np.repeat(np.arange(5), 400) * noise) == []


def test_fast_swings_on_a_level_that_rises_and_falls():
    """Swings every 10 steps on a level that falls and rises back twice (x e^+-1): measured
    around a trend over an eighth of the run they swing; a trend over a quarter of it follows
    the level too slowly, and what is left is the level, not the swings."""
    level = np.cos(2 * np.pi * 2 * T / len(T))
    loss = 3.0 * np.exp(level + 0.3 * np.cos(2 * np.pi * T / 10))
    (finding,) = found("oscillation", loss)
    assert (finding.evidence["swings"], finding.evidence["period_steps"]) == (200, 10)
    assert finding.evidence["typical_swing"] == pytest.approx(0.6, abs=0.05)
    assert found("oscillation", loss, trend_span=0.0625) != []
    assert found("oscillation", loss, trend_span=0.25) == []


def _irregular(count, noise=0.005, amplitude=0.5):
    """`count` swings x exp(+-amplitude), each between half and 1.5 times the mean length."""
    rng = np.random.default_rng(1)
    lengths = rng.uniform(0.5, 1.5, count)
    lengths *= len(T) / lengths.sum()
    edges = np.concatenate([[0], np.cumsum(lengths)])
    cycle = np.minimum(np.searchsorted(edges, T, side="right") - 1, count - 1)
    phase = 2 * np.pi * (cycle + (T - edges[cycle]) / lengths[cycle])
    return 3.0 * np.exp(amplitude * np.sin(phase) + noise * rng.standard_normal(len(T)))


def test_the_bins_resolve_irregular_swings():
    """58 swings of uneven length: not regular enough to be found by their period; 64 bins
    resolve the longest 18 of them, 128 bins 45."""
    (finding,) = found("oscillation", _irregular(58))
    assert finding.evidence["swings"] == 18
    (finding,) = found("oscillation", _irregular(58), bins=128)
    assert finding.evidence["swings"] == 45


@pytest.mark.parametrize("period", [3, 4, 5, 30])
def test_regular_swings_of_any_period_from_three_points(period):
    """Three points a cycle repeat themselves but swing back only half as far (cos 120 deg)."""
    swings = [f.evidence["period_steps"] for f in found("oscillation", _fast(period))]
    assert swings == ([] if period == 3 else [period])


def test_a_loss_bouncing_at_every_other_step_is_no_regular_swing():
    """Full-batch descent at 3x the stable learning rate: the loss bounces up and down at every
    update, ~1000x, until the decay brings the rate back: an instability, not an oscillation."""
    assert kinds(real("families/linreg_blowup_recovered_jsonl")) == ["instability"]
    assert found("oscillation", _fast(2)) == []


def test_the_finding_of_fast_swings_in_full():
    (finding,) = found("oscillation", _fast(10, noise=0.05))
    assert (finding.start_step, finding.end_step) == (0, 1999)
    assert dict(finding.evidence) == {
        "swings": 200, "typical_swing": pytest.approx(1.0, abs=0.05), "log_space": True,
        "period_steps": 10,
    }  # fmt: skip
    assert re.fullmatch(
        r"loss swung up and down 200 times between steps 0 and 1999 \(typical swing x2\.[6-8]\)",
        finding.message,
    )
