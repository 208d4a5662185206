"""Each detector on made-up curves: its edge cases, its positive case, and invariances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import losstest
from losstest.checks import CHECKS
from losstest.config import Config
from losstest.frame import long_frame, single

from .conftest import healthy_curve


def report(loss, steps=None, val=None, val_steps=None, config=None):
    """The RunReport of one made-up run."""
    loss = np.asarray(loss, dtype=float)
    steps = np.arange(len(loss)) if steps is None else np.asarray(steps)
    metric = ["loss"] * len(loss)
    if val is not None:
        metric += ["val_loss"] * len(val)
        steps = np.concatenate([steps, val_steps])
        loss = np.concatenate([loss, val])
    frame = long_frame(np.array(metric, dtype=object), steps, loss, run="r")
    frame.insert(0, "source", single("made-up", len(frame)))
    return losstest.analyze(frame, config).runs[0]


def kinds(run, at_least="warn"):
    rank = losstest.Severity(at_least).rank
    return sorted({f.kind for f in run.findings if f.severity.rank >= rank})


EDGE_CASES = {
    "one point": [2.0],
    "two points": [2.0, 1.0],
    "all NaN": [np.nan] * 50,
    "constant": [2.5] * 200,
    "zeros": [0.0] * 200,
    "negative noise": list(np.random.default_rng(0).normal(-1.0, 0.1, 300)),
}


@pytest.mark.parametrize("name", EDGE_CASES)
@pytest.mark.parametrize("kind", CHECKS)
def test_every_detector_survives_edge_cases(kind, name):
    curve = EDGE_CASES[name]
    run = report(curve, config=Config(select=frozenset({kind})))
    assert all(f.kind == kind for f in run.findings)
    if name == "all NaN":
        assert kinds(run) == (["nan"] if kind == "nan" else [])
    if name == "constant":
        assert kinds(run) == ([kind] if kind in ("plateau", "underfitting") else [])
    if name == "zeros":  # no ratio to judge improvement by
        assert kinds(run) == ([kind] if kind == "plateau" else [])


@pytest.mark.parametrize("noise", [0.005, 0.05, 0.2, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_healthy_curves_get_no_warning(noise, seed):
    loss = healthy_curve(2000, noise, seed)
    assert kinds(report(loss)) == []


def test_curve_times_1000_and_shifted_irregular_steps_read_the_same():
    loss = healthy_curve(1500, 0.05)
    loss[700] *= 3  # a spike
    loss[1100:] *= np.linspace(1, 4, 400)  # a divergence
    base = report(loss)
    assert kinds(base) == ["divergence", "spike"]
    scaled = report(loss * 1000)
    irregular = report(loss, steps=5000 + np.cumsum(np.random.default_rng(3).integers(1, 20, 1500)))
    for other in (scaled, irregular):
        assert [f.kind for f in other.findings] == [f.kind for f in base.findings]
    assert [(f.start_step, f.end_step) for f in scaled.findings] == [
        (f.start_step, f.end_step) for f in base.findings
    ]


def test_nan_onset_and_count():
    loss = healthy_curve(300)
    loss[200:] = np.nan
    loss[250] = np.inf
    (finding,) = [f for f in report(loss).findings if f.kind == "nan"]
    assert finding.start_step == 200 and finding.evidence["non_finite"] == 100
    assert finding.evidence["inf"] == 1 and finding.severity == "fail"


def test_divergence_onset_is_found():
    loss = healthy_curve(1000)
    loss[600:] = loss[600] * np.exp(np.linspace(0, 1.5, 400))
    (finding,) = [f for f in report(loss).findings if f.kind == "divergence"]
    assert 560 <= finding.start_step <= 660
    assert finding.evidence["last"] > 2 * finding.evidence["best"]


def test_slow_rise_near_a_tiny_loss_is_not_divergence():
    t = np.arange(1000)
    loss = 0.3 * np.exp(-t / 60) + 2e-4 * (1 + 0.3 * np.sin(t / 7))
    loss[800:] += 4e-4  # triples, but is nothing next to the drop from 0.3
    assert "divergence" not in kinds(report(loss))


def test_spikes_are_found_one_by_one_with_a_skip_range():
    loss = healthy_curve(3000, 0.05)
    for at in (500, 1500, 2500):
        loss[at] *= 2.5
    spikes = [f for f in report(loss).findings if f.kind == "spike"]
    assert [f.start_step for f in spikes] == [500, 1500, 2500]
    low, high = spikes[0].evidence["skip_steps"]
    assert low < 500 < high


def test_spikes_in_a_long_curve_are_found_at_their_step():
    loss = healthy_curve(200_000, 0.02)
    loss[123_457] *= 2
    spikes = [f for f in report(loss).findings if f.kind == "spike"]
    assert [f.evidence["peak_step"] for f in spikes] == [123_457]


def test_a_spike_at_the_last_point_has_not_recovered():
    loss = healthy_curve(500)
    loss[-1] *= 3
    assert "spike" not in kinds(report(loss))


def test_oscillation_of_the_level():
    t = np.arange(2000)
    loss = (
        3.0
        * np.exp(0.5 * np.sin(2 * np.pi * t / 250))
        * np.exp(0.05 * np.random.default_rng(0).standard_normal(2000))
    )
    (finding,) = [f for f in report(loss).findings if f.kind == "oscillation"]
    assert finding.evidence["swings"] >= 5
    assert 200 <= finding.evidence["period_steps"] <= 300


def test_plateau_never_moved_and_flat_line():
    rng = np.random.default_rng(1)
    still = 4.2 * np.exp(0.02 * rng.standard_normal(800))
    assert "plateau" in kinds(report(still))
    flat = healthy_curve(1000)
    flat[700:] = flat[699]
    (finding,) = [f for f in report(flat).findings if f.kind == "plateau"]
    assert finding.start_step == 699


def test_overfitting_clear_and_slight():
    train = healthy_curve(1000, 0.02)
    val_steps = np.arange(0, 1000, 50)
    u_shape = 2.5 + 0.002 * (val_steps - 400) ** 2 / 100
    run = report(train, val=u_shape, val_steps=val_steps)
    (finding,) = [f for f in run.findings if f.kind == "overfitting"]
    assert finding.severity == "fail" and finding.start_step == 400
    slight = np.concatenate([np.linspace(3, 2.5, 16), [2.56, 2.58, 2.6, 2.62]])
    run = report(train, val=slight, val_steps=val_steps)
    assert [f.severity for f in run.findings if f.kind == "overfitting"] == ["warn"]


def test_overfitting_needs_the_training_loss_to_fall():
    train = healthy_curve(1000, 0.02)
    train[300:] = train[300] * np.exp(0.02 * np.random.default_rng(0).standard_normal(700))
    val_steps = np.arange(0, 1000, 50)
    val = 2.5 + 0.002 * (val_steps - 400) ** 2 / 100
    assert "overfitting" not in kinds(report(train, val=val, val_steps=val_steps))


def test_underfitting_against_chance_target_and_own_improvement():
    loss = 4.2 * np.exp(-np.arange(500) / 10000)  # 4.2 -> 4.0
    near_chance = report(loss, config=Config(vocab_size=65))  # ln 65 = 4.17
    assert kinds(near_chance) == ["underfitting"]
    target = report(healthy_curve(500), config=Config(target=1.0))
    assert [f.severity for f in target.findings if f.kind == "underfitting"] == ["fail"]
    barely = 4.0 * np.exp(-np.arange(500) / 8000)  # 4.0 -> 3.76: 6 %
    assert kinds(report(barely)) == ["underfitting"]


def test_restart_keeps_the_values_written_last():
    steps = np.r_[np.arange(0, 600), np.arange(400, 1000)]
    loss = np.r_[healthy_curve(600), healthy_curve(1000)[400:] * 0.99]
    run = report(loss, steps=steps)
    (finding,) = [f for f in run.findings if f.kind == "restart"]
    assert finding.severity == "info" and finding.evidence == {"from_step": 599, "to_step": 400}
    assert run.steps == 1000 and run.summary.last == pytest.approx(loss[-1])


def test_severity_and_selection_come_from_the_config():
    loss = healthy_curve(1000)
    loss[500] *= 3
    config = Config(checks={"spike": {"severity": "fail"}})
    assert report(loss, config=config).verdict == "fail"
    assert report(loss, config=Config(ignore=frozenset({"spike"}))).verdict == "pass"
    assert report(loss, config=Config(ignore=frozenset({"LT103"}))).verdict == "pass"


def test_frame_of_several_runs_gives_a_report_each():
    a = report(healthy_curve(100))
    assert a.run == "r" and a.source == "made-up"
    frame = pd.concat(
        [long_frame(["loss"] * 3, np.arange(3), [3.0, 2.0, 1.0], run=name) for name in "ab"],
        ignore_index=True,
    )
    frame.insert(0, "source", single("x", len(frame)))
    assert [r.run for r in losstest.analyze(frame).runs] == ["a", "b"]
