"""Hugging Face Trainer callback: the loss tested while it trains.

    from losstest.integrations.transformers import LossTestCallback
    trainer = Trainer(..., callbacks=[LossTestCallback(stop_on_fail=True)])

Every `on_log` (training loss, grad norm, learning rate) and every evaluation goes to a
`losstest.Monitor`; each new finding is logged as a warning; a `fail` stops training when
`stop_on_fail`; at the end the report is written to `<output_dir>/losstest_report.json`.
Mind that the Trainer's `logging_nan_inf_filter` (on by default) replaces NaN losses with
averages: a NaN or infinite grad norm is then the first sign.
"""

from __future__ import annotations

import logging
from pathlib import Path

from transformers import TrainerCallback

from ..config import Config
from ..monitor import Monitor
from ..reporters.json import render

logger = logging.getLogger("losstest")
SKIP = {
    "epoch",
    "total_flos",
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
}


class LossTestCallback(TrainerCallback):
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

    def _feed(self, step: int, values: dict | None, control) -> None:
        metrics = {
            k: float(v) for k, v in (values or {}).items()
            if k not in SKIP and isinstance(v, int | float) and not isinstance(v, bool)
        }  # fmt: skip
        if not metrics:
            return
        for finding in self.monitor.update(step, **metrics):
            logger.warning("losstest: %s: %s", finding.kind, finding.message)
        if self.stop_on_fail and self.monitor.verdict == "fail" and self.stopped_at is None:
            self.stopped_at = step
            control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kwargs):
        self._feed(state.global_step, logs, control)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self._feed(state.global_step, metrics, control)

    def on_train_end(self, args, state, control, **kwargs):
        report = self.monitor.report()
        path = Path(args.output_dir) / self.report_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(report))
