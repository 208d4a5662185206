"""PyTorch Lightning models of sklearn's digits logged by Lightning's own CSVLogger
(`lightning_logs/version_0/metrics.csv`: train rows every few steps, validation rows at each
epoch's end, blanks between) or, from batch 4 on, its TensorBoardLogger
(`lightning_logs/version_0/events.out.tfevents.*`).

    python bench/families/lightning_runs.py OUT_DIR [--only NAME ...]
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).parent))
from common import Recorder, Run, Writer, held_out_batch, main_for, single_thread  # noqa: E402
from torch_runs import FAMILIES  # noqa: E402
from torch_runs import Setup as LoopSetup


@dataclass(frozen=True)
class Setup:
    model: str = "mlp"  # a family of torch_runs (FAMILIES)
    epochs: int = 30
    lr: float = 1e-3
    train_size: int | None = None
    width: int = 64
    seed: int = 0
    batch: int = 32
    task: dict = field(default_factory=dict)  # more of the task's settings (torch_runs.Setup)


class Module(L.LightningModule):
    """Wraps a task of torch_runs; logs `train_loss` each step (and a VAE's two terms) and
    `val_loss` at each epoch's end, as a Lightning user would."""

    def __init__(self, setup: Setup) -> None:
        super().__init__()
        loop = LoopSetup(
            setup.model,
            width=setup.width,
            seed=setup.seed,
            train_size=setup.train_size,
            **setup.task,
        )
        self.task = FAMILIES[setup.model](loop)
        self.net, self.lr = self.task.model, setup.lr
        self.recorder = Recorder(Writer())

    def training_step(self, batch, batch_idx):
        (idx,) = batch
        loss, parts = self.task.loss(idx, None, False)
        self.log("train_loss", loss)
        for name, value in parts.items():
            if name.endswith("_loss"):
                self.log(name, value)
        self.recorder.log(self.global_step, {"loss": loss.item()})
        return loss

    def validation_step(self, batch, batch_idx):
        value = self.task.val_loss()
        self.log("val_loss", value)
        self.recorder.log(self.global_step, {"val_loss": value})

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.lr)


def train(run: Run, out: Path) -> Recorder:
    setup: Setup = run.options["setup"]
    single_thread(setup.seed)
    module = Module(setup)
    indices = TensorDataset(torch.arange(module.task.n))
    loggers = {"lightning_csv": L.pytorch.loggers.CSVLogger,
               "lightning_tb": L.pytorch.loggers.TensorBoardLogger}  # fmt: skip
    trainer = L.Trainer(
        max_epochs=setup.epochs, logger=loggers[run.writer](str(out)),
        log_every_n_steps=5, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, accelerator="cpu", deterministic=True,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(
            module,
            DataLoader(indices, batch_size=setup.batch, shuffle=True),
            DataLoader(TensorDataset(torch.zeros(1)), batch_size=1),
        )
    return module.recorder


def lightning_run(name, verdict, kinds, reason, writer="lightning_csv", **setup) -> Run:
    return Run(name, setup.get("model", "mlp"), writer, verdict, tuple(kinds), reason,
               train, {"setup": Setup(**setup)})  # fmt: skip


RUNS = [
    lightning_run("lightning_mlp_healthy", "pass", [], "MLP, Adam, 30 epochs, a train row every 5 steps"),
    lightning_run("lightning_vae_losses", "pass", [], "a VAE logging train_loss, recon_loss and kl_loss", model="vae", epochs=40),
    lightning_run("lightning_mlp_overfit", "fail", ["overfitting"], "120 training digits for 600 epochs: validation climbs steadily", train_size=120, width=256, epochs=600, seed=1),
    lightning_run("lightning_mlp_overfit_mild", "warn", ["overfitting"], "120 training digits for 150 epochs: a mild validation rise after its best", train_size=120, width=256, epochs=150, seed=1),
    lightning_run("lightning_mlp_short", "pass", [], "12 epochs on 300 digits: a short run of about 20 train rows", train_size=300, epochs=12, lr=3e-3, seed=2),
]  # fmt: skip

# batch 3: held out of the retuning (see torch_runs.py)
RUNS += held_out_batch(3, [
    lightning_run("lightning_lstm_smallbatch", "pass", [], "an LSTM over the digit rows, batch 8 with dropout 0.2, a train row every 5 steps", model="lstm", batch=8, epochs=8, lr=2e-3, seed=30, task={"dropout": 0.2}),
    lightning_run("lightning_autoencoder_healthy", "pass", [], "an autoencoder, Adam, 25 epochs of batch 16", model="autoencoder", batch=16, epochs=25, seed=31),
    lightning_run("lightning_resnet_smoothing", "pass", [], "a ResNet with label smoothing 0.1, batch 16, 10 epochs", model="resnet", batch=16, epochs=10, seed=32, task={"label_smoothing": 0.1}),
])  # fmt: skip


# batch 4: held out (see torch_runs.py)
RUNS += held_out_batch(4, [
    lightning_run("lightning_tabular_smoothing_tb", "pass", [], "a tabular MLP on the breast-cancer table with label smoothing 0.1 and dropout 0.2, batch 16, 20 epochs: the loss levels off well above zero", writer="lightning_tb", model="tabular", batch=16, epochs=20, seed=62, task={"label_smoothing": 0.1, "dropout": 0.2}),
    lightning_run("lightning_tabular_plateau_tb", "fail", ["plateau"], "Adam at lr 1e-8: the tabular MLP's loss never moves", writer="lightning_tb", model="tabular", lr=1e-8, batch=16, epochs=15, seed=63),
    lightning_run("lightning_denoiser_healthy", "pass", [], "a U-Net denoiser, Adam, 8 epochs of batch 32", model="denoiser", epochs=8, lr=3e-3, seed=64),
])  # fmt: skip


if __name__ == "__main__":
    main_for(RUNS)
