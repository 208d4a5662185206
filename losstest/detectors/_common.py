"""What every detector module shares: number formatting for messages."""

from __future__ import annotations

import math

from ..curves import RunCurves, Shape


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


def train_shape(curves: RunCurves, min_points: int) -> Shape | None:
    """The training curve's shape, or None when there is too little of it to judge."""
    curve = curves.train
    return curve.shape if curve is not None and len(curve.shape) >= min_points else None
