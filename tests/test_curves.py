"""Curve building: one value a step, the value written last kept, restarts and duplicates
counted, the final level."""

from __future__ import annotations

import numpy as np
import pytest

from losstest.curves import Curve


def test_a_resumed_log_keeps_the_values_written_last_with_their_epoch_and_time():
    step = np.array([0, 1, 2, 3, 2, 3, 4])
    value = np.array([5.0, 4.0, 3.0, 9.0, 2.5, 2.0, 1.0])
    epoch = np.arange(7, dtype=float)
    wall = 100.0 + np.arange(7)
    curve = Curve.from_log_order("loss", step, value, epoch, wall)
    assert curve.step.tolist() == [0, 1, 2, 3, 4] and len(curve) == 5
    assert curve.value.tolist() == [5.0, 4.0, 2.5, 2.0, 1.0]
    assert curve.epoch.tolist() == [0.0, 1.0, 4.0, 5.0, 6.0]
    assert curve.wall_time.tolist() == [100.0, 101.0, 104.0, 105.0, 106.0]
    assert curve.restarts == ((3, 2),) and curve.duplicates == 2


def test_several_restarts_and_steps_logged_twice_in_place():
    curve = Curve.from_log_order("loss", np.array([0, 5, 3, 6, 1, 2, 2]), np.arange(7.0))
    assert curve.restarts == ((5, 3), (6, 1))
    assert curve.step.tolist() == [0, 1, 2, 3, 5, 6] and curve.duplicates == 1
    assert curve.value.tolist() == [0.0, 4.0, 6.0, 2.0, 1.0, 3.0]
    assert curve.epoch is None and curve.wall_time is None


def test_a_log_in_order_is_kept_as_it_is():
    curve = Curve.from_log_order("loss", np.arange(4), np.array([4.0, np.nan, 2.0, np.inf]))
    assert curve.restarts == () and curve.duplicates == 0
    assert curve.finite.tolist() == [True, False, True, False]


@pytest.mark.parametrize(
    "values, level",
    [
        ([3.0, 2.0, 1.0], 1.0),  # under 20 values: the last one
        (list(range(40, 0, -1)), 1.5),  # 5 % of 40: the median of the last 2
        (list(range(100, 0, -1)), 3.0),  # the median of the last 5
        ([3.0, 2.0, np.nan, 1.0, np.inf], 1.0),  # finite values only
        ([np.nan, np.nan], None),
    ],
)
def test_the_final_level_is_the_median_of_the_last_5_percent(values, level):
    curve = Curve.from_log_order("loss", np.arange(len(values)), np.array(values, dtype=float))
    assert curve.final_level() == level
    assert Curve.from_log_order("loss", np.arange(40), np.arange(40.0)).final_level(0.25) == 34.5


@pytest.mark.parametrize(
    "steps, interval",
    [
        ([7], 1),  # one value: no gap to measure
        ([3, 4, 5, 6], 1),
        ([0, 10, 20, 30], 10),
        ([0, 10, 20, 25, 35, 45, 55, 1000], 10),  # the usual gap, not the mean nor the largest
        ([0, 2, 4, 5, 6, 100], 2),
    ],
)
def test_the_logging_interval_is_the_usual_gap_between_steps(steps, interval):
    curve = Curve.from_log_order("loss", np.array(steps), np.ones(len(steps)))
    assert curve.interval == interval


def test_a_log_of_two_values_out_of_order_is_sorted_too():
    back = Curve.from_log_order("loss", np.array([5, 3]), np.array([2.0, 1.0]))
    assert back.step.tolist() == [3, 5] and back.value.tolist() == [1.0, 2.0]
    assert back.restarts == ((5, 3),)
    twice = Curve.from_log_order("loss", np.array([3, 3]), np.array([2.0, 1.0]))
    assert twice.step.tolist() == [3] and twice.value.tolist() == [1.0] and twice.duplicates == 1


def test_a_log_in_order_keeps_its_epochs_and_times():
    epoch, wall = np.array([0.0, 0.5, 1.0]), np.array([10.0, 11.0, 12.5])
    curve = Curve.from_log_order("loss", np.arange(3), np.array([3.0, 2.0, 1.0]), epoch, wall)
    assert curve.epoch.tolist() == [0.0, 0.5, 1.0]
    assert curve.wall_time.tolist() == [10.0, 11.0, 12.5]
