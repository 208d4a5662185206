"""short: a run too short to judge says so instead of passing in silence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from losstest.checks import CHECKS, short

from .runs import Boundary, found, made_up, real, unpinned


def test_a_real_three_point_run_says_it_is_too_short():
    """A Lightning run stopped after three logged training losses (and five evaluations)."""
    run = real("corpus/dl-fundamentals/6.8-debugging/version_6/metrics.csv")
    assert run.verdict == "pass"
    (finding,) = run.findings
    assert (finding.kind, finding.severity, finding.metric) == ("short", "info", "train_loss")
    assert (finding.start_step, finding.end_step) == (49, 149)
    assert dict(finding.evidence) == {"points": 3, "needed": 8}
    assert (
        finding.message
        == "train_loss has only 3 points: too few to judge its shape (8 or more needed)"
    )


@pytest.mark.parametrize(
    "name", ["families/keras_logreg_short_csvlogger", "realruns/healthy.jsonl"]
)
def test_quiet_on_real_runs_long_enough_to_judge(name):
    assert [f for f in real(name).findings if f.kind == "short"] == []


def test_one_point():
    (finding,) = found("short", [2.3])
    assert finding.message.startswith("loss has only 1 point:")


def test_a_short_run_that_became_nan_is_the_nan_checks():
    """Four values, then NaN: the nan check says what matters; 4 of 800 finite values are a
    long run gone NaN, not a short one."""
    assert [f.kind for f in made_up([2.3, 2.2, 2.1, np.nan]).findings] == ["nan"]
    assert [f.kind for f in made_up([2.3, 2.2, 2.1, 2.0] + [np.nan] * 796).findings] == ["nan"]


def test_needed_is_what_the_first_check_of_the_shape_needs():
    """The least any check of the training curve's shape needs: below it, none of them runs."""
    shape_checks = (
        "divergence",
        "instability",
        "runaway",
        "spike",
        "oscillation",
        "plateau",
        "stall",
    )
    least = min(CHECKS[k].params().min_points for k in shape_checks)
    assert short.Params().min_points == least


BOUNDARIES = [
    Boundary("min_points", lambda n: np.linspace(2.3, 1.0, int(n)), quiet=8, fires=7, silences=7, wakes=9),
]  # fmt: skip


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.param)
def test_default_thresholds(boundary):
    boundary.check("short")


def test_every_parameter_is_pinned():
    assert unpinned(short.Params, BOUNDARIES, {}) == set()
    assert [f.name for f in dataclasses.fields(short.Params)] == ["min_points"]
