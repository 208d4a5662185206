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

from transformers import TrainerCallback

from . import TrainingGuard

SKIP = {
    "epoch",
    "total_flos",
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
}


class LossTestCallback(TrainingGuard, TrainerCallback):
    def _feed(self, step: int, values: dict | None, control) -> None:
        metrics = {
            k: float(v) for k, v in (values or {}).items()
            if k not in SKIP and isinstance(v, int | float) and not isinstance(v, bool)
        }  # fmt: skip
        if self.feed(step, metrics):
            control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kwargs):
        self._feed(state.global_step, logs, control)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self._feed(state.global_step, metrics, control)

    def on_train_end(self, args, state, control, **kwargs):
        self.save(args.output_dir)
