"""Real runs logged as a JSON array of records (`[{...}, {...}]`), as two kinds of writer lay it
out, written into tests/data/records/:

- `chainer/result/log`: the layout of Chainer's `LogReport` extension (Chainer no longer
  installs on Python 3.11): every 100 iterations the mean `main/loss` and `main/accuracy` of
  those iterations, with `epoch`, `iteration` and `elapsed_time`, and at each epoch's end
  `validation/main/loss` and `validation/main/accuracy`; the whole list rewritten with
  `json.dump(..., indent=4)` at each report.
- `history.json`: a training loop's own `json.dump` of its per-epoch dicts, the training loss
  nested under `train` and the validation loss under `val`.

An MLP on scikit-learn's digits trained with torch.

    python bench/records/make_records.py   (needs torch and scikit-learn)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "records"


def _data():
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def _model():
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def _evaluate(model, x, y) -> tuple[float, float]:
    with torch.no_grad():
        logits = model(x)
        return (
            torch.nn.functional.cross_entropy(logits, y).item(),
            (logits.argmax(1) == y).float().mean().item(),
        )


def chainer_log(path: Path) -> None:
    torch.manual_seed(0)
    (x, y), (vx, vy) = _data()
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    per_epoch, epochs, started = len(x) // 32, 20, time.time()
    log, losses, accuracies = [], [], []
    path.parent.mkdir(parents=True, exist_ok=True)
    for iteration in range(1, per_epoch * epochs + 1):
        index = torch.randint(0, len(x), (32,))
        logits = model(x[index])
        loss = torch.nn.functional.cross_entropy(logits, y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        accuracies.append((logits.argmax(1) == y[index]).float().mean().item())
        epoch_end = iteration % per_epoch == 0
        if iteration % 100 == 0 or epoch_end:
            entry = {
                "main/loss": sum(losses) / len(losses),
                "main/accuracy": sum(accuracies) / len(accuracies),
                "epoch": iteration // per_epoch,
                "iteration": iteration,
                "elapsed_time": time.time() - started,
            }
            if epoch_end:
                val_loss, val_accuracy = _evaluate(model, vx, vy)
                entry["validation/main/loss"] = val_loss
                entry["validation/main/accuracy"] = val_accuracy
            log.append(entry)
            losses, accuracies = [], []
            path.write_text(json.dumps(log, indent=4))


def loop_history(path: Path) -> None:
    torch.manual_seed(1)
    (x, y), (vx, vy) = _data()
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = []
    for epoch in range(1, 31):
        order = torch.randperm(len(x))
        total = 0.0
        for start in range(0, len(x), 64):
            index = order[start : start + 64]
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        val_loss, val_accuracy = _evaluate(model, vx, vy)
        history.append({"epoch": epoch, "train": {"loss": total / len(x)},
                        "val": {"loss": val_loss, "accuracy": val_accuracy}})  # fmt: skip
    path.write_text(json.dumps(history))


def main() -> None:
    chainer_log(OUT / "chainer" / "result" / "log")
    loop_history(OUT / "history.json")


if __name__ == "__main__":
    main()
