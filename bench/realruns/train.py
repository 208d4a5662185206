"""Train tiny character-level transformers on the CPU in regimes that produce each loss-curve
pathology for real, and log them through real writers (JSONL, CSV, TensorBoard).

    python bench/realruns/train.py OUT_DIR [--only NAME ...] [--writer jsonl|csv|tensorboard]

The text is the source of a few Python standard-library modules, so every machine has it.
Each regime is one entry of REGIMES; its expected findings are in labels.json beside this file.
"""

from __future__ import annotations

import argparse
import copy
import csv
import inspect
import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

CONTEXT = 64
TB_TAGS = {"loss": "loss/train", "val_loss": "loss/val"}


@dataclass(frozen=True)
class Regime:
    steps: int = 800
    batch: int = 32
    lr: float = 3e-3
    optimizer: str = "adamw"  # or "sgd"
    momentum: float = 0.0
    warmup: int = 50
    cosine: bool = True
    clip: float | None = 1.0
    lr_jump: tuple[int, float] | None = None  # (step, factor): the learning rate from then on
    lr_cycle: tuple[int, float] | None = None  # (period, peak factor): a triangular cycle
    bad_batches: tuple[int, ...] = ()  # steps whose batch is random tokens
    train_chars: int | None = None  # a small training text, for overfitting
    resume: tuple[int, int] | None = None  # (at step, back to step): a resumed run
    frozen: bool = False  # no parameter is trained
    eval_every: int = 50
    seed: int = 0
    width: int = 64
    log_every: int = 1


REGIMES: dict[str, Regime] = {
    "healthy": Regime(),
    "healthy_seed1": Regime(seed=1),
    "noisy": Regime(batch=2, lr=1e-3),
    "slow": Regime(lr=1e-4, warmup=0),
    "resumed": Regime(resume=(500, 400)),
    "nan": Regime(optimizer="sgd", lr=30.0, clip=None, warmup=0, cosine=False),
    "late_divergence": Regime(lr_jump=(500, 100.0), clip=None, cosine=False),
    "spikes": Regime(bad_batches=(250, 420, 610), cosine=False, lr=2e-3),
    # SGD with momentum whose learning rate swings up to 30x too high every 100 steps
    "oscillation": Regime(
        optimizer="sgd", momentum=0.9, lr=0.1, lr_cycle=(100, 30.0), warmup=0, cosine=False
    ),
    "plateau": Regime(lr=1e-7, warmup=0),
    "frozen": Regime(frozen=True),
    "overfitting": Regime(train_chars=3000, steps=1500, width=128, eval_every=25),
    "healthy_every10": Regime(log_every=10),
}


