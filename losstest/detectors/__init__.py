"""Detectors, one module per finding kind, each with `KIND`, `SEVERITY`, a frozen `Params`
dataclass of thresholds with their defaults, and a pure `detect(curves, params)`.

Adding a detector is one module and one line below. The module docstring is its documentation
(`losstest explain KIND`).
"""

from __future__ import annotations

from types import ModuleType

from . import divergence, nan, oscillation, overfitting, plateau, restart, spike, underfitting

DETECTORS: dict[str, ModuleType] = {
    module.KIND: module
    for module in (nan, divergence, spike, oscillation, plateau, overfitting, underfitting, restart)
}

__all__ = ["DETECTORS"]
