"""Plain PyTorch training loops over model families (MLP, CNN, GRU language model, logistic
regression, full-batch linear regression, Gaussian-NLL regression, a VAE, an energy model with
a broken objective; from batch 3 on, an LSTM over the digit rows, a small ResNet with batch
norm and an autoencoder), logged through JSONL, CSV, tensorboardX, MLflow and fairseq's
train.log layouts. Every shape comes from the training setup, never from editing
numbers.

    python bench/families/torch_runs.py OUT_DIR [--only NAME ...]
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).parent))
from common import (  # noqa: E402
    STDLIB_MODULES,
    CsvWriter,
    FairseqWriter,
    JsonlWriter,
    MlflowWriter,
    Recorder,
    Run,
    TensorboardXWriter,
    breast_cancer,
    diabetes,
    digits,
    held_out_batch,
    main_for,
    moons,
    single_thread,
    source_lines,
    stdlib_text,
)


@dataclass(frozen=True)
class Setup:
    family: str
    steps: int = 1500
    batch: int = 64
    lr: float = 3e-3
    optimizer: str = "adam"  # adam | sgd
    momentum: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: str = "cosine"  # cosine | constant | sgdr | exponential | endless_warmup
    warmup: int = 0
    sgdr_period: int = 150
    decay: float = 1.0  # per-step factor of the exponential schedule
    lr_jump: tuple[float, float] | None = None  # (fraction of the run, factor from then on)
    clip: float | None = None
    eval_every: int = 50
    eval_at: str = "uniform"  # uniform | log | none
    log_at: str = "every"  # every | log | epoch
    log_every: int = 1  # with log_at="every": each log_every-th update
    step_offset: int = 0
    train_size: int | None = None
    width: int = 64
    weight_decay: float = 0.0
    bad_batches: tuple[int, ...] = ()  # updates whose batch comes from a corrupt shard
    bad_scale: float = 30.0
    bad_labels: float = 0.0  # > 0: a bad batch has this fraction of its labels wrong instead
    label_smoothing: float = 0.0
    dropout: float = 0.0
    sparsity: float = 0.0  # the autoencoder's L1 penalty on its code, logged as a second loss
    running_mean: bool = False  # the logged loss is the mean since the epoch began
    shuffled_labels: bool = False
    manual_log_softmax: bool = False
    log_loss: bool = True  # False: only accuracy and lr are logged
    log_from: int = 0  # the updates before it are trained but not logged (a resumed run)
    full_nll: bool = True  # Poisson: with Stirling's term (positive) or without (torch's default)
    hinge: bool = True  # triplet: False is the bug of a loss without its soft hinge
    bad_nan: bool = False  # a bad batch has a missing (NaN) feature instead
    seed: int = 0


class Task:
    """A model, its training data (n examples) and losses; `loss(idx)` returns the loss to
    minimise and the named parts to log beside it."""

    n: int
    model: nn.Module

    def loss(self, idx: torch.Tensor, setup: Setup, bad: bool) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def val_loss(self) -> float:
        raise NotImplementedError


class Classifier(Task):
    """Cross-entropy classification of the digits, or of the data given: (x, y, vx, vy)."""

    def __init__(self, setup: Setup, model: nn.Module, data: tuple | None = None) -> None:
        x, y, vx, vy = digits(setup.seed, setup.train_size) if data is None else data
        if setup.shuffled_labels:
            y = np.random.default_rng(setup.seed).permutation(y)
        self.x, self.y = torch.as_tensor(x), torch.as_tensor(y)
        self.vx, self.vy = torch.as_tensor(vx), torch.as_tensor(vy)
        self.classes = int(self.y.max()) + 1
        self.n, self.model, self.manual = len(x), model, setup.manual_log_softmax
        self.smoothing = setup.label_smoothing

    def ce(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.manual:  # log of a softmax that can underflow to 0
            return -torch.log(torch.softmax(logits, -1)).gather(1, y[:, None]).mean()
        return F.cross_entropy(logits, y, label_smoothing=self.smoothing)

    def loss(self, idx, setup, bad):
        x, y = self.x[idx], self.y[idx]
        if bad and setup.bad_labels:  # a mislabeled shard: part of the batch labeled wrongly
            wrong = int(round(setup.bad_labels * len(y)))
            y = y.clone()
            y[:wrong] = (y[:wrong] + torch.randint(1, self.classes, (wrong,))) % self.classes
        elif bad:
            x = x * setup.bad_scale
        logits = self.model(x)
        accuracy = (logits.argmax(-1) == self.y[idx]).float().mean().item()
        return self.ce(logits, y), {"accuracy": accuracy}

    @torch.no_grad()
    def val_loss(self) -> float:
        return self.ce(self.model(self.vx), self.vy).item()


def mlp(setup: Setup) -> Task:
    w = setup.width
    model = nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 10))
    return Classifier(setup, model)


def cnn(setup: Setup) -> Task:
    w = setup.width // 4
    model = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, w, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * w * 16, 10),
    )
    return Classifier(setup, model)


def logreg(setup: Setup) -> Task:
    return Classifier(setup, nn.Linear(64, 10))


class RowLSTM(nn.Module):
    """Reads a digit's eight rows as a sequence of eight 8-pixel steps."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(8, width, batch_first=True)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x.view(-1, 8, 8))[0][:, -1])


def lstm(setup: Setup) -> Task:
    return Classifier(setup, RowLSTM(setup.width, setup.dropout))


class Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


def resnet(setup: Setup) -> Task:
    """A small ResNet: a stem and two residual blocks with batch norm, global pooling."""
    c = setup.width // 4
    model = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, c, 3, padding=1, bias=False),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        Residual(c),
        nn.MaxPool2d(2),
        Residual(c),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(setup.dropout),
        nn.Linear(c, 10),
    )
    return Classifier(setup, model)


class Autoencoder(Task):
    """A dense autoencoder of the digits (mean squared error of the pixels in [0, 1]); with
    `sparsity`, an L1 penalty on the 16-number code is a second logged loss. `bad` batches come
    from a shard whose pixels were scaled by `bad_scale` (16: the raw 0-16 values)."""

    def __init__(self, setup: Setup) -> None:
        x, _, vx, _ = digits(setup.seed, setup.train_size)
        self.x, self.vx, self.n = torch.tensor(x), torch.tensor(vx), len(x)
        w, self.sparsity = setup.width, setup.sparsity
        self.encoder = nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, 16), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(16, w), nn.ReLU(), nn.Linear(w, 64), nn.Sigmoid())
        self.model = nn.ModuleList([self.encoder, self.decoder])

    def terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return F.mse_loss(self.decoder(code), x), self.sparsity * code.abs().mean()

    def loss(self, idx, setup, bad):
        recon, penalty = self.terms(self.x[idx] * (setup.bad_scale if bad else 1.0))
        if not self.sparsity:
            return recon, {}
        return recon + penalty, {"recon_loss": recon.item(), "sparsity_loss": penalty.item()}

    @torch.no_grad()
    def val_loss(self) -> float:
        return sum(self.terms(self.vx)).item()


