"""What every reporter may take into account besides the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..report import Severity
from ..signal import SMOOTHING


@dataclass(frozen=True)
class PlotOptions:
    smooth: float = SMOOTHING  # TensorBoard's smoothing weight, 0 = none
    x: str = "step"  # step, epoch or time
    log_y: bool | None = None  # None: log when the curve spans more than two decades


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    width: int = 100
    fail_on: Severity = Severity.FAIL  # findings at least this severe are failures (JUnit, GitHub)
    plot: PlotOptions = field(default_factory=PlotOptions)


DEFAULT = RenderOptions()
