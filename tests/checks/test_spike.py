"""spike: where it must fire and where it must stay quiet, real logs first; then its defaults
pinned from both sides."""

from __future__ import annotations

import re

import numpy as np
import pytest

from losstest.checks import spike
from losstest.formatting import num

from ..conftest import healthy_curve
from .runs import Boundary, found, kinds, made_up, of_kind, only, real, unpinned

# (log, peak steps of its spikes, or their count where there are many)
FIRES = [
    ("realruns/spikes.jsonl", [250, 420, 610]),
    ("realruns_csv/spikes.csv", [250, 420, 610]),
    ("sample_logs/spiky.jsonl", [250, 420, 610]),
    # a GPT-2 run whose loss jumps +43 % at step 428 (noise: a few %); later jumps of +50 %
    # mostly stand no further out than its dips (one batch falls to a third of the level)
    ("corpus/modded-nanogpt/87bd51fd-6203-4c88-b3aa-8a849a6a83ca.txt", [428, 6908, 8246]),
]
QUIET = [
    "realruns/healthy.jsonl", "realruns/healthy_seed1.jsonl", "realruns/healthy_every10.jsonl",
    "realruns/noisy.jsonl", "realruns/slow.jsonl", "realruns/late_divergence.jsonl",
    "realruns/oscillation.jsonl", "sweep/lr=0.001_seed=0",
    "corpus/modded-nanogpt/main.log", "corpus/megatron-lm/golden_values_dev_dgx_h100.json",
    "corpus/trackio/logs.csv", "corpus/dl-fundamentals/6.7-dropout/version_0/metrics.csv",
    # 14 single-batch losses, one per epoch: a +86 % point among dips as deep is its noise
    "corpus/deepspeed-examples/data_efficiency_vit_cifar/training.log",
    # small batches: heavy-tailed noise (+181 % at one step, -70 % at others)
    "families/cnn_healthy_csv",
    # 52 log-spaced points, the later ones single noisy batches
    "families/logreg_logspaced_jsonl", "families/mlp_logspaced_mlflow",
    # the running mean since the epoch began, batch 16: up or down each time an epoch starts
    "families/mlp_sawtooth_mlflow", "families/mlp_sawtooth_csv",
    # batches of 8 and 4: the level of a few dozen steps swings x100 both ways, bimodally
    "families/lstm_smallbatch_jsonl", "families/resnet_smallbatch_tbx",
]  # fmt: skip


@pytest.mark.parametrize("name, peaks", FIRES)
def test_fires_on_real_spikes(name, peaks):
    found = of_kind(real(name), "spike")
    if isinstance(peaks, list):
        assert [f.evidence["peak_step"] for f in found] == peaks
    else:
        assert len(found) == peaks
    assert all(f.severity == "warn" and f.evidence["peak"] > f.evidence["level"] for f in found)
    assert kinds(real(name)) == ["spike"]


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_without_spikes(name):
    assert of_kind(real(name), "spike") == []


def test_spikes_are_found_one_by_one_with_a_skip_range():
    loss = healthy_curve(3000, 0.05)
    for at in (500, 1500, 2500):
        loss[at] *= 2.5
    spikes = of_kind(made_up(loss), "spike")
    assert [f.start_step for f in spikes] == [500, 1500, 2500]
    assert [f.evidence["peak_step"] for f in spikes] == [500, 1500, 2500]
    low, high = spikes[0].evidence["skip_steps"]
    assert low < 500 < high and high - low <= 20


def test_spikes_in_a_long_curve_are_found_at_their_step():
    loss = healthy_curve(200_000, 0.02)
    loss[123_457] *= 2
    spikes = of_kind(made_up(loss), "spike")
    assert [f.evidence["peak_step"] for f in spikes] == [123_457]


@pytest.mark.parametrize("at", [1, 498])
def test_a_jump_one_point_from_either_end_is_a_spike(at):
    loss = healthy_curve(500)
    loss[at] *= 3
    assert [f.evidence["peak_step"] for f in found("spike", loss)] == [at]


