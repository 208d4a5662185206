"""Pure numeric helpers over one curve: arrays in, arrays out; no I/O, no configuration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

MAD_TO_SIGMA = 1.4826

SMOOTHING = 0.6  # TensorBoard's default smoothing weight: what plots and trends draw
ENVELOPE_POINTS = 4000  # vertices of a drawn curve: a min/max envelope per column beyond this
SCRATCH_VALUES = 1 << 18  # values of a curve worked on at a time (2 MB), where it is long
FILTERED_MEDIANS = 1 << 23  # windows x points beyond which a running median is scipy's
SKIPLIST_WINDOW = 64  # windows wider than this are pandas' running median (a skip list)
SORTED_ROWS = 256  # rows up to this long are sorted for their medians, longer ones partitioned
ROUNDING_SAMPLE = 4096  # values of a curve looked at first for the rounding it went through


def to_log(value: np.ndarray) -> tuple[np.ndarray, bool]:
    """Log of a positive curve, so thresholds are ratios and a curve x1000 reads the same.

    A curve with zero or negative values (a PPO loss, a shifted objective) is instead divided
    by its interquartile range, which keeps it scale-free without a log.
    """
    if len(value) and value.min() > 0:  # NaN anywhere makes the minimum NaN: no log
        return np.log(value), True
    q1, q3 = np.percentile(value, [25, 75]) if len(value) else (0.0, 1.0)
    scale = q3 - q1 or np.ptp(value) or 1.0
    return value / scale, False


def odd(window: int, n: int) -> int:
    """A window size that is odd, at least 1 and no longer than the curve."""
    window = max(1, min(int(window), n))
    return window if window % 2 else max(1, window - 1)


def rolling_median(x: np.ndarray, window: int, trend: bool = True) -> np.ndarray:
    """Centred running median. The ends are mirrored so that noise there stays noise; for a
    `trend` point-mirrored (2*x[0] - x[k]), so that a slope runs on through the edge."""
    window = odd(window, len(x))
    if window <= 1 or len(x) < 2:
        return x.copy()
    half = window // 2
    padded = np.pad(x, half, mode="reflect")
    if trend:  # mirror through the median of the three edge points, not one noisy point
        k = min(3, len(x))
        padded[:half] = 2 * np.median(x[:k]) - padded[:half]
        padded[-half:] = 2 * np.median(x[-k:]) - padded[-half:]
    wide = window > SKIPLIST_WINDOW or len(x) * window > FILTERED_MEDIANS
    if wide and not np.isnan(padded).any():
        return _running_median(padded, window)
    return _row_medians(sliding_window_view(padded, window).copy())


def _running_median(padded: np.ndarray, window: int) -> np.ndarray:
    """The same middle values without a copy of every window: scipy's running median for many
    values (a 100k-point curve with a 5,000-point window: 4 GB of windows), pandas' (a skip
    list, already imported) for wide windows of shorter curves (501 over 10k points: 3 ms,
    against 69 ms partitioned)."""
    half = window // 2
    if len(padded) * window > FILTERED_MEDIANS:
        from scipy.ndimage import median_filter

        return median_filter(padded, size=window, mode="nearest")[half:-half]
    rolling = pd.Series(padded, copy=False).rolling(window, center=True)
    return rolling.median().to_numpy()[half:-half]


def rolling_max(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running maximum in linear time (van Herk / Gil-Werman): a window over a fifth
    of a long curve costs no more than a narrow one. The ends are padded with the edge value."""
    window = odd(window, len(x))
    if window <= 1:
        return x.copy()
    half = window // 2
    count = -(-(len(x) + 2 * half) // window)
    padded = np.pad(x, (half, count * window - len(x) - half), mode="edge").reshape(count, window)
    ahead = np.maximum.accumulate(padded, axis=1).ravel()  # max from each block's start
    behind = np.maximum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()  # to its end
    i = np.arange(len(x))
    return np.maximum(behind[i], ahead[i + window - 1])


def diff_noise(z: np.ndarray, window: int) -> np.ndarray:
    """Point-to-point noise around each point, from the spread of successive differences over
    the `window` points centred on it: a running median's residuals would be zero wherever the
    curve is locally monotone, and a loss's noise changes along a run (in log units it grows
    as the loss nears zero), so one figure for a long stretch misjudges both ends of it."""
    sigma = MAD_TO_SIGMA * rolling_median(_spread(z, window), window, trend=False) / np.sqrt(2)
    return np.append(sigma, sigma[-1:])


def typical_noise(z: np.ndarray, window: int) -> float:
    """The point-to-point noise of the whole curve, as one figure: the median over its points
    of the median nonzero spread of the stretch of `4 * window + 1` points each lies in (exact
    zeros are values rounded when logged, or a difference that is its own running median)."""
    d = np.diff(z)
    spread = np.abs(d - rolling_median(d, window, trend=False))
    chunk = 4 * window + 1
    count = -(-len(spread) // chunk)
    rows = np.pad(spread, (0, count * chunk - len(spread)), mode="reflect").reshape(count, chunk)
    per_stretch = np.zeros(count)
    some = (rows > 0).any(axis=1)
    if some.any():
        per_stretch[some] = np.nanmedian(np.where(rows[some] > 0, rows[some], np.nan), axis=1)
    per_point = np.repeat(per_stretch, chunk)[: len(spread)]
    return MAD_TO_SIGMA * float(np.median(np.append(per_point, per_point[-1:]))) / np.sqrt(2)


def _spread(z: np.ndarray, window: int) -> np.ndarray:
    """How far each successive difference stands from the running median of differences."""
    d = np.diff(z)
    spread = np.abs(d - rolling_median(d, window, trend=False))
    # a difference of exactly zero is a change under the rounding of the logged values: it
    # counts as the typical nonzero one of its stretch, so that noise is never taken to be nothing
    zero = spread == 0
    if zero.any() and not zero.all():
        chunk = 4 * window + 1
        count = -(-len(spread) // chunk)
        size = count * chunk - len(spread)
        rows = np.pad(spread, (0, size), mode="reflect").reshape(count, chunk)
        nonzero = np.where(rows > 0, rows, np.nan)
        some = ~np.isnan(nonzero).all(axis=1)
        step = np.full(count, np.nanmedian(nonzero))
        step[some] = np.nanmedian(nonzero[some], axis=1)
        spread = np.where(zero, np.repeat(step, chunk)[: len(spread)], spread)
    return spread


@dataclass(frozen=True)
class Blocks:
    """A long curve cut into equal blocks: the working resolution of the detectors.

    `median` carries the level, `peak`/`peak_step` keep every single-step spike visible, and
    `spread` is the point-to-point noise inside each block (zero when blocks are single points).
    """

    step: np.ndarray
    median: np.ndarray
    peak: np.ndarray
    peak_step: np.ndarray
    spread: np.ndarray
    size: int


def blocks(step: np.ndarray, z: np.ndarray, max_points: int) -> Blocks:
    n = len(z)
    size = max(1, -(-n // max_points))
    if size == 1:
        zeros = np.zeros(n)
        return Blocks(step, z, z, step, zeros, 1)
    usable = n - n % size  # the tail that does not fill a block joins the last one
    head = z[:usable].reshape(-1, size)
    tail = z[usable:]
    median, spread = np.empty(len(head)), np.empty(len(head))
    # a few MB of rows at a time through one buffer that stays in cache, not a copy of the
    # whole curve (10M points are 80 MB)
    rows = max(1, SCRATCH_VALUES // size)
    scratch = np.empty((min(rows, len(head)), size))
    for first in range(0, len(head), rows):
        part = scratch[: min(rows, len(head) - first)]
        np.copyto(part, head[first : first + rows])
        level = median[first : first + rows]
        level[:] = _row_medians(part)
        np.abs(np.subtract(part, level[:, None], out=part), out=part)
        spread[first : first + rows] = _row_medians(part)
    spread *= MAD_TO_SIGMA
    arg = np.argmax(head, axis=1)
    peak = head[np.arange(len(head)), arg]
    peak_step = step[:usable].reshape(-1, size)[np.arange(len(head)), arg]
    centre = step[:usable:size] + (step[size - 1 : usable : size] - step[:usable:size]) // 2
    if len(tail):
        last = np.concatenate([head[-1], tail])
        median[-1] = np.median(last)
        if tail.max() > peak[-1]:
            peak[-1], peak_step[-1] = tail.max(), step[usable + int(np.argmax(tail))]
    return Blocks(centre, median, peak, peak_step, spread, size)


def coarser(fine: Blocks, step: np.ndarray, max_points: int) -> Blocks:
    """Blocks of whole `fine` blocks, at most `max_points` of them: the level is the median of
    their medians, the noise the median of their spreads (noise within a block, not its drift),
    the peaks theirs. One pass over a long curve serves both resolutions."""
    n = len(fine.median)
    group = max(1, -(-n // max_points))
    usable = n - n % group
    keep = usable if usable else n

    def rows(x: np.ndarray) -> np.ndarray:
        return x[:keep].reshape(-1, group) if usable else x.reshape(1, -1)

    median = _row_medians(rows(fine.median).copy())
    spread = _row_medians(rows(fine.spread).copy())
    peaks = rows(fine.peak)
    arg = np.argmax(peaks, axis=1)
    index = np.arange(len(peaks))
    peak, peak_step = peaks[index, arg], rows(fine.peak_step)[index, arg]
    size = fine.size * group
    starts = step[: len(median) * size : size]
    ends = step[np.minimum(np.arange(1, len(median) + 1) * size, len(step)) - 1]
    if usable and usable < n:  # fine blocks left over join the last block
        tail = slice(usable, n)
        median[-1] = np.median(np.append(rows(fine.median)[-1], fine.median[tail]))
        if fine.peak[tail].max() > peak[-1]:
            at = usable + int(np.argmax(fine.peak[tail]))
            peak[-1], peak_step[-1] = fine.peak[at], fine.peak_step[at]
    return Blocks(starts + (ends - starts) // 2, median, peak, peak_step, spread, size)


def _row_medians(a: np.ndarray) -> np.ndarray:
    """np.median(a, axis=1), NaN for a row holding one, reordering `a` in place instead of a
    copy of it. Narrow rows are sorted (numpy's vectorised sort beats a selection there);
    wide ones are partitioned once, the lower middle value being the largest left of it."""
    k = a.shape[1] // 2
    if a.shape[1] <= SORTED_ROWS:
        a.sort(axis=1)  # NaN sorts last
        nan = np.isnan(a[:, -1])
        lower = a[:, k - 1]
    else:
        nan = np.isnan(a).any(axis=1)
        a.partition(k, axis=1)
        lower = a[:, :k].max(axis=1)
    median = a[:, k].copy() if a.shape[1] % 2 else (lower + a[:, k]) / 2
    if nan.any():
        median[nan] = np.nan
    return median


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Autocorrelation of `x` around its mean at every lag from 0 (1.0) to len(x) - 1, by FFT;
    all zeros for a constant."""
    r = x - x.mean()
    size = 1 << (2 * len(r) - 1).bit_length()  # zero-padded: no wrap-around between the ends
    spectrum = np.fft.rfft(r, size)
    a = np.fft.irfft(spectrum * np.conj(spectrum), size)[: len(r)]
    return a / a[0] if a[0] > 0 else np.zeros(len(r))


def rounded_to(value: np.ndarray, most_decimals: int = 6) -> float | None:
    """The step a curve was rounded to when it was logged (0.0001 for `%.4f`, as the HF Trainer
    and many printed logs round), or None for values carrying more decimals than `most_decimals`:
    a difference of a step or two is the rounding's, not the run's. A sample of the curve rules
    out the decimals it is not rounded to; the whole curve is then checked once."""
    sample = value[:: max(1, len(value) // ROUNDING_SAMPLE)]
    for decimals in range(most_decimals + 1):
        if _rounded(sample, decimals) and _rounded(value, decimals):
            return 10.0**-decimals
    return None


def _rounded(value: np.ndarray, decimals: int) -> bool:
    """Whether every finite value is a whole number of 10**-decimals, a stretch at a time; a
    float32's error (1e-7 of the value) allowed, never a hundredth of the step."""
    for start in range(0, len(value), SCRATCH_VALUES):
        part = value[start : start + SCRATCH_VALUES]
        scaled = part[np.isfinite(part)] * 10.0**decimals
        allowed = np.minimum(0.01, 1e-6 * np.maximum(1.0, np.abs(scaled)))
        if not np.all(np.abs(scaled - np.round(scaled)) <= allowed):
            return False
    return True


def runs_of(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (inclusive) indices of each run of True values."""
    edges = np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1


def sign_runs(d: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monotone legs of a curve's differences: (start, end, amplitude) of each leg whose
    total change is at least `threshold`, with legs of the same direction merged once
    the smaller moves between them are set aside (a zigzag with that minimum leg)."""
    if len(d) == 0:
        empty = np.array([], dtype=int)
        return empty, empty, np.array([])
    sign = np.sign(d)
    boundaries = np.flatnonzero(np.diff(sign) != 0) + 1
    starts = np.concatenate([[0], boundaries])
    amplitude = np.add.reduceat(d, starts)
    ends = np.concatenate([boundaries - 1, [len(d) - 1]])
    keep = np.abs(amplitude) >= threshold
    starts, ends, amplitude = starts[keep], ends[keep], amplitude[keep]
    if len(amplitude) == 0:
        return starts, ends, amplitude
    new_leg = np.concatenate([[True], np.sign(amplitude[1:]) != np.sign(amplitude[:-1])])
    first = np.flatnonzero(new_leg)
    last = np.concatenate([first[1:] - 1, [len(amplitude) - 1]])
    return starts[first], ends[last], np.add.reduceat(amplitude, first)


def smoothed(value: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average, which is exactly pandas' adjusted
    exponentially weighted mean."""
    if weight <= 0 or len(value) == 0:
        return value
    import pandas as pd

    return pd.Series(value).ewm(alpha=1 - weight, adjust=True).mean().to_numpy()


def envelope(
    x: np.ndarray, y: np.ndarray, points: int = ENVELOPE_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """At most `points` vertices that keep every column's lowest and highest value, so that a
    one-step spike in ten million points still shows."""
    if len(y) <= points:
        return x, y
    size = -(-len(y) // (points // 2))
    usable = len(y) - len(y) % size
    cols_y, cols_x = y[:usable].reshape(-1, size), x[:usable].reshape(-1, size)
    rows = np.arange(len(cols_y))
    lo, hi = np.argmin(cols_y, axis=1), np.argmax(cols_y, axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    xs = np.stack([cols_x[rows, first], cols_x[rows, second]], axis=1).ravel()
    ys = np.stack([cols_y[rows, first], cols_y[rows, second]], axis=1).ravel()
    return np.append(xs, x[usable:]), np.append(ys, y[usable:])
