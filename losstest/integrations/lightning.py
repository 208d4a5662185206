"""PyTorch Lightning callback: the loss tested while it trains.

    from losstest.integrations.lightning import LossTestCallback
    trainer = L.Trainer(..., callbacks=[LossTestCallback(stop_on_fail=True)])

The training loss of every batch (the `loss` the training step returns), the learning rate and,
after each validation, the logged `val_loss` go to a `losstest.Monitor`; each new finding is
logged as a warning; a `fail` sets `trainer.should_stop` when `stop_on_fail`; at the end the
report is written to `<log_dir>/losstest_report.json`.
"""

from __future__ import annotations

import logging
from pathlib import Path

try:
    from lightning.pytorch import Callback
except ImportError:  # the older package name
    from pytorch_lightning import Callback

from ..config import Config
from ..monitor import Monitor
from ..reporters.json import render

logger = logging.getLogger("losstest")


def _number(value) -> float | None:
    try:
        return float(value.detach().cpu().item() if hasattr(value, "detach") else value)
    except (TypeError, ValueError, RuntimeError):
        return None


class LossTestCallback(Callback):
    def __init__(
        self,
        config: Config | None = None,
        stop_on_fail: bool = True,
        val_metric: str = "val_loss",
        report_name: str = "losstest_report.json",
        **monitor_options,
    ):
        self.monitor = Monitor(config, **monitor_options)
        self.stop_on_fail = stop_on_fail
        self.val_metric = val_metric
        self.report_name = report_name
        self.stopped_at: int | None = None

    def _feed(self, trainer, **metrics) -> None:
        metrics = {k: v for k, v in metrics.items() if v is not None}
        if not metrics:
            return
        for finding in self.monitor.update(trainer.global_step, **metrics):
            logger.warning("losstest: %s: %s", finding.kind, finding.message)
        if self.stop_on_fail and self.monitor.verdict == "fail" and self.stopped_at is None:
            self.stopped_at = trainer.global_step
            trainer.should_stop = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        lr = None
        if trainer.optimizers:
            lr = trainer.optimizers[0].param_groups[0].get("lr")
        self._feed(trainer, loss=_number(loss) if loss is not None else None, lr=lr)

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking:
            return
        value = _number(trainer.callback_metrics.get(self.val_metric))
        if value is not None:
            self._feed(trainer, **{self.val_metric: value})

    def on_train_end(self, trainer, pl_module):
        report = self.monitor.report()
        folder = Path(trainer.log_dir or trainer.default_root_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / self.report_name).write_text(render(report))
