"""Curves as the checks see them: one metric of one run, sorted by step, one value a step."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

FINAL_TAIL = 0.05  # the share of a run whose median is its final level


@dataclass(frozen=True, eq=False)
class Curve:
    metric: str
    step: np.ndarray  # sorted, unique, int64
    value: np.ndarray  # float64; NaN and inf kept
    restarts: tuple[tuple[int, int], ...] = ()  # (step reached, step resumed from) each time
    duplicates: int = 0  # values overwritten by a later value at the same step
    epoch: np.ndarray | None = None  # aligned with step, where the format has it
    wall_time: np.ndarray | None = None

    @classmethod
    def from_log_order(
        cls,
        metric: str,
        step: np.ndarray,
        value: np.ndarray,
        epoch: np.ndarray | None = None,
        wall_time: np.ndarray | None = None,
    ) -> Curve:
        """Sort by step keeping, for each step, the value written last (a resumed run)."""
        # the usual log: already in order, each step once
        if len(step) < 2 or bool(np.all(step[1:] > step[:-1])):
            return cls(metric, step, value, (), 0, epoch, wall_time)
        back = np.flatnonzero(np.diff(step) < 0)
        restarts = tuple((int(step[i]), int(step[i + 1])) for i in back)
        order = np.argsort(step, kind="stable")
        sorted_step = step[order]
        last = np.append(sorted_step[1:] != sorted_step[:-1], True)
        keep = order[last]
        return cls(
            metric, sorted_step[last], value[keep], restarts, int(len(step) - last.sum()),
            None if epoch is None else epoch[keep], None if wall_time is None else wall_time[keep],
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.step)

    @cached_property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.value)

    @cached_property
    def interval(self) -> int:
        """The usual number of steps between two logged values (the median gap)."""
        if len(self.step) < 2:
            return 1
        if self.step[-1] - self.step[0] == len(self.step) - 1:  # sorted and unique: every gap 1
            return 1
        gaps = np.diff(self.step)
        low, high = gaps.min(), gaps.max()
        return int(low) if low == high else int(np.median(gaps))

    def final_level(self, tail: float = FINAL_TAIL) -> float | None:
        """The median of the last `tail` of its finite values: "the final loss", unmoved by
        the noise of the last step."""
        values = self.value if self.finite.all() else self.value[self.finite]  # no copy
        return (
            float(np.median(values[-max(1, round(tail * len(values))) :])) if len(values) else None
        )


@dataclass(frozen=True, eq=False)
class RunCurves:
    """What one run offers the checks."""

    train: Curve | None
    val: Curve | None
    chance: float | None = None  # the loss of guessing, ln(vocabulary or classes), if known
    target: float | None = None  # a loss the run must get below, if configured
    lr: Curve | None = None  # the learning rate and gradient norm, for plots
    grad_norm: Curve | None = None
    reference: Curve | None = None  # the training loss of a known-good run, if configured