@pytest.mark.parametrize("at", [0, -1])
def test_a_jump_at_either_end_is_no_spike(at):
    """The first point has no curve to jump from, the last none to come back to."""
    loss = healthy_curve(500)
    loss[at] *= 3
    assert of_kind(made_up(loss, config=only("spike")), "spike") == []
    loss[250] *= 3
    assert [f.evidence["peak_step"] for f in of_kind(made_up(loss), "spike")] == [250]


def test_a_spike_inside_a_divergence_is_part_of_it():
    loss = healthy_curve(1000)
    loss[600:] = loss[600] * np.exp(np.linspace(0, 1.5, 400))
    loss[800] *= 3
    alone = made_up(loss, config=only("spike"))
    assert [f.evidence["peak_step"] for f in of_kind(alone, "spike")] == [800]
    assert kinds(made_up(loss)) == ["divergence"]


def _one_spike(height, noise=0.03):
    loss = healthy_curve(1000, noise)
    loss[500] *= height
    return loss


def _jump_and_dip_at(distance, ratio=1.0):
    """A jump of x2 at step 500 and, `distance` steps later, a dip `ratio` times shallower."""
    loss = healthy_curve(1000, 0.01)
    loss[500] *= 2
    loss[500 + int(distance)] /= np.exp(np.log(2) / ratio)
    return loss


def _jump_and_dip_of_ratio(ratio):
    return _jump_and_dip_at(50, ratio)


def _wide(width):
    loss = healthy_curve(1000, 0.01)
    loss[500 : 500 + int(width)] *= 2
    return loss


def _near_a_tiny_loss(height):
    """A loss falling from 1 to 0.001, a jump of `height` (absolute) at step 800."""
    t = np.arange(1000)
    loss = (np.exp(-t / 60) + 1e-3) * np.exp(0.01 * np.random.default_rng(0).standard_normal(1000))
    loss[800] += height
    return loss


def _blown_up(ratio, length):
    loss = healthy_curve(2000)
    loss[500 : 500 + int(length)] *= ratio
    return loss