class Regression(Task):
    """Regression on sklearn's diabetes set. `bad` batches come from a shard whose targets
    were never standardised (raw units: `bad_scale` times too large)."""

    def __init__(self, setup: Setup, model: nn.Module, whiten: bool = False) -> None:
        x, y, vx, vy = diabetes(setup.seed)
        if whiten:  # every direction of the least-squares bowl has the same curvature
            mean = x.mean(0)
            u, s, vt = np.linalg.svd(x - mean, full_matrices=False)
            transform = vt.T / s * math.sqrt(len(x))
            x, vx = (x - mean) @ transform, (vx - mean) @ transform
        self.x, self.y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
        self.vx, self.vy = torch.tensor(vx, dtype=torch.float32), torch.tensor(vy)
        self.n, self.model = len(x), model

    def loss(self, idx, setup, bad):
        y = self.y[idx] * (setup.bad_scale if bad else 1.0)
        return F.mse_loss(self.model(self.x[idx]).squeeze(-1), y), {}

    @torch.no_grad()
    def val_loss(self) -> float:
        return F.mse_loss(self.model(self.vx).squeeze(-1), self.vy).item()


def mlp_regression(setup: Setup) -> Task:
    w = setup.width
    model = nn.Sequential(nn.Linear(10, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 1))
    return Regression(setup, model)


def linreg(setup: Setup) -> Task:
    model = nn.Linear(10, 1)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    return Regression(setup, model, whiten=True)


class Likelihood(Task):
    """A task whose loss is the negative log-likelihood `nll(x, y)` of its examples."""

    x: torch.Tensor
    y: torch.Tensor
    vx: torch.Tensor
    vy: torch.Tensor

    def nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, idx, setup, bad):
        return self.nll(self.x[idx], self.y[idx]), {}

    @torch.no_grad()
    def val_loss(self) -> float:
        return self.nll(self.vx, self.vy).item()


class GaussianNLL(Likelihood, Regression):
    """Mean and log-variance of the diabetes target in thousands of units (torch's
    GaussianNLLLoss, without the constant): the loss goes below zero and levels off there."""

    def __init__(self, setup: Setup) -> None:
        w = setup.width
        model = nn.Sequential(nn.Linear(10, w), nn.Tanh(), nn.Linear(w, 2))
        super().__init__(setup, model)
        scale = self.y.new_tensor(77.0 / 1000)  # the target's standard deviation, in thousands
        self.y, self.vy = self.y * scale, self.vy * scale

    def nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        mean, log_var = self.model(x).unbind(-1)
        return F.gaussian_nll_loss(mean, y, log_var.exp())


class EnergyModel(Task):
    """An energy-based density model of the digits trained on the data term alone: the
    log-partition term (or negative samples) is missing, so nothing bounds the energy below
    and the loss falls without end."""

    def __init__(self, setup: Setup) -> None:
        x, _, vx, _ = digits(setup.seed)
        self.x, self.vx, self.n = torch.tensor(x), torch.tensor(vx), len(x)
        w = setup.width
        self.model = nn.Sequential(
            nn.Linear(64, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 1)
        )

    def loss(self, idx, setup, bad):
        return self.model(self.x[idx]).mean(), {}

    @torch.no_grad()
    def val_loss(self) -> float:
        return self.model(self.vx).mean().item()


class VAE(Task):
    """A small variational autoencoder of the digits; logs its two terms beside their sum."""

    def __init__(self, setup: Setup) -> None:
        x, _, vx, _ = digits(setup.seed)
        self.x, self.vx, self.n = torch.tensor(x), torch.tensor(vx), len(x)
        w = setup.width
        self.encoder = nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, 16))
        self.decoder = nn.Sequential(nn.Linear(8, w), nn.ReLU(), nn.Linear(w, 64))
        self.model = nn.ModuleList([self.encoder, self.decoder])

    def terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder(x).chunk(2, -1)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        recon = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(-1)
        kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(-1)
        return recon.mean(), kl.mean()

    def loss(self, idx, setup, bad):
        recon, kl = self.terms(self.x[idx])
        return recon + kl, {"recon_loss": recon.item(), "kl_loss": kl.item()}

    @torch.no_grad()
    def val_loss(self) -> float:
        recon, kl = self.terms(self.vx)
        return (recon + kl).item()


