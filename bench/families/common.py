"""What the family scripts share: the data that ships with the packages, and the writers a
plain PyTorch loop logs through (each the real tool, or the exact layout where the tool cannot
be installed here).

A run is a `Run`: its name, model family, writer, the verdict and kinds expected from how it is
made, and a one-line reason. Every script fills a list of them and trains each into OUT/<name>.
"""

from __future__ import annotations

import csv
import inspect
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Run:
    name: str
    family: str
    writer: str
    verdict: str  # pass | warn | fail | problem (nothing to test: no loss metric)
    kinds: tuple[str, ...]
    reason: str
    train: Callable[..., None] = field(repr=False, compare=False)
    options: dict = field(default_factory=dict)
    batch: int | None = None  # a batch made wholly held out (3, 4): never drawn, always held out


def held_out_batch(batch: int, runs: list[Run]) -> list[Run]:
    """Runs made as one batch before any check was tuned or scored on them: all held out."""
    return [replace(run, batch=batch) for run in runs]


def single_thread(seed: int) -> None:
    """One thread per run so that the driver can train two runs at once on two cores."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)


def split_75_25(x: np.ndarray, y: np.ndarray, seed: int, train_size: int | None):
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.75 * len(x))
    end = split if train_size is None else train_size
    return x[:end], y[:end], x[split:], y[split:]


def digits(seed: int = 0, train_size: int | None = None):
    """sklearn's 8x8 digits (shipped with sklearn), scaled to [0, 1], split 75/25."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return split_75_25(x.astype(np.float32) / 16.0, y.astype(np.int64), seed, train_size)


def diabetes(seed: int = 0, raw_target: bool = False):
    """sklearn's diabetes regression set, standardised (the target too unless `raw_target`: a
    count-like progression score, 25 to 346), split 75/25."""
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order].astype(np.float32), y[order].astype(np.float32)
    x = (x - x.mean(0)) / x.std(0)
    if not raw_target:
        y = (y - y.mean()) / y.std()
    split = int(0.75 * len(x))
    return x[:split], y[:split], x[split:], y[split:]


