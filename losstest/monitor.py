"""Testing the loss while it trains: the same detectors and findings as `analyze`, fed one
step at a time.

    mon = Monitor()
    for step, batch in enumerate(loader):
        loss = train_step(batch)
        for finding in mon.update(step, loss=loss.item(), lr=sched.get_last_lr()[0]):
            print(finding.message)      # new findings only
        if mon.verdict == "fail":
            break
    report = mon.report()               # the Report analyze would give

A non-finite loss is found at the step it is logged. Every other check runs over the history
every `check_every` updates, or every tenth of the history when that is longer (so the
work per update stays constant however long the run): a finding shows that many updates after
the data that proves it; a spike also needs half its window of later points to show it
recovered, and an oscillation its three swings. On the real runs of tests/data the findings of
`report()` are those of `analyze`, and each appeared within a fifth of the run after its onset
(an oscillation within half). The history keeps at most
`max_points` values per metric: beyond that it keeps the mean of every 2, 4, 8 ... values, so
memory stays bounded for a run of any length; trends and non-finite values are kept, but a spike
shorter than that stride is averaged down (analyze the finished log to see every spike).
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import pandas as pd

from .checks import identity, plan
from .config import Config
from .curves import Curve
from .engine import analyze_run, pick_metrics
from .formatting import num
from .frame import labelled, long_frame
from .report import Finding, Report, RunReport, verdict_of
from .reporters.sparkline import sparkline


class _Series:
    """One metric's history at a uniform stride: every `stride` values logged are kept as their
    mean (NaN if one was not finite); when `cap` values are kept, neighbouring pairs are merged
    and the stride doubles."""

    def __init__(self, cap: int):
        self.cap = cap
        self.stride = 1
        self.step = array("q")
        self.value = array("d")
        self._total = 0.0
        self._count = 0

    def add(self, step: int, value: float) -> None:
        self._total += value
        self._count += 1
        if self._count < self.stride:
            return
        self.step.append(step)
        self.value.append(self._total / self._count)
        self._total, self._count = 0.0, 0
        if len(self.value) >= self.cap:
            n = len(self.value) // 2 * 2
            pairs = np.frombuffer(self.value, dtype=np.float64)[:n].reshape(-1, 2)
            steps = np.frombuffer(self.step, dtype=np.int64)[1:n:2]
            self.value = array("d", pairs.mean(axis=1).tolist())
            self.step = array("q", steps.tolist())
            self.stride *= 2


class Monitor:
    """Online loss checks; see the module docstring."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        check_every: int = 100,
        max_points: int = 20_000,
        run: str = "run",
        source: str = "<monitor>",
        **overrides,
    ):
        self.config = (
            (config or Config()).replace(**overrides) if overrides else (config or Config())
        )
        self._checks = plan(self.config)  # validated once: a bad setting fails here
        self.check_every = check_every
        self.max_points = max_points
        self.run, self.source = run, source
        self._series: dict[str, _Series] = {}
        self._seen: set[tuple] = set()
        self._non_finite: set[str] = set()  # metrics that logged NaN or inf: checked at once
        self._found: list[Finding] = []
        self._updates = 0
        self._next_check = check_every
        self._last: RunReport | None = None

    def update(self, step: int, **metrics: float | None) -> list[Finding]:
        """Log one step's metrics; returns the findings that are new since the last update."""
        new: list[Finding] = []
        for name, value in metrics.items():
            if value is None:
                continue
            value = float(value)
            self._series.setdefault(name, _Series(self.max_points)).add(int(step), value)
            first_bad = not math.isfinite(value) and name not in self._non_finite
            if first_bad:
                self._non_finite.add(name)
            if first_bad and name in self._losses():
                new += self._record(self._analyse().findings)
        self._updates += 1
        if self._updates >= self._next_check:
            new += self._record(self._analyse().findings)
            longest = max(len(s.value) for s in self._series.values())
            self._next_check = self._updates + max(self.check_every, longest // 10)
        return new

    def _losses(self) -> tuple[str | None, ...]:
        frame = self._frame()
        return pick_metrics(frame, self.config) if len(frame) else ()

    def _frame(self) -> pd.DataFrame:
        names, steps, values = [], [], []
        for name, series in self._series.items():
            names.append(np.full(len(series.value), name, dtype=object))
            steps.append(np.frombuffer(series.step, dtype=np.int64))
            values.append(np.frombuffer(series.value, dtype=np.float64))
        if not names:
            return labelled(long_frame([], np.array([], dtype=np.int64), np.array([])),
                            self.source, self.run)  # fmt: skip
        frame = long_frame(np.concatenate(names), np.concatenate(steps), np.concatenate(values),
                           run=self.run)  # fmt: skip
        return labelled(frame, self.source, self.run)

    def _analyse(self) -> RunReport:
        self._last = analyze_run(
            self._frame(), self.source, self.run, self.config, checks=self._checks
        )
        return self._last

    def _record(self, findings) -> list[Finding]:
        new = [f for f in findings if identity(f) not in self._seen]
        for f in new:
            self._seen.add(identity(f))
        self._found += new
        return new

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding reported so far, in the order they appeared."""
        return tuple(self._found)

    @property
    def verdict(self) -> str:
        return verdict_of(tuple(self._found))

    def report(self) -> Report:
        """The Report `analyze` gives for the history logged so far (a final check included)."""
        self._record(self._analyse().findings)
        return Report((self._last,))

    def status(self) -> str:
        """One line for a live display: last step, latest and smoothed loss, a sparkline."""
        frame = self._frame()
        train = pick_metrics(frame, self.config)[0] if len(frame) else None
        series = self._series.get(train) if train else None
        if series is None or not len(series.value):
            return f"{self.run}: waiting for a loss"
        values = np.frombuffer(series.value, dtype=np.float64)
        steps = np.frombuffer(series.step, dtype=np.int64)
        finite = values[np.isfinite(values)][-200:]
        smooth = pd.Series(finite).ewm(alpha=0.4).mean().iloc[-1] if len(finite) else math.nan
        line = sparkline(Curve(train, steps, values), 40)
        return (f"{self.run}  step {steps[-1]}  {train} {num(values[-1])}  smoothed {num(smooth)}  "
                f"{line}  [{self.verdict}]")  # fmt: skip
