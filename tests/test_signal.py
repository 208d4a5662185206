"""The fast block and running medians of `losstest.signal` give numpy's medians bit for bit:
the detectors' verdicts rest on them."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from losstest import signal
from losstest.signal import MAD_TO_SIGMA, SORTED_ROWS, blocks, rolling_median


def curve(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.log(3 + 8 * np.exp(-np.arange(n) / (n / 20)) + 0.1 * rng.standard_normal(n))


@pytest.mark.parametrize("n", [1_000, 100_003, 1_000_000, 2_000_000])
@pytest.mark.parametrize("points", [4000, 50_000])
def test_block_medians_and_spread_are_numpys(n: int, points: int) -> None:
    z = curve(n, n)
    step = np.arange(n) * 10
    got = blocks(step, z, points)
    size = got.size
    assert size == -(-n // points)
    usable = n - n % size
    head = z[:usable].reshape(-1, size)
    median = np.median(head, axis=1)
    spread = MAD_TO_SIGMA * np.median(np.abs(head - median[:, None]), axis=1)
    if usable < n:
        median[-1] = np.median(np.concatenate([head[-1], z[usable:]]))
    assert got.median.tobytes() == median.tobytes()
    assert got.spread.tobytes() == (spread if size > 1 else np.zeros(n)).tobytes()


@pytest.mark.parametrize("filtered", [False, True], ids=["windows", "scipy"])
@pytest.mark.parametrize("window", [3, 31, 101, SORTED_ROWS + 1, 1001])
def test_rolling_median_is_numpys(window: int, filtered: bool, monkeypatch) -> None:
    """Each way of finding a window's median (a sort for narrow ones, a partition for wide
    ones, pandas' running median for wide ones, scipy's for many long ones) is np.median's, at
    the edges too; a curve with NaN gets NaN where a window holds one, as np.median has it."""
    if filtered:
        monkeypatch.setattr(signal, "FILTERED_MEDIANS", 0)
    x = np.round(curve(20_000, window), 3)  # ties, as logged values have
    half = window // 2
    for trend in (False, True):
        padded = np.pad(x, half, mode="reflect")
        if trend:
            padded[:half] = 2 * np.median(x[:3]) - padded[:half]
            padded[-half:] = 2 * np.median(x[-3:]) - padded[-half:]
        expected = np.median(sliding_window_view(padded, window), axis=1)
        assert rolling_median(x, window, trend=trend).tobytes() == expected.tobytes()
    x[[50, 7000, 7001]] = np.nan
    padded = np.pad(x, half, mode="reflect")
    expected = np.median(sliding_window_view(padded, window), axis=1)
    got = rolling_median(x, window, trend=False)
    assert np.isnan(got).sum() > 0
    assert got.tobytes() == expected.tobytes()


def test_autocorrelation_of_a_swing_and_of_a_constant():
    """A cosine of period 10 is itself a period on and its opposite half a period on (less the
    share of the lag that runs off the end); a constant correlates with nothing."""
    a = signal.autocorrelation(np.cos(2 * np.pi * np.arange(1000) / 10))
    assert a[0] == pytest.approx(1.0)
    assert a[10] == pytest.approx(0.99, abs=1e-3) and a[5] == pytest.approx(-0.995, abs=1e-3)
    assert not signal.autocorrelation(np.full(50, 2.0)).any()


@pytest.mark.parametrize(
    "values, step",
    [([0.1234, 0.5, np.nan], 1e-4), ([2.0, 3.0], 1.0), ([0.25, 0.5], 0.01), ([1 / 3, 0.5], None)],
)
def test_the_rounding_a_logged_curve_went_through(values, step):
    found = signal.rounded_to(np.array(values))
    assert found == (pytest.approx(step) if step else None)