def breast_cancer(seed: int = 0, train_size: int | None = None):
    """sklearn's breast-cancer table (569 rows, 30 features, 2 classes), standardised."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    return split_75_25(x, y.astype(np.int64), seed, train_size)


def moons(seed: int = 0):
    """sklearn's two moons (2,000 points, noise 0.05): the y of a point given its x has two
    branches over most of the range, a density no single Gaussian fits."""
    from sklearn.datasets import make_moons

    points, _ = make_moons(2000, noise=0.05, random_state=seed)
    points = points.astype(np.float32)
    return split_75_25(points[:, :1], points[:, 1], seed, None)


STDLIB_MODULES = ("argparse", "collections", "dataclasses", "json", "pathlib", "textwrap")


def source_lines(seed: int = 0, train_size: int | None = None):
    """Lines of standard-library source (at least 16 characters), each labeled with the module
    it comes from (STDLIB_MODULES): a six-class text classification task."""
    import importlib

    lines, labels = [], []
    for label, name in enumerate(STDLIB_MODULES):
        source = inspect.getsource(importlib.import_module(name))
        kept = [line.strip() for line in source.splitlines() if len(line.strip()) >= 16]
        lines += kept
        labels += [label] * len(kept)
    x, y, vx, vy = split_75_25(np.array(lines, dtype=object), np.array(labels), seed, train_size)
    return list(x), y.astype(np.int64), list(vx), vy.astype(np.int64)


def stdlib_text() -> str:
    """The source of a few standard-library modules: text every Python installation has."""
    import argparse
    import collections
    import dataclasses
    import json as json_module
    import pathlib
    import textwrap

    modules = (argparse, collections, dataclasses, json_module, pathlib, textwrap)
    return "".join(inspect.getsource(m) for m in modules)


class Writer:
    """Receives one record at a time: `log(step, {"loss": ..., ...}, epoch)`; `close()` at the
    end. This base writes nothing: the recorder of a tool that writes its own log uses it."""

    def log(self, step: int, metrics: dict[str, float], epoch: int = 0) -> None:
        pass

    def close(self) -> None:
        pass


class Recorder(Writer):
    """Passes every record on to the real writer and keeps the training and validation losses,
    so the label can be checked against the numbers the run really produced."""

    def __init__(self, writer: Writer) -> None:
        self.writer, self.train, self.val = writer, [], []

    def log(self, step: int, metrics: dict[str, float], epoch: int = 0) -> None:
        self.writer.log(step, metrics, epoch)
        if "loss" in metrics:
            self.train.append((step, metrics["loss"]))
        if "val_loss" in metrics:
            self.val.append((step, metrics["val_loss"]))

    def close(self) -> None:
        self.writer.close()


class JsonlWriter(Writer):
    def __init__(self, out: Path) -> None:
        self.file = open(out / "metrics.jsonl", "w")  # noqa: SIM115 - closed in close()

    def log(self, step: int, metrics: dict[str, float], epoch: int = 0) -> None:
        self.file.write(json.dumps({"step": step, **metrics}) + "\n")

    def close(self) -> None:
        self.file.close()


class CsvWriter(Writer):
    """csv.DictWriter with every column known up front; blanks where a row lacks a metric."""

    def __init__(self, out: Path, columns: list[str]) -> None:
        self.file = open(out / "metrics.csv", "w", newline="")  # noqa: SIM115
        self.writer = csv.DictWriter(self.file, ["step", *columns])
        self.writer.writeheader()

    def log(self, step: int, metrics: dict[str, float], epoch: int = 0) -> None:
        self.writer.writerow({"step": step, **metrics})

    def close(self) -> None:
        self.file.close()


class TensorboardXWriter(Writer):
    TAGS = {"loss": "train/loss", "val_loss": "val/loss"}

    def __init__(self, out: Path) -> None:
        from tensorboardX import SummaryWriter

        self.writer = SummaryWriter(str(out / "tb"))

    def log(self, step: int, metrics: dict[str, float], epoch: int = 0) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(self.TAGS.get(key, key), value, step)

    def close(self) -> None:
        self.writer.close()


class MlflowWriter(Writer):
    """An MLflow file store (`mlruns/`) written by mlflow.log_metrics."""

    def __init__(self, out: Path, name: str, params: dict) -> None:
        import mlflow

        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        mlflow.set_tracking_uri((out / "mlruns").resolve().as_uri())
        self.mlflow = mlflow
        self.run = mlflow.start_run(run_name=name)
        mlflow.log_params(params)

    def log(self, step: int, metrics: dict[str, float], epoch: int = 0) -> None:
        self.mlflow.log_metrics(metrics, step=step)

    def close(self) -> None:
        self.mlflow.end_run()


def drain(values: list[float]) -> float:
    """The mean of the values gathered since the last line, emptying the list for the next."""
    mean = float(np.mean(values))
    values.clear()
    return mean


class FairseqWriter(Writer):
    """fairseq's `train.log` layouts (fairseq itself does not install here). Losses are logged
    in base 2, as fairseq's criterions do, with `ppl = 2 ** nll_loss`.

    "old": the print-based logger of fairseq ≤ 0.8 (`| epoch 001:  100 / 282 loss=...` every
    `log_interval` updates, `| epoch 001 | loss ...` and `| epoch 001 | valid on 'valid'
    subset | loss ...` at each epoch's end). "new": fairseq ≥ 0.10 logging, the same records
    prefixed with `YYYY-mm-dd HH:MM:SS | INFO | train_inner|train|valid |`.
    Train records carry "loss" (and "lr", "grad_norm"), validation records "val_loss"; the
    throughput fields are measured.
    """

    def __init__(
        self, out: Path, layout: str, log_interval: int, updates_per_epoch: int, batch: int
    ) -> None:
        self.file = open(out / "train.log", "w")  # noqa: SIM115
        self.layout, self.log_interval, self.size = layout, log_interval, updates_per_epoch
        self.batch = batch
        self.start = self.last_line = time.time()
        self.inner: list[float] = []
        self.epoch_losses: list[float] = []
        self.best = math.inf

    def line(self, tag: str, text: str) -> None:
        if self.layout == "new":
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            self.file.write(f"{stamp} | INFO | {tag} | {text}\n")
        else:
            self.file.write(f"| {text}\n")

    def log(self, step: int, metrics: dict[str, float], epoch: int = 0) -> None:
        lr, size, gnorm = metrics.get("lr", 0.0), self.size, metrics.get("grad_norm", 0.0)
        now = time.time()
        wall = round(now - self.start)
        if "val_loss" in metrics:
            loss = metrics["val_loss"] / math.log(2)
            self.best = min(self.best, loss)
            self.line(
                "valid",
                f"epoch {epoch:03d} | valid on 'valid' subset | loss {loss:.3f} | "
                f"nll_loss {loss:.3f} | ppl {2**loss:.2f} | bsz {self.batch} | "
                f"num_updates {step} | best_loss {self.best:.3f}",
            )
            return
        loss = metrics["loss"] / math.log(2)
        self.inner.append(loss)
        self.epoch_losses.append(loss)
        within = (step - 1) % size + 1
        if step % self.log_interval == 0:
            mean = drain(self.inner)
            ups = self.log_interval / max(now - self.last_line, 1e-6)
            self.last_line = now
            self.line(
                "train_inner",
                f"epoch {epoch:03d}: {within:5d} / {size} loss={mean:.3f}, nll_loss={mean:.3f}, "
                f"ppl={2**mean:.2f}, wps={ups * self.batch:.1f}, ups={ups:.2f}, "
                f"bsz={self.batch}, num_updates={step}, lr={lr:g}, gnorm={gnorm:.3f}, "
                f"train_wall={wall}, wall={wall}",
            )
        if within == size:
            mean = drain(self.epoch_losses)
            self.line(
                "train",
                f"epoch {epoch:03d} | loss {mean:.3f} | nll_loss {mean:.3f} | ppl {2**mean:.2f} "
                f"| ups {size / max(wall, 1):.2f} | bsz {self.batch} | num_updates {step} "
                f"| lr {lr:g} | gnorm {gnorm:.3f} | train_wall {wall} | wall {wall}",
            )

    def close(self) -> None:
        self.file.close()


def quiet_logging() -> None:
    """The training tools log at INFO; the driver's output stays readable."""
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("mlflow", "lightning", "lightning.pytorch", "transformers", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main_for(runs: list[Run]) -> None:
    """`script.py OUT_DIR [--only NAME ...]`: train each run into OUT_DIR/<name> and write its
    label (from how it was made) beside it in label.json."""
    import argparse
    import shutil

    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    quiet_logging()
    for run in runs:
        if args.only and run.name not in args.only:
            continue
        out = args.out / run.name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        started = time.time()
        recorder = run.train(run, out)
        label = {
            "family": run.family,
            "writer": run.writer,
            "verdict": run.verdict,
            "kinds": list(run.kinds),
            "reason": run.reason,
            "measured": measure(recorder.train, recorder.val),
        }
        for problem in disagreements(label):
            print(f"{run.name}: label and numbers disagree: {problem}", flush=True)
        if os.environ.get("FAMILIES_CURVES"):
            curves = {"train": recorder.train, "val": recorder.val}
            (out / "curves.json").write_text(json.dumps(curves))
        (out / "label.json").write_text(json.dumps(label, indent=1) + "\n")
        print(f"{run.name}: {time.time() - started:.1f} s", flush=True)


def measure(train: list[tuple[int, float]], val: list[tuple[int, float]]) -> dict:
    """The numbers a label is checked against: how far the loss fell, its peak, how much it
    moved over the last 60 % of the run, and how far validation rose from its best."""
    found: dict = {"points": len(train)}
    if not train:
        return found
    step, y = np.array(train, dtype=float).T
    finite = np.isfinite(y)
    found["non_finite_from"] = int(step[~finite][0]) if not finite.all() else None
    step, y = step[finite], y[finite]
    if len(y) < 2:
        return found
    edge = max(1, len(y) // 20)
    first, last = float(np.median(y[:edge])), float(np.median(y[-edge:]))
    tail = y[int(0.4 * len(y)) :]
    tail_start = float(np.median(tail[:edge]))
    found |= {
        "first": first,
        "last": last,
        "min": float(y.min()),
        "peak_over_last": float(y.max() / last) if last > 0 else None,
        "steps_above_100x_last": int((y > 100 * last).sum()) if last > 0 else None,
        "last_60pct_change": abs(last - tail_start) / max(abs(tail_start), 1e-12),
        "fell": abs(first - last) / max(abs(first), 1e-12),
        "peak_over_local": peak_over_local(y),
        "last_over_best": last / float(rolling_median(y, edge).min()) if last > 0 else None,
    }
    if val:
        vstep, v = np.array(val, dtype=float).T
        vstep, v = vstep[np.isfinite(v)], v[np.isfinite(v)]
    if val and len(v):
        best = int(np.nanargmin(v))
        found |= {
            "val_points": len(v),
            "val_best": float(v[best]),
            "val_best_step": int(vstep[best]),
            "val_last": float(v[-1]),
            "val_rise": float((v[-1] - v[best]) / abs(v[best])),
            "evals_after_best": len(v) - 1 - best,
            "val_swing": float((v.max() - v.min()) / abs(np.median(v))),
        }
    return found


def peak_over_local(y: np.ndarray, window: int = 51) -> float | None:
    """The largest ratio of a point to the median of the points around it: how tall the
    tallest spike stands over its neighbourhood, whatever the loss's level at the time."""
    if len(y) < 3 or (y <= 0).any():
        return None
    return float((y / rolling_median(y, window)).max())


def rolling_median(y: np.ndarray, window: int) -> np.ndarray:
    """The median of the `window` points centred on each point (the ends repeated)."""
    half = min(window // 2, (len(y) - 1) // 2)
    padded = np.pad(y, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)


VAL_MAY_RISE = {"oscillation", "divergence", "instability", "runaway"}


def disagreements(label: dict) -> list[str]:
    """What in the numbers contradicts the label made from the training setup."""
    m, kinds, problems = label["measured"], set(label["kinds"]), []
    if label["verdict"] == "problem":
        return [] if m["points"] == 0 else ["a loss was logged"]
    if m["points"] == 0:
        return ["no loss logged"]
    if ("nan" in kinds) != (m.get("non_finite_from") is not None):
        problems.append(f"non-finite from {m.get('non_finite_from')}")
    if "nan" in kinds:
        return problems
    rise = m.get("val_rise", 0.0)
    if "overfitting" in kinds:
        if label["verdict"] == "fail" and not (rise >= 0.25 and m["last"] <= m["first"] / 2):
            problems.append(f"val rise {rise:+.0%}, train {m['first']:.3g} -> {m['last']:.3g}")
        if label["verdict"] == "warn" and not 0.05 <= rise <= 0.2:
            problems.append(f"val rise {rise:+.0%}")
    elif rise > (0.05 if label["verdict"] == "pass" else 0.1) and not kinds & VAL_MAY_RISE:
        problems.append(f"val rise {rise:+.0%} in a run not labeled overfitting")
    if "spike" in kinds and not (m["peak_over_local"] or 0) >= 3:
        problems.append(f"peak only {m['peak_over_local']}x its neighbourhood")
    if "instability" in kinds and not (m["steps_above_100x_last"] or 0) >= 0.3 * m["points"]:
        problems.append(f"only {m['steps_above_100x_last']} points above 100x the last")
    if kinds & {"plateau", "stall"}:
        limit = 0.01 if "stall" in kinds else 0.02
        if m["last_60pct_change"] > limit:
            problems.append(f"moved {m['last_60pct_change']:.1%} over the last 60 %")
        if "stall" in kinds and m["fell"] < 0.1:
            problems.append("did not fall early")
    if "underfitting" in kinds and m["last"] < 0.9 * math.log(10):
        problems.append(f"ended at {m['last']:.3g}, below 0.9 ln 10")
    if "divergence" in kinds and not m["last"] > 1.4 * m["min"]:
        problems.append(f"last {m['last']:.3g} vs min {m['min']:.3g}")
    if "runaway" in kinds and not m["last"] < -100 * abs(m["first"]):
        problems.append(f"fell only from {m['first']:.3g} to {m['last']:.3g}")
    if label["verdict"] == "pass" and not m["last"] < m["first"]:
        problems.append("a healthy run whose loss did not fall")
    return problems
