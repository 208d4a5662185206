"""PNG plots: files people can open, with every finding drawn."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

import losstest
from losstest.cli import app
from losstest.reporters.plot import PlotOptions, figure
from losstest.signal import envelope, smoothed

from .conftest import DATA

SAMPLES = DATA.parent.parent / "sample_logs"


def labels(fig):
    return {t for ax in fig.axes for t in ax.get_legend_handles_labels()[1]}


def legend(fig):
    """The legend's entries as drawn: an entry drawn twice shows twice."""
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def test_every_kind_of_mark_is_drawn():
    spiky = losstest.analyze(DATA / "realruns/spikes.jsonl").runs
    fig = figure(spiky)
    assert legend(fig).count("spike") == 1  # one legend entry for three spikes
    markers = [c for c in fig.axes[0].collections if c.get_label() == "spike"]
    assert sorted(int(c.get_offsets()[0][0]) for c in markers) == [250, 420, 610]
    assert len(fig.axes[0].collections) == 4  # and the best validation star
    assert {"divergence (fail)"} <= labels(
        figure(losstest.analyze(DATA / "realruns/late_divergence.jsonl").runs)
    )
    nan = labels(figure(losstest.analyze(DATA / "realruns/nan.jsonl").runs))
    assert {"NaN / inf", "first NaN / inf"} <= nan
    over = labels(
        figure(losstest.analyze(DATA / "corpus/whisper-large-v2-ja/trainer_state.json").runs)
    )
    assert "overfitting (fail)" in over and any(
        label.startswith("best eval_loss") for label in over
    )
    plateau = labels(figure(losstest.analyze(DATA / "realruns/plateau.jsonl").runs))
    assert "plateau (fail)" in plateau
    restart = labels(figure(losstest.analyze(DATA / "realruns/resumed.jsonl").runs))
    assert "restart" in restart


def test_title_says_the_verdict_and_the_lower_panel_holds_the_learning_rate():
    fig = figure(losstest.analyze(DATA / "realruns/late_divergence.jsonl").runs)
    assert fig.axes[0].get_title(loc="left") == "late_divergence — FAIL"
    assert fig.axes[1].get_ylabel() == "learning rate"
    clipped = [t.get_text() for t in fig.axes[0].texts]
    assert len(clipped) == 1 and re.fullmatch(
        r"values above [\d.]+ clipped \(up to [\d.]+\)", clipped[0]
    )


def test_log_scale_is_chosen_by_range_and_can_be_forced():
    whisper = losstest.analyze(DATA / "corpus/whisper-large-v2-ja/trainer_state.json").runs
    assert figure(whisper).axes[0].get_yscale() == "log"
    assert figure(whisper, PlotOptions(log_y=False)).axes[0].get_yscale() == "linear"
    healthy = losstest.analyze(DATA / "realruns/healthy.jsonl").runs
    assert figure(healthy).axes[0].get_yscale() == "linear"


def test_envelope_keeps_a_single_spike_among_ten_million_points():
    y = np.ones(10_000_000)
    y[7_654_321] = 50.0
    x = np.arange(len(y), dtype=float)
    ex, ey = envelope(x, y)
    assert len(ey) <= 4100 and ey.max() == 50.0 and 7_654_321 in ex


def test_smoothing_is_tensorboards_debiased_ema():
    y = np.array([1.0, 2.0, 3.0])
    w = 0.6
    expected, last = [], 0.0
    for i, v in enumerate(y, start=1):
        last = last * w + (1 - w) * v
        expected.append(last / (1 - w**i))
    assert smoothed(y, w) == pytest.approx(expected)


def test_cli_writes_png_files(tmp_path):
    runner = CliRunner()
    out = tmp_path / "one.png"
    result = runner.invoke(app, ["plot", str(SAMPLES / "spiky.jsonl"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    image = imread(out)
    assert image.shape[0] > 400 and image.shape[1] > 800
    assert image[..., :3].std() > 0.05  # not blank
    result = runner.invoke(app, ["analyze", str(SAMPLES), "--plot-dir", str(tmp_path / "each"),
                                 "--plot", str(tmp_path / "all.png")])  # fmt: skip
    assert result.exit_code == 1
    assert len(list((tmp_path / "each").glob("*.png"))) == 6 and (tmp_path / "all.png").exists()
    epoch = runner.invoke(app, ["plot", str(SAMPLES / "overfitting_lightning"), "--x", "epoch",
                                "-o", str(tmp_path / "epoch.png")])  # fmt: skip
    assert epoch.exit_code == 0
