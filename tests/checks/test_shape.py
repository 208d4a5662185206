"""The shape the checks share: the levels at a curve's edges, the error of a median level, what
counts as a loss at zero, and where a loss blew up; stated on curves whose answers are known."""

from __future__ import annotations

import math

import numpy as np

from losstest.checks.shape import Shape, excursions, shape_of
from losstest.curves import Curve


def _shape(values) -> Shape:
    values = np.asarray(values, dtype=float)
    return Shape(np.arange(len(values)), values)


def test_a_short_curve_s_edge_is_the_median_of_its_three_end_points():
    """5 % of 40 points is 2: too few for a median that ignores one bad point, so three."""
    shape = _shape(np.r_[3.0, 1.0, 2.0, np.full(34, 100.0), 1.0, 2.0, 3.0])
    assert shape.unscale(shape.edge(0.05, at_end=True)) == 2.0
    assert shape.unscale(shape.edge(0.05, at_end=False)) == 2.0


def test_the_error_of_a_median_level_falls_with_the_square_root_of_its_points():
    shape = _shape(3.0 + 0.1 * np.random.default_rng(0).standard_normal(500))
    assert shape.noise > 0
    assert shape.level_error(1) == shape.noise * 1.25
    assert shape.level_error(0) == shape.level_error(1)  # no point is no better than one
    assert math.isclose(shape.level_error(4), shape.level_error(1) / 2)


def test_a_loss_at_a_thousandth_of_its_start_or_below_has_reached_zero():
    # starts at 2.0 (the median of its first five points), logged with every decimal
    loss = 2.0 * np.exp(0.01 * np.random.default_rng(0).standard_normal(100))
    loss[:5] = [1.98765432, 2.0, 2.01234567, 1.99123457, 2.00876543]
    shape = _shape(loss)
    assert shape.reached_zero(0.0) and shape.reached_zero(0.0015)
    assert shape.reached_zero(0.002)  # exactly a thousandth
    assert not shape.reached_zero(0.0021)
    assert not shape.reached_zero(-0.001)  # below zero: a different loss, not a fit


def test_a_loss_that_starts_at_zero_has_not_fallen_to_it():
    assert not _shape(np.r_[np.zeros(50), np.linspace(0.0, -1.0, 50)]).reached_zero(0.0)


def test_a_loss_that_crosses_zero_has_no_ratio_to_blow_up_by():
    loss = -1.0 + 0.1 * np.random.default_rng(0).standard_normal(2000)
    loss[500:800] += 50  # in units of its spread, far up: a blow-up, were it a ratio
    assert excursions(_shape(loss), math.log(3)) == []


def test_three_points_are_enough_to_see_a_blow_up():
    (blow_up,) = excursions(_shape([1.0, 1000.0, 1000.0]), math.log(3))
    assert blow_up.end == 2 and not blow_up.recovered


def test_a_blow_up_is_measured_from_the_lowest_of_the_first_three_points_not_the_fourth():
    """A loss that blew up at its second step starts from its first point; a single low
    point after the first three is noise the trend does not follow."""
    at_once = np.r_[1.0, np.full(999, 10.0)]
    assert [x.recovered for x in excursions(_shape(at_once), math.log(3))] == [False]
    outlier = np.full(1000, 10.0)
    outlier[3] = 1.0
    assert excursions(_shape(outlier), math.log(3)) == []


def test_a_loss_past_the_threshold_only_at_its_last_two_points_blew_up_there():
    """What `watch` sees of a run blowing up as it is written: the level climbs from its 900th
    point on and passes 3x only at the last two; it has not come back, and peaks at the end."""
    z = np.zeros(1000)
    slope = math.log(3) / 95
    z[900:] = math.log(3) + slope * (np.arange(100) - 98 + 0.5)
    (blow_up,) = excursions(_shape(np.exp(z)), math.log(3))
    assert (blow_up.end, blow_up.peak, blow_up.recovered) == (999, 999, False)


def test_a_curve_s_shape_is_its_finite_points_at_their_own_steps():
    values = np.array([4.0, np.nan, 3.0, np.inf, 2.0, 1.0])
    shape = shape_of(Curve.from_log_order("loss", np.arange(0, 60, 10), values))
    assert shape.step.tolist() == [0, 20, 40, 50] and shape.value.tolist() == [4.0, 3.0, 2.0, 1.0]


def test_a_loss_logged_to_four_decimals_is_at_zero_within_two_steps_of_the_rounding():
    """From 0.05, a thousandth is 0.00005, finer than the log can tell: within 0.0002 is zero."""
    loss = np.round(np.linspace(0.05, 0.0001, 200), 4)
    shape = _shape(loss)
    assert shape.rounding == 0.0001
    assert shape.reached_zero(0.0002) and not shape.reached_zero(0.00021)
    unrounded = _shape(np.linspace(0.05, 0.0001, 200) * (1 + 1e-9 * np.arange(200)))
    assert unrounded.rounding is None and not unrounded.reached_zero(0.0002)
