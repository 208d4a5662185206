"""Callbacks that run losstest's Monitor inside training frameworks (optional extras: losstest
itself never imports transformers or lightning)."""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import Config
from ..monitor import Monitor
from ..reporters.json import render

logger = logging.getLogger("losstest")


class TrainingGuard:
    """What every callback does: feed a Monitor, log each new finding, say when to stop, and
    write the final report."""

    def __init__(
        self,
        config: Config | None = None,
        stop_on_fail: bool = True,
        report_name: str = "losstest_report.json",
        **monitor_options,
    ):
        self.monitor = Monitor(config, **monitor_options)
        self.stop_on_fail = stop_on_fail
        self.report_name = report_name
        self.stopped_at: int | None = None

    def feed(self, step: int, metrics: dict[str, float | None]) -> bool:
        """Log one step's metrics; True the first time training should stop."""
        metrics = {k: v for k, v in metrics.items() if v is not None}
        if not metrics:
            return False
        for finding in self.monitor.update(step, **metrics):
            logger.warning("losstest: %s: %s", finding.kind, finding.message)
        if self.stop_on_fail and self.monitor.verdict == "fail" and self.stopped_at is None:
            self.stopped_at = step
            return True
        return False

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / self.report_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(self.monitor.report()))
        return path
