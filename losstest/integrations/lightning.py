"""PyTorch Lightning callback: the loss tested while it trains.

    from losstest.integrations.lightning import LossTestCallback
    trainer = L.Trainer(..., callbacks=[LossTestCallback(stop_on_fail=True)])

The training loss of every batch (the `loss` the training step returns), the learning rate and,
after each validation, the logged `val_loss` go to a `losstest.Monitor`; each new finding is
logged as a warning; a `fail` sets `trainer.should_stop` when `stop_on_fail`; at the end the
report is written to `<log_dir>/losstest_report.json`.
"""

from __future__ import annotations

try:
    from lightning.pytorch import Callback
except ImportError:  # the older package name
    from pytorch_lightning import Callback

from . import TrainingGuard


def _number(value) -> float | None:
    try:
        return float(value.detach().cpu().item() if hasattr(value, "detach") else value)
    except (TypeError, ValueError, RuntimeError):
        return None


class LossTestCallback(TrainingGuard, Callback):
    def __init__(self, *args, val_metric: str = "val_loss", **kwargs):
        super().__init__(*args, **kwargs)
        self.val_metric = val_metric

    def _feed(self, trainer, **metrics) -> None:
        if self.feed(trainer.global_step, metrics):
            trainer.should_stop = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        lr = trainer.optimizers[0].param_groups[0].get("lr") if trainer.optimizers else None
        self._feed(trainer, loss=_number(loss) if loss is not None else None, lr=lr)

    def on_validation_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self._feed(
                trainer, **{self.val_metric: _number(trainer.callback_metrics.get(self.val_metric))}
            )

    def on_train_end(self, trainer, pl_module):
        self.save(trainer.log_dir or trainer.default_root_dir)
