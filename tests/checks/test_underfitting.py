"""underfitting: where it must fire and where it must stay quiet, real logs first; then its
defaults pinned from both sides."""

from __future__ import annotations

import math

import numpy as np
import pytest

from losstest.checks import underfitting
from losstest.config import Config

from ..conftest import healthy_curve
from .runs import Boundary, finding, kinds, made_up, of_kind, real, real_with, unpinned

CHARS = Config(vocab_size=65)  # the tiny transformers of tests/data/realruns read 65 characters

# (log, configuration, severity, evidence key naming the basis)
FIRES = [
    ("realruns/plateau.jsonl", CHARS, "warn", "chance"),
    ("realruns/frozen.jsonl", CHARS, "warn", "chance"),
    ("realruns/oscillation.jsonl", Config(num_classes=65), "warn", "chance"),
    ("realruns/healthy.jsonl", Config(target=1.0), "fail", "target"),
    ("realruns/slow.jsonl", Config(target=2.0), "fail", "target"),
]
QUIET = [
    ("realruns/healthy.jsonl", CHARS),
    ("realruns/slow.jsonl", CHARS),
    ("realruns/noisy.jsonl", CHARS),
    ("realruns/healthy.jsonl", Config(target=2.0)),
    ("realruns/plateau.jsonl", Config()),  # said by the plateau it repeats
    ("corpus/modded-nanogpt/main.log", Config(vocab_size=50304)),
    ("corpus/whisper-large-v2-ja/trainer_state.json", Config()),
]


@pytest.mark.parametrize("name, config, severity, basis", FIRES)
def test_fires_on_real_runs_that_stayed_high(name, config, severity, basis):
    (finding,) = of_kind(real_with(name, config), "underfitting")
    assert finding.severity == severity
    limit = 0.9 * finding.evidence["chance"] if basis == "chance" else finding.evidence["target"]
    assert finding.evidence["final"] > limit


@pytest.mark.parametrize("name, config", QUIET)
def test_quiet_on_real_runs_that_learned(name, config):
    assert of_kind(real_with(name, config), "underfitting") == []


def test_the_chance_level_is_ln_of_the_vocabulary_or_the_classes():
    assert CHARS.chance == pytest.approx(math.log(65))
    assert Config(num_classes=10).chance == pytest.approx(math.log(10))
    assert Config(num_classes=1).chance is None


def test_own_improvement_without_a_chance_level():
    barely = 4.0 * np.exp(-np.arange(500) / 8000)  # 4.0 -> 3.76: 6 %
    (finding,) = of_kind(made_up(barely), "underfitting")
    assert finding.evidence["basis"] == "own improvement"
    assert finding.evidence["improvement"] == pytest.approx(0.06, abs=0.005)
    assert kinds(made_up(healthy_curve(500))) == []


def test_a_resumed_stretch_is_not_judged_by_its_own_start():
    barely = 4.0 * np.exp(-np.arange(500) / 8000)
    assert of_kind(made_up(barely, steps=np.arange(5000, 5500)), "underfitting") == []


N = 500
T = np.arange(N)


def _noise(n, size=0.001):
    return np.exp(size * np.random.default_rng(0).standard_normal(n))


def _ends_at_chance(share):
    """A loss ending at `share` of ln 65, vocabulary 65."""
    loss = math.log(65) * share * np.exp(0.05 * (1 - T / N)) * _noise(N)
    return {"loss": loss, "settings": {"vocab_size": 65}}


def _falls_by(share):
    return 4.0 * np.exp(math.log(1 - share) * T / N) * _noise(N, 0.0005)


def _chance_at_the_end(points):
    """A loss at 1.0 that jumps to the chance level for its last `points` of 500."""
    k = int(points)
    return {"loss": np.r_[[1.0] * (N - k), [4.2] * k] * _noise(N), "settings": {"vocab_size": 65}}


def _few(points):
    loss = 4.5 * np.exp(-0.001 * np.arange(int(points)))
    return {"loss": loss, "settings": {"vocab_size": 65}}