def _few(points):
    loss = 2.0 * np.exp(0.01 * np.random.default_rng(0).standard_normal(int(points)))
    loss[int(points) // 2] *= 3
    return loss


def _in_a_long_curve(height):
    """One jump in 200,000 points of noise of 5 %: judged by blocks, whose peaks are higher
    than their medians by about sqrt(2 ln size) sigma of noise."""
    loss = healthy_curve(200_000, 0.05)
    loss[123_457] *= height
    return loss


def _crossing_zero(height):
    """A loss falling from 7 to -0.5 (no ratios: judged in units of its IQR, 0.78 here) with a
    jump of `height` at step 500."""
    loss = healthy_curve(1000, 0.01) - 3.0
    loss[500] += height
    return loss


def _flat_below_zero(height):
    """A loss falling from 19 to -1 and flat there: a jump of `height` at step 500, next to the
    run's range of 19.2."""
    rng = np.random.default_rng(0)
    loss = np.r_[np.linspace(19, -1, 150), [-1.0] * 850] + 0.01 * rng.standard_normal(1000)
    loss[500] += height
    return loss


BOUNDARIES = [
    # robust sigmas of the local noise (3 % here): a jump of x1.19 is noise, x1.20 a spike
    Boundary("threshold", _one_spike, quiet=1.19, fires=1.2, silences=7.0, wakes=5.0),
    Boundary("threshold", _in_a_long_curve, quiet=1.26, fires=1.28, silences=6.5, wakes=5.5),
    # a jump of x2 with a dip 50 steps away: a spike when the jump is 1.76 times as deep as
    # the dip in noise units (1.5 by the ratio, times the local noise, 20 % larger at the jump)
    Boundary("dip_ratio", _jump_and_dip_of_ratio, quiet=1.74, fires=1.76, silences=1.6, wakes=1.4),
    # a jump and a dip as deep: the dip at 95 steps of 1000 hides the jump, at 105 it does not
    Boundary("dip_span", _jump_and_dip_at, quiet=95, fires=105, silences=0.25, wakes=0.15),
    # log units above the local level, where the noise (0.1 %) allows any jump
    Boundary("min_rise", lambda h: _one_spike(h, noise=0.001), quiet=1.1, fires=1.105, silences=0.12, wakes=0.08),
    Boundary("max_width", _wide, quiet=6, fires=5, silences=4, wakes=6),
    # share of the run's range (about 1 here), in the loss's own units
    # 5 x min_rise IQRs for a loss crossing zero: 0.39
    Boundary("min_rise", _crossing_zero, quiet=0.38, fires=0.4, silences=0.11, wakes=0.09),
    # 2 % of the range of 19.2: 0.384
    Boundary("min_share", _flat_below_zero, quiet=0.375, fires=0.395, silences=0.025, wakes=0.015),
    Boundary("min_share", _near_a_tiny_loss, quiet=0.018, fires=0.02, silences=0.025, wakes=0.015),
    Boundary("min_points", _few, quiet=11, fires=12, silences=13, wakes=11),
    # a jump that decays over 150 steps: a spike from 2.9x its level before, not 2.8x
    Boundary("jump_ratio", lambda r: _bad_shards(ratio=r), quiet=5.8, fires=6, silences=4, wakes=2.5),
    # x10 for 200 of 2000 steps is a spike that took long to recover; for 205, an instability
    Boundary("max_share", lambda length: _blown_up(10, length), quiet=205, fires=200, silences=0.08, wakes=0.12),
]  # fmt: skip
UNPINNED = {
    "window": "not pinned: the running median's length moves the local level and the noise "
    "together, and no made-up case (a spike in a noisy stretch, beside a drop) sat on it alone",
}


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("spike")


def test_every_parameter_is_pinned():
    assert unpinned(spike.Params, BOUNDARIES, UNPINNED) == set()


def _bad_shards(n: int = 3000, ratio: float = 1000.0) -> np.ndarray:
    """A healthy run hit by three bad data shards: up at once, back over about 100 steps."""
    loss = healthy_curve(n)
    decay = 1 + (ratio - 1) * np.exp(-np.arange(150) / 15)
    for at in (700, 1500, 2300):
        loss[at : at + 150] *= decay
    return loss


def test_isolated_jumps_that_decay_slowly_are_spikes_not_an_oscillation():
    run = made_up(_bad_shards())
    assert [(f.kind, f.severity) for f in run.findings] == [("spike", "warn")] * 3
    assert [f.evidence["peak_step"] for f in run.findings] == [700, 1500, 2300]
    low, high = run.findings[0].evidence["skip_steps"]
    assert low <= 700 and 780 <= high <= 900


def test_the_finding_of_a_slowly_decaying_jump_in_full():
    """x1000 at step 700, back under 3x (jump_ratio) about 95 steps later."""
    (finding, *_) = found("spike", _bad_shards())
    start, end = finding.start_step, finding.end_step
    assert (finding.metric, start) == ("loss", 700) and 90 <= end - start <= 120
    evidence = dict(finding.evidence)
    # the level is the best before the jump, not the loss at the start of the run (~10)
    assert evidence.pop("level") == pytest.approx(healthy_curve(3000)[600:700].min(), rel=0.05)
    assert evidence.pop("peak") == pytest.approx(1000 * healthy_curve(3000)[700], rel=0.05)
    # 0.2 % of the 3000 steps either side
    assert evidence == {
        "peak_step": 700,
        "recovery_steps": end - start,
        "skip_steps": [start - 5, end + 5],
    }
    assert re.fullmatch(
        rf"loss jumped to 29\d\d at step 700 from a level of 2\.\d+ \(x1\.1e\+03\) "
        rf"and took {end - start} steps to recover",
        finding.message,
    )


@pytest.mark.parametrize("offset", [0, 100_000])
@pytest.mark.parametrize(
    "points, up, fires",
    [(2002, 201, True), (2001, 201, False), (2001, 200, True)],
    ids=["200 of 2001 steps", "200 of 2000 steps", "199 of 2000 steps"],
)
def test_a_slow_jump_is_a_spike_while_under_a_tenth_of_the_steps(points, up, fires, offset):
    """max_share counts the steps the run covers, wherever they start; 10 % exactly is an
    instability."""
    loss = healthy_curve(points)
    loss[500 : 500 + up] *= 10
    findings = found("spike", {"loss": loss, "steps": np.arange(points) + offset})
    expected = [(offset + 500, offset + 499 + up)] if fires else []
    assert [(f.start_step, f.end_step) for f in findings] == expected


def test_a_jump_of_a_loss_that_oscillates_is_part_of_the_oscillation():
    loss = healthy_curve(2000, 0.05) * np.exp(0.5 * np.sin(2 * np.pi * np.arange(2000) / 250))
    loss[1100] *= 4
    assert [f.evidence["peak_step"] for f in found("spike", loss)] == [1100]
    assert kinds(made_up(loss)) == ["oscillation"]


@pytest.mark.parametrize("distance", [-63, -62, 62, 63])
def test_in_a_short_run_dips_within_four_windows_hide_a_jump(distance):
    """400 points: dip_span (20 %) would look 40 points either side; at least 4 running-median
    windows + 1 (125 points) are looked at, so a dip as deep 62 points away hides the jump."""
    loss = healthy_curve(400, 0.01)
    loss[200] *= 2
    loss[200 + distance] /= 2
    assert [f.evidence["peak_step"] for f in found("spike", loss)] == (
        [] if abs(distance) <= 62 else [200]
    )


@pytest.mark.parametrize("width, recovery", [(5, None), (6, 5)])
def test_a_jump_wider_than_max_width_is_a_spike_that_took_steps_to_recover(width, recovery):
    loss = healthy_curve(1000, 0.01)
    loss[500 : 500 + width] *= 10
    (finding,) = found("spike", loss)
    assert (finding.start_step, finding.end_step) == (500, 499 + width)
    assert finding.evidence.get("recovery_steps") == recovery


def test_a_spike_before_slowly_decaying_jumps_leaves_them_reported():
    loss = _bad_shards()
    loss[300] *= 5
    found_at = [(f.start_step, "recovery_steps" in f.evidence) for f in found("spike", loss)]
    assert found_at == [(300, False), (700, True), (1500, True), (2300, True)]


def test_the_finding_of_a_spike_in_full():
    """x2 at step 5005 of a run logged every 10 steps (5 ... 9995), noise 1 %: log(2) / 0.01
    is 69 standard deviations (the robust estimate reads the noise a little larger); the skip
    range reaches 0.2 % of the run's steps either side."""
    loss = healthy_curve(1000, 0.01)
    loss[500] *= 2
    (finding,) = found("spike", {"loss": loss, "steps": np.arange(1000) * 10 + 5})
    assert (finding.metric, finding.start_step, finding.end_step) == ("loss", 5005, 5005)
    evidence = dict(finding.evidence)
    peak, level, sigmas = evidence.pop("peak"), evidence.pop("level"), evidence.pop("sigmas")
    assert evidence == {"peak_step": 5005, "skip_steps": [4986, 5024]}
    assert peak == pytest.approx(loss[500], rel=1e-3) and peak / level == pytest.approx(2, rel=0.05)
    assert 45 < sigmas < 75
    pct = round(100 * (peak / level - 1))
    assert (
        finding.message
        == f"loss jumped to {num(peak)} at step 5005 from a level of {num(level)} (+{pct}%) and recovered"
    )


def test_a_spike_of_a_loss_crossing_zero_has_no_ratio_in_its_message():
    (finding,) = found("spike", _crossing_zero(1.0))
    assert re.fullmatch(
        r"loss jumped to 1\.\d+ at step 500 from a level of 0\.\d+ and recovered", finding.message
    )


def test_a_spike_over_three_points_is_told_by_its_highest():
    loss = healthy_curve(1000, 0.01)
    loss[500:503] *= [1.5, 2.5, 1.5]
    (finding,) = found("spike", loss)
    assert (finding.start_step, finding.end_step, finding.evidence["peak_step"]) == (500, 502, 501)
    assert finding.evidence["peak"] == pytest.approx(loss[501], rel=1e-3)
    assert "at step 501 " in finding.message