class CharLM(Task):
    """A one-layer GRU character language model of standard-library source code."""

    CONTEXT = 48

    def __init__(self, setup: Setup) -> None:
        text = stdlib_text()
        chars = sorted(set(text))
        data = torch.tensor([chars.index(c) for c in text])
        split = int(0.9 * len(data))
        limit = split if setup.train_size is None else setup.train_size
        self.train, self.val = data[:limit], data[split:]
        self.n = len(self.train) - self.CONTEXT - 1
        g = torch.Generator().manual_seed(0)
        self.val_starts = torch.randint(len(self.val) - self.CONTEXT - 1, (256,), generator=g)
        self.manual = setup.manual_log_softmax
        self.model = self.network(len(chars), setup.width)

    def network(self, vocabulary: int, w: int) -> nn.Module:
        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embed, self.gru, self.head = (
                    nn.Embedding(vocabulary, w),
                    nn.GRU(w, w, 1),
                    nn.Linear(w, vocabulary),
                )

            def forward(self, tokens: torch.Tensor) -> torch.Tensor:
                return self.head(self.gru(self.embed(tokens).transpose(0, 1))[0].transpose(0, 1))

        return Net()

    def windows(self, data: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        return data[starts[:, None] + torch.arange(self.CONTEXT + 1)]

    def lm_loss(self, chunk: torch.Tensor) -> torch.Tensor:
        logits = self.model(chunk[:, :-1]).flatten(0, 1)
        target = chunk[:, 1:].flatten()
        if self.manual:
            return -torch.log(torch.softmax(logits, -1)).gather(1, target[:, None]).mean()
        return F.cross_entropy(logits, target)

    def loss(self, idx, setup, bad):
        return self.lm_loss(self.windows(self.train, idx)), {}

    @torch.no_grad()
    def val_loss(self) -> float:
        return self.lm_loss(self.windows(self.val, self.val_starts)).item()


class RowTransformer(nn.Module):
    """A two-layer transformer encoder over a digit's eight rows (eight tokens of 8 pixels),
    mean-pooled into a linear head."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        d = width // 2
        self.embed = nn.Linear(8, d)
        self.position = nn.Parameter(0.02 * torch.randn(8, d))
        layer = nn.TransformerEncoderLayer(d, 4, 2 * d, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(d, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(x.view(-1, 8, 8)) + self.position).mean(1))


def transformer(setup: Setup) -> Task:
    return Classifier(setup, RowTransformer(setup.width, setup.dropout))


def cnn1d(setup: Setup) -> Task:
    """Two 1-D convolutions along a digit's 64 pixels read as one sequence."""
    w = setup.width // 4
    model = nn.Sequential(
        nn.Unflatten(1, (1, 64)),
        nn.Conv1d(1, w, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(w, 2 * w, 5, padding=2),
        nn.ReLU(),
        nn.AdaptiveMaxPool1d(4),
        nn.Flatten(),
        nn.Linear(8 * w, 10),
    )
    return Classifier(setup, model)


TRIGRAM_BUCKETS, TRIGRAMS_PER_LINE = 1 << 14, 64


def trigram_ids(lines: list[str]) -> torch.Tensor:
    """fastText's features: each line's character trigrams hashed (crc32, stable across runs)
    into buckets 1.., padded with 0 to a fixed count."""
    import zlib

    ids = torch.zeros(len(lines), TRIGRAMS_PER_LINE, dtype=torch.long)
    for row, line in enumerate(lines):
        grams = [line[i : i + 3] for i in range(len(line) - 2)][:TRIGRAMS_PER_LINE]
        hashed = [zlib.crc32(g.encode()) % (TRIGRAM_BUCKETS - 1) + 1 for g in grams]
        ids[row, : len(hashed)] = torch.tensor(hashed)
    return ids


def fasttext(setup: Setup) -> Task:
    """A fastText-like classifier: the mean of a line's hashed trigram embeddings, then a
    linear layer, telling which standard-library module a line of source comes from."""
    x, y, vx, vy = source_lines(setup.seed, setup.train_size)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bag = nn.EmbeddingBag(TRIGRAM_BUCKETS, setup.width, mode="mean", padding_idx=0)
            self.head = nn.Linear(setup.width, len(STDLIB_MODULES))

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.head(self.bag(ids))

    return Classifier(setup, Net(), (trigram_ids(x), y, trigram_ids(vx), vy))


def tabular(setup: Setup) -> Task:
    """An MLP on sklearn's breast-cancer table (two classes)."""
    w = setup.width
    model = nn.Sequential(
        nn.Linear(30, w), nn.ReLU(), nn.Dropout(setup.dropout), nn.Linear(w, w), nn.ReLU(),
        nn.Linear(w, 2),
    )  # fmt: skip
    return Classifier(setup, model, breast_cancer(setup.seed, setup.train_size))


class Poisson(Likelihood):
    """A Poisson GLM of the diabetes progression score read as a count (raw units, mean 152):
    the log-rate is linear in the features, starting at 0. With `full_nll` the loss keeps
    Stirling's term and stays positive; without it (torch's default) it falls from 1 to about
    -600 and levels off there."""

    def __init__(self, setup: Setup) -> None:
        x, y, vx, vy = diabetes(setup.seed, raw_target=True)
        self.x, self.y, self.vx, self.vy = map(torch.tensor, (x, y, vx, vy))
        self.n, self.full = len(x), setup.full_nll
        self.model = nn.Linear(10, 1)
        nn.init.zeros_(self.model.weight)
        nn.init.zeros_(self.model.bias)

    def nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        log_rate = self.model(x).squeeze(-1)
        return F.poisson_nll_loss(log_rate, y, log_input=True, full=self.full)


class Quantile(Regression):
    """An MLP predicting the 10th, 50th and 90th percentiles of the (standardised) diabetes
    target, trained on the mean pinball loss, each level's loss logged beside it. A `bad_nan`
    batch comes from a shard with a missing value: one feature of one row is NaN."""

    LEVELS = (0.1, 0.5, 0.9)

    def __init__(self, setup: Setup) -> None:
        w = setup.width
        model = nn.Sequential(nn.Linear(10, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                              nn.Linear(w, len(self.LEVELS)))  # fmt: skip
        super().__init__(setup, model)

    def pinball(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The pinball loss of each level."""
        error = y[:, None] - self.model(x)
        levels = error.new_tensor(self.LEVELS)
        return torch.maximum(levels * error, (levels - 1) * error).mean(0)

    def loss(self, idx, setup, bad):
        x = self.x[idx]
        if bad and setup.bad_nan:
            x = x.clone()
            x[0, 2] = math.nan
        per_level = self.pinball(x, self.y[idx])
        names = [f"q{round(100 * level)}_loss" for level in self.LEVELS]
        return per_level.mean(), dict(zip(names, per_level.tolist(), strict=True))

    @torch.no_grad()
    def val_loss(self) -> float:
        return self.pinball(self.vx, self.vy).mean().item()


class TinyUNet(nn.Module):
    """Two levels (8x8 and 4x4) with a skip connection: a U-Net small enough for the digits."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), nn.ReLU())
        self.bottom = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        self.out = nn.Sequential(nn.Conv2d(2 * c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.down(x.view(-1, 1, 8, 8))
        joined = torch.cat([self.up(self.bottom(skip)), skip], 1)
        return self.out(joined).flatten(1)


class Denoiser(Task):
    """A tiny U-Net removing Gaussian noise (sd 0.3) from the digits: mean squared error to
    the clean image. `bad` batches come from a shard of raw 0-16 pixels scaled by `bad_scale`."""

    NOISE = 0.3

    def __init__(self, setup: Setup) -> None:
        x, _, vx, _ = digits(setup.seed, setup.train_size)
        self.x, self.vx, self.n = torch.tensor(x), torch.tensor(vx), len(x)
        g = torch.Generator().manual_seed(1)
        self.val_noise = self.NOISE * torch.randn(self.vx.shape, generator=g)
        self.model = TinyUNet(setup.width // 4)

    def loss(self, idx, setup, bad):
        clean = self.x[idx] * (setup.bad_scale if bad else 1.0)
        noisy = clean + self.NOISE * torch.randn_like(clean)
        return F.mse_loss(self.model(noisy), clean), {}

    @torch.no_grad()
    def val_loss(self) -> float:
        return F.mse_loss(self.model(self.vx + self.val_noise), self.vx).item()


class Triplet(Task):
    """An embedding of the digits (an MLP to 16 numbers) trained on triplets: each image of the
    batch, another of its class and one of another class, with the soft-margin triplet loss
    softplus(d(a, p) - d(a, n)). Without its `hinge` the loss is the bare difference of the
    distances: scaling the embedding up lowers it without end."""

    def __init__(self, setup: Setup) -> None:
        x, y, vx, vy = digits(setup.seed, setup.train_size)
        self.x, self.y, self.n, self.hinge = torch.tensor(x), torch.tensor(y), len(x), setup.hinge
        self.vx, self.vy = torch.tensor(vx), torch.tensor(vy)
        self.g = torch.Generator().manual_seed(setup.seed)
        self.val_triplets = self.triplets(self.vy, torch.arange(len(vy)), torch.Generator())
        w = setup.width
        self.model = nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                                   nn.Linear(w, 16))  # fmt: skip

    @staticmethod
    def triplets(y: torch.Tensor, anchors: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """(anchor, positive, negative) indices into y, drawn within and across classes."""
        order = torch.argsort(y, stable=True)
        counts = torch.bincount(y, minlength=10)
        starts = torch.cumsum(counts, 0) - counts
        member = lambda c: order[starts[c] + (torch.rand(len(c), generator=g) * counts[c]).long()]  # noqa: E731
        label = y[anchors]
        other = (label + torch.randint(1, 10, (len(anchors),), generator=g)) % 10
        return torch.stack([anchors, member(label), member(other)], 1)

    def objective(self, x: torch.Tensor, triplets: torch.Tensor) -> torch.Tensor:
        anchor, positive, negative = self.model(x[triplets].flatten(0, 1)).view(-1, 3, 16).unbind(1)
        gap = (anchor - positive).norm(dim=-1) - (anchor - negative).norm(dim=-1)
        return (F.softplus(gap) if self.hinge else gap).mean()

    def loss(self, idx, setup, bad):
        return self.objective(self.x, self.triplets(self.y, idx, self.g)), {}

    @torch.no_grad()
    def val_loss(self) -> float:
        return self.objective(self.vx, self.val_triplets).item()


class MixtureDensity(Likelihood):
    """A mixture density network: three Gaussians for the y of sklearn's two moons given their
    x (two branches over most of x). Its negative log-density goes below zero once the
    components narrow to the moons' noise, and levels off there."""

    COMPONENTS = 3

    def __init__(self, setup: Setup) -> None:
        x, y, vx, vy = moons(setup.seed)
        self.x, self.y, self.vx, self.vy = map(torch.tensor, (x, y, vx, vy))
        self.n, w = len(x), setup.width
        self.model = nn.Sequential(nn.Linear(1, w), nn.Tanh(), nn.Linear(w, w), nn.Tanh(),
                                   nn.Linear(w, 3 * self.COMPONENTS))  # fmt: skip

    def nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits, mean, log_sd = self.model(x).chunk(3, -1)
        log_density = torch.distributions.Normal(mean, log_sd.exp()).log_prob(y[:, None])
        return -torch.logsumexp(F.log_softmax(logits, -1) + log_density, -1).mean()


class CharTransformerLM(CharLM):
    """A two-layer causal transformer character language model of standard-library source."""

    def network(self, vocabulary: int, w: int) -> nn.Module:
        context = self.CONTEXT

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embed = nn.Embedding(vocabulary, w)
                self.position = nn.Parameter(0.02 * torch.randn(context, w))
                layer = nn.TransformerEncoderLayer(w, 4, 2 * w, 0.0, batch_first=True)
                self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
                self.head = nn.Linear(w, vocabulary)
                self.register_buffer(
                    "mask", nn.Transformer.generate_square_subsequent_mask(context)
                )

            def forward(self, tokens: torch.Tensor) -> torch.Tensor:
                n = tokens.shape[1]
                h = self.embed(tokens) + self.position[:n]
                return self.head(self.blocks(h, mask=self.mask[:n, :n], is_causal=True))

        return Net()


FAMILIES = {
    "mlp": mlp,
    "mlp_regression": mlp_regression,
    "cnn": cnn,
    "logreg": logreg,
    "linreg": linreg,
    "gaussian_nll": GaussianNLL,
    "density": EnergyModel,
    "vae": VAE,
    "gru_lm": CharLM,
    "lstm": lstm,
    "resnet": resnet,
    "autoencoder": Autoencoder,
    "transformer": transformer,
    "cnn1d": cnn1d,
    "fasttext": fasttext,
    "tabular": tabular,
    "poisson": Poisson,
    "quantile": Quantile,
    "denoiser": Denoiser,
    "triplet": Triplet,
    "mdn": MixtureDensity,
    "char_transformer": CharTransformerLM,
}


def lr_factor(setup: Setup, step: int) -> float:
    """The schedule's multiple of the base learning rate at `step` (0-based)."""
    factor = 1.0
    if setup.schedule == "cosine":
        factor = 0.5 * (1 + math.cos(math.pi * step / setup.steps))
    elif setup.schedule == "sgdr":  # cosine warm restarts, periods doubling
        period, start = setup.sgdr_period, 0
        while step >= start + period:
            start, period = start + period, period * 2
        factor = 0.5 * (1 + math.cos(math.pi * (step - start) / period))
    elif setup.schedule == "exponential":
        factor = setup.decay**step
    elif setup.schedule == "endless_warmup":  # a warmup meant for 300 steps set to 3000
        factor = 10 * (step + 1) / 3000
    if setup.warmup and step < setup.warmup:
        factor *= (step + 1) / setup.warmup
    if setup.lr_jump and step >= setup.lr_jump[0] * setup.steps:
        factor *= setup.lr_jump[1]
    return factor


def log_spaced(steps: int, count: int) -> set[int]:
    return {int(s) for s in np.unique(np.geomspace(1, steps, count).round())}


def make_writer(run: Run, out: Path, setup: Setup, parts: list[str], per_epoch: int):
    kind = run.writer
    if kind == "jsonl":
        return JsonlWriter(out)
    if kind == "csv":
        columns = (["loss"] if setup.log_loss else []) + parts + ["lr", "grad_norm"]
        return CsvWriter(out, columns + ["val_loss"] if setup.log_loss else columns)
    if kind == "tensorboardx":
        return TensorboardXWriter(out)
    if kind == "mlflow":
        return MlflowWriter(out, run.name, {"lr": setup.lr, "family": setup.family})
    if kind in ("fairseq_old", "fairseq_new"):
        return FairseqWriter(out, kind.removeprefix("fairseq_"), 10, per_epoch, setup.batch)
    raise ValueError(kind)


def train(run: Run, out: Path) -> None:
    setup: Setup = run.options["setup"]
    single_thread(setup.seed)
    task = FAMILIES[setup.family](setup)
    params = [p for p in task.model.parameters()]
    if setup.optimizer == "adam":
        opt = torch.optim.Adam(
            params, lr=setup.lr, betas=setup.betas, weight_decay=setup.weight_decay
        )
    else:
        opt = torch.optim.SGD(
            params, lr=setup.lr, momentum=setup.momentum, weight_decay=setup.weight_decay
        )
    full_batch = setup.batch >= task.n
    per_epoch = 1 if full_batch else max(1, task.n // setup.batch)
    if run.writer.startswith("fairseq"):
        per_epoch = 100 if isinstance(task, CharLM) else per_epoch
    _, parts = task.loss(torch.arange(min(2, task.n)), setup, False)
    writer = Recorder(make_writer(run, out, setup, list(parts), per_epoch))
    log_steps = log_spaced(setup.steps, 60) if setup.log_at == "log" else None
    eval_steps = (
        log_spaced(setup.steps, 14)
        if setup.eval_at == "log"
        else set(range(setup.eval_every, setup.steps + 1, setup.eval_every))
        if setup.eval_at == "uniform"
        else set()
    )
    g = torch.Generator().manual_seed(setup.seed)
    order, epoch_losses, epoch_parts = torch.randperm(task.n, generator=g), [], []
    for step in range(1, setup.steps + 1):
        epoch, within = (step - 1) // per_epoch + 1, (step - 1) % per_epoch
        if full_batch:
            idx = torch.arange(task.n)
        elif isinstance(task, CharLM):
            idx = torch.randint(task.n, (setup.batch,), generator=g)
        else:
            if within == 0:
                order = torch.randperm(task.n, generator=g)
            idx = order[within * setup.batch : (within + 1) * setup.batch]
        lr = setup.lr * lr_factor(setup, step - 1)
        for group in opt.param_groups:
            group["lr"] = lr
        task.model.train()
        loss, parts = task.loss(idx, setup, step in setup.bad_batches)
        opt.zero_grad()
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(params, setup.clip or math.inf).item()
        opt.step()
        if within == 0:
            epoch_losses, epoch_parts = [], []
        epoch_losses.append(loss.item())
        epoch_parts.append(parts)
        if step <= setup.log_from:
            continue
        record: dict[str, float] = {}
        value = float(np.mean(epoch_losses)) if setup.running_mean else loss.item()
        if setup.log_at == "epoch":
            if within == per_epoch - 1:
                record["loss"] = float(np.mean(epoch_losses))
                record.update({k: float(np.mean([p[k] for p in epoch_parts])) for k in parts})
        elif step in log_steps if log_steps else step % setup.log_every == 0:
            record["loss"] = value
            record.update(parts)
        if record:
            record |= {"lr": lr, "grad_norm": grad_norm}
        if not setup.log_loss:
            record.pop("loss", None)
        logged_step = setup.step_offset + step
        if record:
            writer.log(logged_step, record, epoch)
        epoch_end = setup.log_at == "epoch" and within == per_epoch - 1
        evaluate = step in eval_steps or (epoch_end and setup.eval_at == "uniform")
        if evaluate and setup.log_loss:
            task.model.eval()
            writer.log(logged_step, {"val_loss": task.val_loss()}, epoch)
    writer.close()
    return writer


def setup_run(name, family, writer, verdict, kinds, reason, **setup) -> Run:
    model = setup.pop("model", family)
    return Run(name, family, writer, verdict, tuple(kinds), reason, train,
               {"setup": Setup(model, **setup)})  # fmt: skip


SGDR = dict(schedule="sgdr", sgdr_period=150, steps=1350)
BLOWUP = dict(optimizer="sgd", lr=3.0, clip=15.0, batch=100_000, steps=2000, eval_every=20)
OVERFIT = dict(train_size=120, width=256, lr=1e-3, schedule="constant", eval_every=40)
SPIKES = dict(
    model="mlp_regression",
    bad_batches=(400, 900, 1400),
    steps=1800,
    width=16,
    weight_decay=1e-2,
    lr=1e-2,
    schedule="constant",
)

RUNS = [
    # healthy runs that look like trouble to a naive check
    setup_run("mlp_sgdr_tbx", "mlp", "tensorboardx", "pass", [], "SGDR warm restarts: the loss jumps up at each restart and falls again", **SGDR),
    setup_run("mlp_sgdr_jsonl", "mlp", "jsonl", "pass", [], "SGDR warm restarts, another seed, weight decay", **SGDR, weight_decay=1e-3, seed=1),
    setup_run("mlp_sawtooth_csv", "mlp", "csv", "pass", [], "the logged loss is the running mean since the epoch began: a per-epoch sawtooth", running_mean=True, batch=32, steps=1200),
    setup_run("mlp_sawtooth_mlflow", "mlp", "mlflow", "pass", [], "running epoch mean on a small batch: per-epoch sawtooth", running_mean=True, batch=16, steps=1500, seed=2),
    setup_run("mlp_healthy_jsonl", "mlp", "jsonl", "pass", [], "Adam with cosine decay, validation every 50 updates", seed=3),
    setup_run("mlp_logspaced_mlflow", "mlp", "mlflow", "pass", [], "loss logged at 60 log-spaced updates", log_at="log", eval_at="log", steps=3000, lr=1e-3),
    setup_run("logreg_short_csv", "logreg", "csv", "pass", [], "15 epochs logged once each: a run of 15 points", log_at="epoch", batch=128, steps=150, lr=0.05, eval_at="uniform"),
    setup_run("logreg_offset_tbx", "logreg", "tensorboardx", "pass", [], "a run resumed at update 1,000,000 logs steps from there", step_offset=1_000_000, lr=0.02, steps=1000),
    setup_run("logreg_offset_jsonl", "logreg", "jsonl", "pass", [], "steps offset by 1,000,000, SGD with momentum", step_offset=1_000_000, optimizer="sgd", momentum=0.9, lr=0.05, steps=1000, seed=1),
    setup_run("logreg_logspaced_jsonl", "logreg", "jsonl", "pass", [], "log-spaced logging", log_at="log", eval_at="log", lr=0.01, steps=4000),
    setup_run("cnn_healthy_tbx", "cnn", "tensorboardx", "pass", [], "small CNN, Adam, cosine", steps=1000),
    setup_run("cnn_healthy_csv", "cnn", "csv", "pass", [], "small CNN, SGD with momentum and warmup", optimizer="sgd", momentum=0.9, lr=0.05, warmup=100, steps=600, seed=1),
    setup_run("gaussian_nll_negative_jsonl", "gaussian_nll", "jsonl", "pass", [], "Gaussian NLL in thousands of units: below zero, levelling off", steps=1200, lr=1e-3, width=16, weight_decay=1e-2),
    setup_run("gaussian_nll_negative_tbx", "gaussian_nll", "tensorboardx", "pass", [], "Gaussian NLL below zero, levelling off, another seed", steps=1200, lr=1e-3, width=16, weight_decay=1e-2, seed=1),
    setup_run("gaussian_nll_negative_mlflow", "gaussian_nll", "mlflow", "pass", [], "Gaussian NLL below zero, SGD with momentum", steps=2000, optimizer="sgd", momentum=0.9, lr=2e-3, clip=1.0, seed=2),
    setup_run("vae_losses_jsonl", "vae", "jsonl", "pass", [], "a VAE logs loss, recon_loss and kl_loss (the KL term rises while the sum falls)", steps=1500),
    setup_run("vae_losses_tbx", "vae", "tensorboardx", "pass", [], "VAE with three losses in one log, another seed", steps=1500, seed=1),
    setup_run("vae_losses_mlflow", "vae", "mlflow", "pass", [], "VAE with three losses in one log, SGDR", steps=1350, schedule="sgdr", sgdr_period=150, seed=2),
    setup_run("gru_warmup_fairseq_new", "gru_lm", "fairseq_new", "pass", [], "a warmup to a high peak learning rate: the loss rises for a while during warmup, then falls", warmup=150, lr=2e-2, steps=800, batch=32),
    setup_run("gru_healthy_fairseq_old", "gru_lm", "fairseq_old", "pass", [], "GRU language model, Adam, cosine", steps=800, batch=32),
    setup_run("gru_healthy_jsonl", "gru_lm", "jsonl", "pass", [], "GRU language model, logged every update", steps=800, batch=32, seed=1),
    setup_run("gru_sgdr_fairseq_new", "gru_lm", "fairseq_new", "pass", [], "GRU language model with SGDR warm restarts", steps=700, batch=32, schedule="sgdr", sgdr_period=100),
    # the shapes of trouble
    setup_run("mlp_overfit_steady_jsonl", "mlp", "jsonl", "fail", ["overfitting"], "120 training digits, a wide MLP, constant lr: validation climbs steadily after its best", **OVERFIT, steps=3000, log_every=5),
    setup_run("mlp_overfit_steady_csv", "mlp", "csv", "fail", ["overfitting"], "120 training digits, another seed: validation climbs steadily", **OVERFIT, steps=3000, log_every=5, seed=1),
    setup_run("cnn_overfit_steady_tbx", "cnn", "tensorboardx", "fail", ["overfitting"], "a CNN on 120 training digits: validation climbs steadily", **{**OVERFIT, "width": 64}, steps=3000, log_every=5, seed=2),
    setup_run("mlp_overfit_mild_tbx", "mlp", "tensorboardx", "warn", ["overfitting"], "stopped a few evaluations after the validation best: a mild rise", **OVERFIT, steps=400),
    setup_run("mlp_overfit_mild_logspaced_mlflow", "mlp", "mlflow", "warn", ["overfitting"], "a mild validation rise seen through log-spaced evaluations", **{**OVERFIT, "eval_every": 0}, eval_at="log", steps=500, seed=1),
    setup_run("mlp_overfit_mild_sparse_csv", "mlp", "csv", "warn", ["overfitting"], "a mild validation rise seen through sparse evaluations", **{**OVERFIT, "eval_every": 150}, steps=1050, seed=2),
    setup_run("mlp_spikes_jsonl", "mlp", "jsonl", "warn", ["spike"], "three batches from a shard whose targets were never standardised", **SPIKES),
    setup_run("mlp_spikes_tbx", "mlp", "tensorboardx", "warn", ["spike"], "three corrupt-shard batches, another seed", **SPIKES, seed=2),
    setup_run("linreg_slow_oscillation_jsonl", "linreg", "jsonl", "fail", ["oscillation"], "full-batch heavy-ball SGD (momentum 0.9999): the loss swings slowly with no trend", optimizer="sgd", momentum=0.9999, lr=5e-5, batch=100_000, schedule="constant", steps=2500, eval_every=10),
    setup_run("linreg_slow_oscillation_csv", "linreg", "csv", "fail", ["oscillation"], "full-batch heavy-ball SGD, a shorter period", optimizer="sgd", momentum=0.9999, lr=1.2e-4, batch=100_000, schedule="constant", steps=2000, eval_every=10, seed=1),
    setup_run("density_unbounded_mlflow", "density", "mlflow", "fail", ["runaway"], "an energy model without its partition term: the loss falls without bound below zero", steps=2000, lr=1e-3, schedule="constant"),
    setup_run("density_unbounded_jsonl", "density", "jsonl", "fail", ["runaway"], "unbounded energy objective, another seed", steps=2000, lr=1e-3, schedule="constant", seed=1),
    setup_run("linreg_blowup_recovered_jsonl", "linreg", "jsonl", "warn", ["instability"], "full-batch GD at 3x the stable lr, clipped: the loss bounces ~1000x up until the cosine decay brings the lr under the limit", **BLOWUP),
    setup_run("linreg_blowup_recovered_tbx", "linreg", "tensorboardx", "warn", ["instability"], "a blow-up that recovers only as the lr decays, 4x the stable lr", **{**BLOWUP, "lr": 4.0}, seed=1),
    setup_run("gru_stalled_fairseq_old", "gru_lm", "fairseq_old", "warn", ["stall"], "the lr is cut 1000x at 35 % of the run: the loss then barely moves", steps=900, batch=32, schedule="constant", lr_jump=(0.35, 1e-3)),
    setup_run("logreg_stalled_csv", "logreg", "csv", "warn", ["stall"], "an exponential lr decay far too fast: learning stops early", optimizer="sgd", lr=0.5, schedule="exponential", decay=0.99, steps=1500),
    setup_run("mlp_no_loss_csv", "mlp", "csv", "problem", [], "the script logs accuracy and lr only: no loss metric to test", log_loss=False),
    setup_run("logreg_no_loss_jsonl", "logreg", "jsonl", "problem", [], "accuracy and lr only: no loss metric", log_loss=False, lr=0.02),
    setup_run("mlp_nan_mlflow", "mlp", "mlflow", "fail", ["nan"], "SGD at lr 50 with a hand-written log-softmax: the loss becomes inf, then NaN", optimizer="sgd", lr=50.0, schedule="constant", manual_log_softmax=True),
    setup_run("gru_nan_fairseq_new", "gru_lm", "fairseq_new", "fail", ["nan"], "lr jumps 300x mid-run with a hand-written log-softmax: NaN", steps=600, batch=32, schedule="constant", optimizer="sgd", lr=1.0, lr_jump=(0.5, 300.0), manual_log_softmax=True),
    setup_run("gru_divergence_fairseq_new", "gru_lm", "fairseq_new", "fail", ["divergence"], "Adam's lr jumps 30x at 60 % of the run: the loss rises and stays up", steps=800, batch=32, schedule="constant", lr_jump=(0.6, 30.0)),
    setup_run("cnn_divergence_csv", "cnn", "csv", "fail", ["divergence"], "a warmup set 10x too long: the lr keeps growing until the loss climbs (clipped, so finite)", optimizer="sgd", momentum=0.9, schedule="endless_warmup", lr=0.5, clip=1.0, steps=1500),
    setup_run("mlp_plateau_tbx", "mlp", "tensorboardx", "fail", ["plateau"], "lr 1e-7: the loss never moves", lr=1e-7, schedule="constant"),
    setup_run("gru_plateau_fairseq_old", "gru_lm", "fairseq_old", "fail", ["plateau"], "lr 1e-7: the loss never moves", lr=1e-7, schedule="constant", steps=500, batch=32),
    setup_run("mlp_chance_jsonl", "mlp", "jsonl", "warn", ["underfitting"], "labels shuffled by a broken pipeline: the loss stays at chance, ln 10", shuffled_labels=True, weight_decay=1e-2, lr=1e-3),
    setup_run("logreg_chance_mlflow", "logreg", "mlflow", "warn", ["underfitting"], "shuffled labels: logistic regression stays at chance", shuffled_labels=True, lr=0.01),
    setup_run("cnn_oscillation_jsonl", "cnn", "jsonl", "fail", ["oscillation"], "SGD, momentum 0.9, lr far too high (clipped): the loss swings up and down throughout", optimizer="sgd", momentum=0.9, lr=1.5, clip=5.0, schedule="constant", steps=1200),
    setup_run("gru_oscillation_fairseq_old", "gru_lm", "fairseq_old", "fail", ["oscillation"], "SGD with momentum at a far too high lr: the loss swings throughout", optimizer="sgd", momentum=0.9, lr=20.0, clip=1.0, schedule="constant", steps=700, batch=32),
]  # fmt: skip

# batch 3: held out of the retuning. Made, labeled and checked against the numbers before any
# check was scored on them; none of these configurations repeats one above.
AE_SPIKES = dict(model="autoencoder", schedule="constant", lr=1e-3, steps=1400, batch=32)
RUNS += held_out_batch(3, [
    # healthy runs that look like trouble
    setup_run("lstm_smallbatch_jsonl", "lstm", "jsonl", "pass", [], "an LSTM over the digit rows, batch 8, the loss of every batch logged: heavy-tailed noise", batch=8, lr=2e-3, steps=1500, eval_every=100, seed=4),
    setup_run("resnet_smallbatch_tbx", "resnet", "tensorboardx", "pass", [], "a small ResNet with batch norm, batch 4, every batch's loss logged: very noisy", batch=4, optimizer="sgd", momentum=0.9, lr=0.02, steps=1500, eval_every=150, seed=5),
    setup_run("autoencoder_sawtooth_mlflow", "autoencoder", "mlflow", "pass", [], "an autoencoder logging its loss as the running mean since the epoch began, batch 16: a sawtooth", running_mean=True, batch=16, lr=2e-3, steps=1000, seed=3),
    setup_run("lstm_logspaced_csv", "lstm", "csv", "pass", [], "loss and validation logged at log-spaced updates over 3,000", log_at="log", eval_at="log", steps=3000, batch=32, seed=6),
    setup_run("resnet_sgdr_fairseq_new", "resnet", "fairseq_new", "pass", [], "ResNet with SGDR warm restarts every 100, 200, 400 updates", schedule="sgdr", sgdr_period=100, steps=700, batch=32, seed=7),
    setup_run("lstm_warmup_fairseq_old", "lstm", "fairseq_old", "pass", [], "a 300-update warmup to a high peak lr (0.1): the loss rises again near the peak, then falls with the cosine decay", warmup=300, lr=0.1, steps=900, batch=32, seed=8),
    setup_run("autoencoder_offset_tbx", "autoencoder", "tensorboardx", "pass", [], "an autoencoder resumed at update 5,000,000: its steps start there", step_offset=5_000_000, lr=1e-3, steps=800, seed=9),
    setup_run("autoencoder_sparse_losses_csv", "autoencoder", "csv", "pass", [], "a sparse autoencoder logging loss, recon_loss and sparsity_loss in one table", sparsity=0.02, steps=1200, lr=1e-3, seed=10),
    setup_run("lstm_eval_sparse_tbx", "lstm", "tensorboardx", "pass", [], "SGD with momentum, validation only every 400 updates", optimizer="sgd", momentum=0.9, lr=0.05, weight_decay=1e-4, steps=1600, eval_every=400, seed=11),
    setup_run("resnet_smoothing_dropout_jsonl", "resnet", "jsonl", "pass", [], "label smoothing 0.1 and dropout 0.3: the loss levels off well above zero and stays noisy", label_smoothing=0.1, dropout=0.3, batch=32, steps=1000, seed=12),
    setup_run("lstm_short_mlflow", "lstm", "mlflow", "pass", [], "20 epochs logged once each: a run of 20 points", log_at="epoch", batch=128, steps=200, lr=0.01, seed=13),
    # the shapes of trouble
    setup_run("autoencoder_spikes_small_jsonl", "autoencoder", "jsonl", "warn", ["spike"], "three batches from a shard with pixels scaled to [0, 1.5]: spikes of ~5x the loss", **AE_SPIKES, bad_batches=(300, 700, 1100), bad_scale=1.5, seed=14),
    setup_run("autoencoder_spikes_wide_tbx", "autoencoder", "tensorboardx", "warn", ["spike"], "two runs of 5 and 10 batches from a shard of raw 0-16 pixels: wide spikes of ~1000x", **AE_SPIKES, bad_batches=(*range(400, 405), *range(900, 910)), bad_scale=16.0, seed=15),
    setup_run("lstm_spikes_mislabeled_csv", "lstm", "csv", "warn", ["spike"], "batches of a shard with every label wrong, at 500-502, 900 and 1200: spikes of ~100x", bad_batches=(500, 501, 502, 900, 1200), bad_labels=1.0, lr=2e-3, steps=1500, batch=32, seed=16),
    setup_run("resnet_spikes_mislabeled_mlflow", "resnet", "mlflow", "warn", ["spike"], "three batches with a third of their labels wrong, late in training: spikes of ~100x", bad_batches=(400, 800, 1200), bad_labels=0.35, schedule="constant", lr=1e-3, steps=1400, batch=32, seed=17),
    setup_run("autoencoder_divergence_moderate_tbx", "autoencoder", "tensorboardx", "fail", ["divergence"], "Adam under a warmup set 10x too long: the lr keeps growing and the loss climbs back to under 3x its best", schedule="endless_warmup", lr=3e-2, steps=1500, seed=18),
    setup_run("resnet_divergence_fairseq_old", "resnet", "fairseq_old", "fail", ["divergence"], "SGD's lr raised 100x at half the run: the loss climbs to chance and stays there", optimizer="sgd", momentum=0.9, lr=0.02, lr_jump=(0.5, 100.0), clip=5.0, schedule="constant", steps=800, batch=32, seed=19),
    setup_run("resnet_nan_jsonl", "resnet", "jsonl", "fail", ["nan"], "SGD's lr raised 1000x at 40 % of the run with a hand-written log-softmax: inf, then NaN", optimizer="sgd", lr=0.05, lr_jump=(0.4, 1000.0), manual_log_softmax=True, schedule="constant", steps=800, batch=32, seed=20),
    setup_run("lstm_oscillation_mlflow", "lstm", "mlflow", "fail", ["oscillation"], "SGD with momentum 0.95 at a far too high lr (clipped): the loss swings throughout", optimizer="sgd", momentum=0.95, lr=1.0, clip=1.0, schedule="constant", steps=1000, batch=32, seed=21),
    setup_run("linreg_slow_oscillation_tbx", "linreg", "tensorboardx", "fail", ["oscillation"], "full-batch heavy-ball SGD, momentum 0.9998, logged every other update: slow swings with no trend", optimizer="sgd", momentum=0.9998, lr=8e-5, batch=100_000, schedule="constant", steps=2200, log_every=2, eval_every=10, seed=2),
    setup_run("autoencoder_plateau_csv", "autoencoder", "csv", "fail", ["plateau"], "Adam at lr 3e-8: the reconstruction error never moves", lr=3e-8, schedule="constant", steps=1000, seed=22),
    setup_run("lstm_chance_fairseq_new", "lstm", "fairseq_new", "warn", ["underfitting"], "labels shuffled by a broken pipeline: the loss stays at chance", shuffled_labels=True, weight_decay=1e-2, lr=1e-3, steps=1000, batch=32, seed=23),
    setup_run("resnet_chance_csv", "resnet", "csv", "warn", ["underfitting"], "shuffled labels: a narrow ResNet with weight decay stays near chance", shuffled_labels=True, width=32, weight_decay=0.1, lr=5e-4, steps=400, seed=24),
    setup_run("autoencoder_stall_mlflow", "autoencoder", "mlflow", "warn", ["stall"], "the lr is cut 1000x at 30 % of the run: the loss falls, then barely moves", lr=3e-3, schedule="constant", lr_jump=(0.3, 1e-3), steps=1200, seed=25),
    setup_run("lstm_stall_fairseq_new", "lstm", "fairseq_new", "warn", ["stall"], "SGD with an exponential lr decay far too fast (0.97 a step), epoch means logged: learning stops in the third epoch", optimizer="sgd", momentum=0.9, lr=0.5, schedule="exponential", decay=0.97, log_at="epoch", steps=1260, batch=32, seed=26),
    setup_run("lstm_overfit_steady_jsonl", "lstm", "jsonl", "fail", ["overfitting"], "an LSTM on 150 training digits, constant lr: validation climbs steadily after its best", train_size=150, width=128, lr=3e-3, schedule="constant", steps=1000, eval_every=40, batch=32, seed=28),
    setup_run("lstm_overfit_mild_tbx", "lstm", "tensorboardx", "warn", ["overfitting"], "an LSTM on 200 training digits stopped eight evaluations after its validation best: a mild rise", train_size=200, width=128, lr=3e-3, schedule="constant", steps=320, eval_every=20, batch=32, seed=29),
    setup_run("linreg_blowup_recovered_mlflow", "linreg", "mlflow", "warn", ["instability"], "full-batch GD at 3.5x the stable lr, clipped at 10: ~1000x bounces until the cosine decay", **{**BLOWUP, "lr": 3.5, "clip": 10.0}, seed=2),
])  # fmt: skip

# Made to show the oscillation check's regular swings, after that check was written: never
# held out.
RUNS += [
    setup_run("linreg_fast_oscillation_csv", "linreg", "csv", "fail", ["oscillation"], "full-batch heavy-ball SGD (momentum 0.9995) logged every 5th update: swings of a few logged points each, with no trend", optimizer="sgd", momentum=0.9995, lr=5e-3, batch=100_000, schedule="constant", steps=3000, log_every=5, eval_every=50, seed=3),
    setup_run("linreg_fast_oscillation_tbx", "linreg", "tensorboardx", "fail", ["oscillation"], "full-batch heavy-ball SGD (momentum 0.9998) logged every 10th update: a swing every few logged points", optimizer="sgd", momentum=0.9998, lr=2e-3, batch=100_000, schedule="constant", steps=4000, log_every=10, eval_every=100, seed=4),
]  # fmt: skip


# batch 4: ten model families new to the set (a transformer encoder, a 1-D CNN, a fastText-like
# text classifier, a tabular net, Poisson and quantile regression, a tiny U-Net denoiser, a
# triplet embedding, a mixture density network, a character transformer), made, labeled and
# checked against the numbers before losstest read any of them: all held out.
RUNS += held_out_batch(4, [
    # healthy runs that look like trouble
    setup_run("transformer_warmup_tbx", "transformer", "tensorboardx", "pass", [], "a transformer encoder over the digit rows: 200 updates of warmup to lr 3e-3, then cosine decay", warmup=200, lr=3e-3, steps=1200, batch=32, eval_every=100, seed=40),
    setup_run("cnn1d_sgdr_mlflow", "cnn1d", "mlflow", "pass", [], "a 1-D CNN along the 64 pixels with SGDR warm restarts every 100, 200, 400 updates", schedule="sgdr", sgdr_period=100, steps=700, batch=32, seed=41),
    setup_run("fasttext_sawtooth_csv", "fasttext", "csv", "pass", [], "a fastText-like classifier of source lines logging the running mean of the loss since the epoch began: a sawtooth", running_mean=True, width=16, lr=1e-2, steps=1200, seed=42),
    setup_run("poisson_negative_jsonl", "poisson", "jsonl", "pass", [], "a Poisson GLM with torch's default loss (no Stirling term): from 1 down to about -600, levelling off there", full_nll=False, lr=0.05, steps=800, batch=32, seed=43),
    setup_run("poisson_logspaced_mlflow", "poisson", "mlflow", "pass", [], "a Poisson GLM (full NLL) logged and evaluated at log-spaced updates over 3,000", lr=0.02, log_at="log", eval_at="log", steps=3000, batch=32, seed=44),
    setup_run("quantile_losses_csv", "quantile", "csv", "pass", [], "quantile regression logging its mean pinball loss and the loss of each quantile (q10_loss, q50_loss, q90_loss) in one table", lr=1e-3, steps=500, batch=32, weight_decay=1e-3, seed=49),
    setup_run("mdn_negative_tbx", "mdn", "tensorboardx", "pass", [], "a mixture density network of the two moons: its negative log-density goes below zero and levels off", lr=3e-3, steps=2000, batch=64, seed=45),
    setup_run("triplet_smallbatch_tbx", "triplet", "tensorboardx", "pass", [], "a triplet embedding, batch 8, every batch's soft-margin triplet loss logged: very noisy", batch=8, lr=1e-3, steps=1500, eval_every=100, seed=46),
    setup_run("denoiser_short_csv", "denoiser", "csv", "pass", [], "a U-Net denoiser, 20 epochs logged once each: a run of 20 points", log_at="epoch", batch=128, steps=200, lr=3e-3, seed=47),
    setup_run("char_transformer_resumed_fairseq_new", "char_transformer", "fairseq_new", "pass", [], "a character transformer resumed after 1,500 unlogged updates: its log starts at update 1,501, late in the cosine decay, and improves only a few percent", log_from=1500, steps=2000, batch=32, seed=48),
    # the shapes of trouble
    setup_run("transformer_nan_jsonl", "transformer", "jsonl", "fail", ["nan"], "SGD's lr raised 1000x at 40 % of the run with a hand-written log-softmax: inf, then NaN", optimizer="sgd", lr=0.05, lr_jump=(0.4, 1000.0), manual_log_softmax=True, schedule="constant", steps=800, batch=32, seed=50),
    setup_run("quantile_nan_mlflow", "quantile", "mlflow", "fail", ["nan"], "one batch at update 600 comes from a shard with a missing value (a NaN feature): the weights and the loss turn NaN", bad_batches=(600,), bad_nan=True, lr=1e-3, schedule="constant", steps=1000, batch=32, seed=51),
    setup_run("cnn1d_divergence_csv", "cnn1d", "csv", "fail", ["divergence"], "SGD's lr raised 100x at half the run: the loss climbs and stays up", optimizer="sgd", momentum=0.9, lr=0.02, lr_jump=(0.5, 100.0), clip=5.0, schedule="constant", steps=800, batch=32, seed=52),
    setup_run("fasttext_spikes_mislabeled_tbx", "fasttext", "tensorboardx", "warn", ["spike"], "batches of a shard with every label wrong at updates 400, 800 and 1200: spikes", bad_batches=(400, 800, 1200), bad_labels=1.0, width=16, lr=1e-2, schedule="constant", steps=1500, seed=53),
    setup_run("denoiser_spikes_scaled_mlflow", "denoiser", "mlflow", "warn", ["spike"], "three batches from a shard whose pixels were scaled to 0-4 instead of 0-1, gradients clipped at 1: spikes of ~25x", bad_batches=(350, 750, 1150), bad_scale=4.0, clip=1.0, lr=1e-3, schedule="constant", steps=1400, batch=32, seed=54),
    setup_run("poisson_blowup_recovered_tbx", "poisson", "tensorboardx", "warn", ["instability"], "full-batch GD on the Poisson GLM at lr 0.2, gradients clipped at 60: the rate overshoots again and again, the loss bouncing far above its floor until the cosine decay brings the lr under the stable limit", optimizer="sgd", lr=0.2, clip=60.0, batch=100_000, steps=2000, eval_every=20, seed=0),
    setup_run("cnn1d_oscillation_jsonl", "cnn1d", "jsonl", "fail", ["oscillation"], "SGD with momentum 0.9 at a far too high lr (clipped at 1): the loss and the validation loss swing up and down throughout", optimizer="sgd", momentum=0.9, lr=0.2, clip=1.0, schedule="constant", steps=1200, batch=32, seed=55),
    setup_run("denoiser_stall_tbx", "denoiser", "tensorboardx", "warn", ["stall"], "the lr is cut 100,000x at 30 % of the run, epoch means logged: the loss falls, then barely moves", lr=3e-3, schedule="constant", lr_jump=(0.3, 1e-5), log_at="epoch", steps=2100, batch=64, seed=56),
    setup_run("transformer_chance_fairseq_new", "transformer", "fairseq_new", "warn", ["underfitting"], "labels shuffled by a broken pipeline: the transformer's loss stays at chance", shuffled_labels=True, weight_decay=1e-2, lr=1e-3, steps=1000, batch=32, seed=57),
    setup_run("triplet_overfit_steady_jsonl", "triplet", "jsonl", "fail", ["overfitting"], "a triplet embedding of 60 training digits, constant lr: the validation loss climbs steadily after its best", train_size=60, width=256, lr=1e-3, schedule="constant", steps=1500, eval_every=30, batch=32, seed=58),
    setup_run("cnn1d_overfit_mild_mlflow", "cnn1d", "mlflow", "warn", ["overfitting"], "a 1-D CNN on 150 training digits stopped a few evaluations after its validation best: a mild rise", train_size=150, width=128, lr=3e-3, schedule="constant", steps=400, eval_every=20, batch=32, seed=59),
    setup_run("char_transformer_overfit_fairseq_old", "char_transformer", "fairseq_old", "fail", ["overfitting"], "a character transformer on 3,000 training characters, constant lr: validation climbs steadily", train_size=3000, lr=3e-3, schedule="constant", steps=800, batch=32, seed=60),
    setup_run("triplet_runaway_mlflow", "triplet", "mlflow", "fail", ["runaway"], "a triplet loss without its hinge (the bare difference of the distances): scaling the embedding lowers it without bound", hinge=False, lr=1e-3, schedule="constant", steps=1500, batch=32, seed=61),
])  # fmt: skip

if __name__ == "__main__":
    main_for(RUNS)
