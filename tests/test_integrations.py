"""The callbacks inside real training: a tiny regression model trained on the CPU with the
Hugging Face Trainer and with PyTorch Lightning, once healthy and once with a learning rate
that diverges. Skipped where the frameworks are not installed (`pip install -e .[integrations]`)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
STEPS = 150


def dataset(n: int = 512):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 8, generator=generator)
    y = x @ torch.linspace(-1, 1, 8) + 0.1 * torch.randn(n, generator=generator)
    return x, y


class Regressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1)
        )

    def forward(self, x, labels=None):
        loss = ((self.net(x).squeeze(-1) - labels) ** 2).mean()
        return {"loss": loss}


def hf_train(tmp_path, lr: float):
    transformers = pytest.importorskip("transformers")
    from losstest.integrations.transformers import LossTestCallback

    torch.manual_seed(0)
    x, y = dataset()
    train = [{"x": a, "labels": b} for a, b in zip(x, y, strict=True)]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), max_steps=STEPS, per_device_train_batch_size=16,
        learning_rate=lr, logging_steps=1, report_to=[], save_strategy="no", use_cpu=True,
        disable_tqdm=True, remove_unused_columns=False, lr_scheduler_type="constant",
        max_grad_norm=1e9,
    )  # fmt: skip
    callback = LossTestCallback(stop_on_fail=True, check_every=20)
    trainer = transformers.Trainer(
        model=Regressor(), args=args, train_dataset=train, callbacks=[callback]
    )
    trainer.train()
    return trainer, callback


def test_hugging_face_healthy_run_trains_to_the_end(tmp_path):
    trainer, callback = hf_train(tmp_path, 1e-2)
    assert trainer.state.global_step == STEPS and callback.stopped_at is None
    report = json.loads((tmp_path / "losstest_report.json").read_text())
    assert report["runs"][0]["verdict"] in ("pass", "warn")


def test_hugging_face_diverging_run_is_stopped_early(tmp_path):
    trainer, callback = hf_train(tmp_path, 50.0)
    assert callback.stopped_at is not None and trainer.state.global_step < STEPS
    kinds = {f.kind for f in callback.monitor.findings if f.severity == "fail"}
    assert kinds & {"nan", "divergence"}


def lightning_train(tmp_path, lr: float):
    pl = pytest.importorskip("lightning.pytorch")
    from losstest.integrations.lightning import LossTestCallback

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = Regressor()

        def training_step(self, batch, batch_idx):
            loss = self.model(*batch)["loss"]
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self.model(*batch)["loss"])

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=lr)

    torch.manual_seed(0)
    x, y = dataset()
    data = torch.utils.data.TensorDataset(x, y)
    loader = torch.utils.data.DataLoader(data, batch_size=16, shuffle=True)
    val = torch.utils.data.DataLoader(data, batch_size=128)
    callback = LossTestCallback(stop_on_fail=True, check_every=20)
    trainer = pl.Trainer(
        max_steps=STEPS, accelerator="cpu", logger=pl.loggers.CSVLogger(str(tmp_path)),
        enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
        callbacks=[callback], val_check_interval=10, num_sanity_val_steps=0,
    )  # fmt: skip
    trainer.fit(Module(), loader, val)
    return trainer, callback


def test_lightning_healthy_run_trains_to_the_end(tmp_path):
    trainer, callback = lightning_train(tmp_path, 1e-2)
    assert trainer.global_step == STEPS and callback.stopped_at is None
    assert (tmp_path / "lightning_logs" / "version_0" / "losstest_report.json").exists()


def test_lightning_diverging_run_is_stopped_early(tmp_path):
    trainer, callback = lightning_train(tmp_path, 50.0)
    assert callback.stopped_at is not None and trainer.global_step < STEPS
    kinds = {f.kind for f in callback.monitor.findings if f.severity == "fail"}
    assert kinds & {"nan", "divergence"}
