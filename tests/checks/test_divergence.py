"""divergence: where it must fire and where it must stay quiet, real logs first; then its
defaults pinned from both sides."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from losstest.checks import divergence

from ..conftest import healthy_curve
from .runs import Boundary, found, kinds, made_up, of_kind, only, real, real_with, unpinned

# (log, onset step, how): a loss that rose from its best, or blew up from its first value
FIRES = [
    ("realruns/late_divergence.jsonl", 501, "rose from"),
    ("realruns_tb/late_divergence", 501, "rose from"),
    ("sample_logs/diverged.jsonl", 501, "rose from"),
    ("sweep/lr=10_seed=0", 0, "blew up"),
]
QUIET = [
    "realruns/healthy.jsonl", "realruns/noisy.jsonl", "realruns/slow.jsonl",
    "realruns/spikes.jsonl", "realruns/overfitting.jsonl", "realruns/plateau.jsonl",
    "sweep/lr=10_seed=1", "sweep/lr=0.003_seed=0",
    "corpus/modded-nanogpt/main.log", "corpus/megatron-lm/golden_values_dev_dgx_h100.json",
    "corpus/trackio/logs.csv", "corpus/whisper-large-v2-ja/trainer_state.json",
]  # fmt: skip


@pytest.mark.parametrize("name, onset, how", FIRES)
def test_fires_on_real_divergence(name, onset, how):
    (finding,) = of_kind(real(name), "divergence")
    assert finding.start_step == onset and finding.severity == "fail" and how in finding.message
    assert finding.evidence["onset_step"] == onset
    top = finding.evidence.get("peak", finding.evidence["last"])
    assert top > 1.3 * finding.evidence["best"]


@pytest.mark.parametrize("name", QUIET)
def test_quiet_on_real_runs_that_did_not_diverge(name):
    assert of_kind(real(name), "divergence") == []


def test_real_oscillation_is_not_called_a_divergence():
    """The check alone sees the oscillating run end high; next to the oscillation it is
    superseded."""
    assert of_kind(real_with("realruns/oscillation.jsonl", only("divergence")), "divergence")
    assert kinds(real("realruns/oscillation.jsonl")) == ["oscillation"]


def test_onset_and_evidence_of_a_made_up_divergence():
    loss = healthy_curve(1000)
    loss[600:] = loss[600] * np.exp(np.linspace(0, 1.5, 400))
    (finding,) = of_kind(made_up(loss), "divergence")
    assert 560 <= finding.start_step <= 660 and finding.end_step == 999
    assert finding.evidence["last"] > 2 * finding.evidence["best"]
    assert "did not recover" in finding.message


def test_slow_rise_near_a_tiny_loss_is_not_divergence():
    t = np.arange(1000)
    loss = 0.3 * np.exp(-t / 60) + 2e-4 * (1 + 0.3 * np.sin(t / 7))
    loss[800:] += 4e-4  # triples, but is nothing next to the drop from 0.3
    assert of_kind(made_up(loss), "divergence") == []


def test_a_rise_that_comes_back_is_not_divergence():
    loss = healthy_curve(1000)
    loss[500:700] *= 3
    assert of_kind(made_up(loss, config=only("divergence")), "divergence") == []


def _levels(parts, n=400, noise=0.005, seed=0):
    """Flat stretches (fraction of the run, level) with multiplicative noise."""
    values = np.concatenate([[level] * round(share * n) for share, level in parts])
    return values * np.exp(noise * np.random.default_rng(seed).standard_normal(len(values)))


def test_a_divergence_of_1_8_times_is_reported():
    (finding,) = found("divergence", _levels([(0.1, 2.2), (0.5, 2.0), (0.4, 3.6)]))
    assert finding.evidence["last"] / finding.evidence["best"] == pytest.approx(1.8, rel=0.02)
    assert finding.start_step == 240


def test_a_loss_that_blew_up_at_once_and_never_came_back():
    rising = lambda top: np.r_[[2.0] * 10, np.linspace(2.0, top, 100), [top] * 290]  # noqa: E731
    (blown,) = found("divergence", rising(4.4))  # 2.2x its first value: blew up
    assert blown.evidence["peak"] == pytest.approx(4.4, rel=0.01) and "blew up" in blown.message
    (rose,) = found("divergence", rising(3.8))  # 1.9x: an ordinary rise from its best
    assert "peak" not in rose.evidence and "rose from" in rose.message
    (rose,) = found("divergence", rising(4.4), blowup=2.5)
    assert "peak" not in rose.evidence


BOUNDARIES = [
    # final / best level: 1.27x stays quiet, 1.33x fires
    Boundary("min_ratio", lambda r: _levels([(0.1, 2.2), (0.5, 2.0), (0.4, 2.0 * r)]),
             quiet=1.27, fires=1.33, silences=1.4, wakes=1.2),
    # the rise as a share of the drop from 10 to 2
    Boundary("min_fraction", lambda f: _levels([(0.1, 10), (0.5, 2.0), (0.4, 2.0 + 8 * f)]),
             quiet=0.14, fires=0.16, silences=0.18, wakes=0.12),
    # the rise must have lasted a window: the last 4 % of the run is too short, 6 % is not
    Boundary("window", lambda k: _levels([(0.1, 2.2), (0.9 - k, 2.0), (k, 4.0)]),
             quiet=0.04, fires=0.06, silences=0.08, wakes=0.03),
    # a rise of 1.46x in noise of 30 % is not yet out of the noise; 1.54x is
    Boundary("significance", lambda r: _levels([(0.1, 2.5), (0.5, 2.0), (0.4, 2.0 * r)], noise=0.3),
             quiet=1.46, fires=1.54, silences=5.0, wakes=3.0),
    # points: 8 are judged, 7 are too few
    Boundary("min_points", lambda n: _levels([(1 / n, 3.0), (3 / n, 1.0), (1 - 4 / n, 3.0)], n=int(n), noise=0.01),
             quiet=7, fires=8, silences=9, wakes=None),
]  # fmt: skip
UNPINNED = {"blowup": "test_a_loss_that_blew_up_at_once_and_never_came_back"}


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("divergence")


def test_every_parameter_is_pinned():
    assert unpinned(divergence.Params, BOUNDARIES, UNPINNED) == set()


def test_the_finding_of_a_made_up_divergence_in_full():
    (finding,) = found("divergence", _levels([(0.1, 2.2), (0.5, 2.0), (0.4, 3.6)]))
    assert (finding.metric, finding.start_step, finding.end_step) == ("loss", 240, 399)
    evidence = finding.evidence
    assert set(evidence) == {"best", "best_step", "last", "onset_step", "rise_fraction"}
    assert 40 <= evidence["best_step"] < 240 and evidence["onset_step"] == 240
    assert evidence["best"] == pytest.approx(2.0, rel=0.01)
    assert evidence["last"] == pytest.approx(3.6, rel=0.01)
    assert evidence["rise_fraction"] == pytest.approx(1.6 / 0.2, rel=0.05)  # rise / drop
    assert re.fullmatch(
        rf"loss rose from 1\.99\d at step {evidence['best_step']} to 3\.59\d by step 399 "
        r"\(\+80%\) and did not recover",
        finding.message,
    )


def test_a_loss_that_crosses_zero_has_no_ratio_in_its_message():
    (finding,) = found("divergence", _levels([(0.1, -0.5), (0.5, -1.0), (0.4, 0.5)]))
    assert finding.start_step == 240
    assert re.fullmatch(
        r"loss rose from -1\.00\d at step \d+ to 0\.49\d\d by step 399 and did not recover",
        finding.message,
    )


def test_a_constant_loss_below_zero_is_not_a_divergence():
    assert found("divergence", [-1.0] * 200) == []


def test_a_loss_that_only_rose_has_no_drop_to_compare_the_rise_with():
    (finding,) = found("divergence", np.linspace(2.0, 3.0, 400))  # 1.5x: not a blow-up
    assert finding.evidence["best_step"] == 0 and finding.evidence["rise_fraction"] == math.inf


def test_the_onset_is_where_the_loss_first_left_its_best():
    """A brief return near the best level in between does not move the onset."""
    loss = _levels([(0.1, 2.2), (0.3, 2.0), (0.3, 4.0), (0.1, 2.05), (0.2, 4.0)])
    (finding,) = found("divergence", loss)
    assert finding.start_step == 160


@pytest.mark.parametrize(
    "n, lasting, fires", [(400, 20, True), (400, 19, False), (60, 3, True), (60, 2, False)]
)
def test_a_rise_must_last_a_window_and_at_least_three_points(n, lasting, fires):
    """A window is 5 % of the run (20 of 400 points); a short run still needs 3 points."""
    loss = np.r_[[2.2] * (n // 10), [2.0] * (n - n // 10 - lasting), [4.0] * lasting]
    findings = found("divergence", loss)
    assert [(f.start_step, f.end_step) for f in findings] == (
        [(n - lasting, n - 1)] if fires else []
    )


def test_the_finding_of_a_blow_up_in_full():
    """2.0 for 10 steps, then up to 4.4 (it passes 2x, 4.0, at step 93) and back to 4.0."""
    loss = np.r_[[2.0] * 10, np.linspace(2.0, 4.4, 100), [4.4] * 190, np.linspace(4.4, 4.0, 100)]
    (finding,) = found("divergence", loss)
    assert (finding.metric, finding.start_step, finding.end_step) == ("loss", 92, 399)
    evidence = dict(finding.evidence)
    assert evidence.pop("last") == pytest.approx(4.0, rel=0.02)
    assert evidence == {"best": 2.0, "best_step": 0, "peak": 4.4, "onset_step": 92}
    assert re.fullmatch(
        r"loss blew up from 2 at step 0 to 4\.4 and never came back below where it began "
        r"\(4\.0\d\d at step 399\)",
        finding.message,
    )