def _val_falls_by(drop):
    """A training loss that falls while the validation loss falls by `drop` (log) at best."""
    evals = np.arange(0, 1000, 50)
    val = 2.3 * np.exp(-drop * np.minimum(evals, 500) / 500)
    return {"loss": healthy_curve(1000, 0.02), "val": val, "val_steps": evals}


def _val_points(points):
    return {
        "loss": healthy_curve(1000, 0.02),
        "val": [2.3] * int(points),
        "val_steps": np.arange(int(points)) * 50,
    }


def _learned_before_evaluated(fall):
    """A training loss falling by `fall` (log) before a validation loss first evaluated at step
    200, flat from there on: the validation loss never improves on its first evaluation."""
    train = 3.0 * np.exp(-fall * np.minimum(T, 200) / 200 - 0.05 * T / N) * _noise(N, 0.01)
    evals = np.arange(200, N, 30)
    return {"loss": train, "val": 1.5 * np.exp(0.0004 * np.arange(len(evals))), "val_steps": evals}


def test_a_validation_loss_first_evaluated_after_the_learning_has_no_start():
    """Quantile regression: its pinball loss fell from 0.48 to 0.21 before the first evaluation,
    which the validation loss then improved on by 1 %: no finding. A stretch of a resumed run,
    logged from update 1,501 of 2,000, has no start either."""
    assert of_kind(real("families/quantile_losses_csv"), "underfitting") == []
    assert kinds(real("families/char_transformer_resumed_fairseq_new")) == []


def test_a_real_validation_loss_that_never_improved_warns():
    (finding,) = of_kind(real("families/logreg_chance_mlflow"), "underfitting")
    assert finding.severity == "warn" and finding.evidence["basis"] == "validation never improved"
    assert finding.metric == "val_loss"


BOUNDARIES = [
    # the first level is the median of the first three evaluations: 0.9 of the drop below them
    Boundary("min_val_improvement", _val_falls_by, quiet=0.023, fires=0.021, silences=0.015, wakes=0.025),
    Boundary("min_val_points", _val_points, quiet=4, fires=5, silences=6, wakes=4),
    Boundary("chance_fraction", _ends_at_chance, quiet=0.895, fires=0.9, silences=0.92, wakes=0.88),
    Boundary("min_improvement", _falls_by, quiet=0.105, fires=0.1, silences=0.08, wakes=0.12),
    # the final level is the median of the last 5 % (25 points): 12 at chance do not move it
    Boundary("window", _chance_at_the_end, quiet=12, fires=14, silences=0.07, wakes=0.03),
    # 10 points are judged, 9 are too few (10 is also the most min_points can ask)
    Boundary("min_points", _few, quiet=9, fires=10, silences=None, wakes=9),
    # a training loss down x1.65 before the first evaluation has learned; down x1.5, not yet
    Boundary("learned_fall", _learned_before_evaluated, quiet=0.55, fires=0.45, silences=0.4, wakes=0.6),
]  # fmt: skip


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("underfitting")


def test_against_a_target_three_points_are_enough_and_the_limit_is_strict():
    def against_target(loss):
        return of_kind(made_up(loss, config=Config(target=1.0)), "underfitting")

    assert [f.severity for f in against_target([1.01] * 3)] == ["fail"]
    assert against_target([1.0] * 3) == []  # at the target is not above it
    assert against_target([3.0, 2.0]) == []  # two points are too few


def _flat_beside_val_climbing(rise, **params):
    """A training loss flat at ln 10 and a validation loss climbing by `rise` (log units) over
    20 evaluations; the kinds all checks report, with these underfitting parameters."""
    evals = np.arange(0, 1000, 50)
    val = math.log(10) * np.exp(rise * evals / evals[-1])
    config = Config(checks={"underfitting": params}) if params else None
    run = made_up(math.log(10) * _noise(1000, 0.01), val=val, val_steps=evals, config=config)
    return [(f.kind, f.severity) for f in run.findings]


