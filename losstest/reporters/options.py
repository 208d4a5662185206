"""What every reporter may take into account besides the report."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Severity


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    width: int = 100
    fail_on: Severity = Severity.FAIL  # findings at least this severe are failures (JUnit, GitHub)


DEFAULT = RenderOptions()