def corpus() -> str:
    import argparse as a
    import collections as c
    import dataclasses as d
    import inspect as i
    import json as j
    import pathlib as p

    return "".join(inspect.getsource(m) for m in (a, c, d, i, j, p))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, width: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.zeros(CONTEXT, width))
        layer = nn.TransformerEncoderLayer(width, 4, 4 * width, dropout=0.0, batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(width, vocab)
        self.mask = nn.Transformer.generate_square_subsequent_mask(CONTEXT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) + self.pos[: x.shape[1]]
        return self.head(self.blocks(h, mask=self.mask, is_causal=True))


def batches(
    data: torch.Tensor, size: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    start = torch.randint(0, len(data) - CONTEXT - 1, (size,), generator=gen)
    x = torch.stack([data[s : s + CONTEXT] for s in start])
    y = torch.stack([data[s + 1 : s + CONTEXT + 1] for s in start])
    return x, y


class Logger:
    """Writes one record per call through the chosen writer."""

    def __init__(self, path: Path, writer: str):
        self.writer = writer
        path.mkdir(parents=True, exist_ok=True)
        if writer == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(path))
        else:
            self.file = open(path / f"metrics.{writer}", "w", newline="")  # noqa: SIM115
            self.rows: list[dict] = []

    def log(self, record: dict) -> None:
        if self.writer == "tensorboard":
            for key, value in record.items():
                if key != "step":
                    self.tb.add_scalar(TB_TAGS.get(key, key), value, record["step"])
        elif self.writer == "jsonl":
            self.file.write(json.dumps(record) + "\n")
        else:
            self.rows.append(record)

    def close(self) -> None:
        if self.writer == "tensorboard":
            self.tb.close()
        elif self.writer == "csv":
            keys = list(dict.fromkeys(k for r in self.rows for k in r))
            out = csv.DictWriter(self.file, keys)
            out.writeheader()
            out.writerows(self.rows)
            self.file.close()
        else:
            self.file.close()


def train(name: str, regime: Regime, out: Path, writer: str) -> None:
    torch.manual_seed(regime.seed)
    gen = torch.Generator().manual_seed(regime.seed)
    text = corpus()
    chars = sorted(set(text))
    vocab = len(chars)
    codes = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    cut = int(0.9 * len(codes))
    train_data, val_data = codes[:cut], codes[cut:]
    if regime.train_chars:
        train_data = train_data[: regime.train_chars]
    model = TinyGPT(vocab, regime.width)
    params = [] if regime.frozen else list(model.parameters())
    if regime.frozen:
        for p in model.parameters():
            p.requires_grad_(False)
        params = [nn.Parameter(torch.zeros(1))]
    if regime.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=regime.lr, momentum=regime.momentum)
    else:
        opt = torch.optim.AdamW(params, lr=regime.lr, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    logger = Logger(out / name, writer)
    checkpoint = None
    step = 0
    t0 = time.time()
    while step < regime.steps:
        lr = regime.lr
        if regime.warmup and step < regime.warmup:
            lr *= (step + 1) / regime.warmup
        elif regime.cosine:
            lr *= 0.5 * (1 + math.cos(math.pi * step / regime.steps))
        if regime.lr_jump and step >= regime.lr_jump[0]:
            lr *= regime.lr_jump[1]
        if regime.lr_cycle:
            period, peak = regime.lr_cycle
            lr *= 1 + (peak - 1) * (1 - abs(2 * (step % period) / period - 1))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = batches(train_data, regime.batch, gen)
        if step in regime.bad_batches:
            x = torch.randint(0, vocab, x.shape, generator=gen)
            y = torch.randint(0, vocab, y.shape, generator=gen)
        if regime.frozen:
            with torch.no_grad():
                loss = loss_fn(model(x).reshape(-1, vocab), y.reshape(-1))
            grad_norm = 0.0
        else:
            loss = loss_fn(model(x).reshape(-1, vocab), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            total = nn.utils.clip_grad_norm_(model.parameters(), regime.clip or float("inf"))
            grad_norm = float(total)
            opt.step()
        record = {"step": step, "loss": loss.item(), "lr": lr, "grad_norm": grad_norm}
        if step % regime.eval_every == 0 or step == regime.steps - 1:
            model.eval()
            with torch.no_grad():
                vx, vy = batches(val_data, 64, torch.Generator().manual_seed(1234))
                record["val_loss"] = float(loss_fn(model(vx).reshape(-1, vocab), vy.reshape(-1)))
            model.train()
        if step % regime.log_every == 0 or "val_loss" in record:
            logger.log(record)
        if regime.resume and step == regime.resume[1]:
            checkpoint = copy.deepcopy((model.state_dict(), opt.state_dict()))
        if regime.resume and step == regime.resume[0] and checkpoint is not None:
            model.load_state_dict(checkpoint[0])
            opt.load_state_dict(checkpoint[1])
            step = regime.resume[1]
            regime = replace(regime, resume=None)  # resume once
        step += 1
    logger.close()
    print(f"{name}: {regime.steps} steps in {time.time() - t0:.0f}s, vocab {vocab}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--writer", default="jsonl", choices=["jsonl", "csv", "tensorboard"])
    args = parser.parse_args()
    torch.set_num_threads(2)
    for name, regime in REGIMES.items():
        if args.only is None or name in args.only:
            train(name, regime, args.out, args.writer)


if __name__ == "__main__":
    main()
