"""A one-line picture of a curve, for terminals and summaries."""

from __future__ import annotations

import numpy as np

from ..curves import Curve
from ..signal import to_log

BARS = "▁▂▃▄▅▆▇█"


def sparkline(curve: Curve | None, width: int = 60) -> str:
    """Mean level per column (log-scaled when positive); `!` where a value is not finite."""
    if curve is None or len(curve) == 0:
        return ""
    n, ok = len(curve), curve.finite
    width = min(width, n)
    column = (np.arange(n) * width) // n
    broken = np.bincount(column[~ok], minlength=width) > 0
    if not ok.any():
        return "!" * width
    z, _ = to_log(curve.value[ok])
    count = np.bincount(column[ok], minlength=width)
    level = np.bincount(column[ok], weights=z, minlength=width) / np.maximum(count, 1)
    shown = count > 0
    lo, hi = level[shown].min(), level[shown].max()
    idx = np.zeros(width, dtype=int) if hi == lo else ((level - lo) / (hi - lo) * 7.999).astype(int)
    return "".join(
        "!" if bad else BARS[i] if has else " "
        for i, bad, has in zip(np.clip(idx, 0, 7), broken, shown, strict=True)
    )
