"""Numbers as people read them in messages and reports, and as the JSON evidence keeps them."""

from __future__ import annotations

import math


def num(x: float) -> str:
    """A value as people read it in a message: 4 significant digits."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"


def pct(ratio: float) -> str:
    """A ratio of two losses as a signed percentage change, or a factor when it is large."""
    return f"x{ratio:.3g}" if ratio >= 10 else f"{(ratio - 1) * 100:+.0f}%"


def rounded(x: float) -> float:
    """A value for the JSON evidence: 6 significant digits."""
    return float(f"{x:.6g}") if math.isfinite(x) else x


def cell(value: object) -> str:
    """A value in a table: text as it is, a float as `num` gives it, nothing as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return num(value)
    return str(value)