def test_a_flat_loss_beside_a_climbing_validation_loss_fits_noise():
    """Shuffled labels: the weights move, the validation loss climbs, nothing is learned; a
    frozen or stuck model's validation loss stays put, and that is the plateau's."""
    assert _flat_beside_val_climbing(0.006) == [("underfitting", "warn")]
    assert _flat_beside_val_climbing(0.004) == [("plateau", "fail")]
    assert _flat_beside_val_climbing(0.006, min_val_rise=0.007) == [("plateau", "fail")]
    assert _flat_beside_val_climbing(0.004, min_val_rise=0.003) == [("underfitting", "warn")]
    chance = real("families/mlp_chance_jsonl")  # labels shuffled: val 2.31 -> 2.34
    assert [(f.kind, f.severity, f.metric) for f in chance.findings] == [
        ("underfitting", "warn", "val_loss")
    ]
    assert chance.findings[0].evidence["rose"] is True
    stuck = real("corpus/dl-fundamentals/6.5-part2-cli-simple/version_5")  # lr 0.99: at ln 2
    assert kinds(stuck) == ["plateau"]


def test_a_validation_loss_still_falling_has_improved_however_little():
    """A fine-tune at a low rate: 2.51, 2.46, 2.44, 2.433, 2.431 (5 evaluations) is slow, not
    a model that learned nothing; the same values turning up at the end would be."""
    assert of_kind(real("families/gpt2_finetune_lowlr"), "underfitting") == []
    evals = np.arange(0, 1000, 200)
    falling = [2.5129, 2.4595, 2.4418, 2.433, 2.4306]
    turning = [2.5129, 2.4595, 2.4306, 2.433, 2.4418]
    for val, found in ((falling, []), (turning, ["underfitting"])):
        run = made_up(healthy_curve(1000, 0.01), val=val, val_steps=evals)
        assert [f.kind for f in run.findings if f.kind == "underfitting"] == found


def test_every_parameter_is_pinned():
    reasons = {
        "min_val_rise": "it decides between two checks, which a Boundary of one cannot show: "
        "test_a_flat_loss_beside_a_climbing_validation_loss_fits_noise pins it"
    }
    assert unpinned(underfitting.Params, BOUNDARIES, reasons) == set()


def _never_improved(rose: bool):
    return finding("underfitting", basis="validation never improved", rose=rose)


@pytest.mark.parametrize("other", ["divergence", "overfitting", "nan"])
def test_a_validation_loss_that_never_improved_is_said_by_what_broke_it(other):
    for rose in (True, False):
        assert underfitting.superseded(_never_improved(rose), [finding(other, 0, 10)])


def test_beside_a_plateau_it_stands_only_when_the_validation_loss_climbed():
    plateau = [finding("plateau", improvement=0.0)]
    assert underfitting.superseded(_never_improved(rose=False), plateau)
    assert not underfitting.superseded(_never_improved(rose=True), plateau)
    assert not underfitting.superseded(_never_improved(rose=False), [finding("spike")])


@pytest.mark.parametrize(
    "other, said",
    [("plateau", True), ("divergence", True), ("overfitting", False), ("stall", False)],
)
def test_little_improvement_of_its_own_is_said_by_a_plateau_or_a_divergence(other, said):
    own = finding("underfitting", basis="own improvement")
    assert underfitting.superseded(own, [finding(other)]) == said
    chance = finding("underfitting", chance=4.17)  # against the chance level: always its own
    assert not underfitting.superseded(chance, [finding(other)])


def test_shuffled_labels_in_full():
    """Logistic regression on shuffled labels: the validation loss climbs from its start."""
    (found,) = of_kind(real("families/logreg_chance_mlflow"), "underfitting")
    assert (found.metric, found.start_step, found.end_step, found.severity) == (
        "val_loss",
        50,
        1500,
        "warn",
    )
    assert (
        found.message == "val_loss never improved: 2.368 at first, at best 2.35 over 30 evaluations"
    )
    assert dict(found.evidence) == {
        "final": 2.3827, "start": 2.36819, "best": 2.35005, "basis": "validation never improved",
        "rose": True,
    }  # fmt: skip
