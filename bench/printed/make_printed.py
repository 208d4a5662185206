"""Write tests/data/printed: the stdout of hand-written training loops, as people print them.

A small MLP on sklearn's digits, trained with torch on the CPU for 30 epochs; each epoch's mean
training loss and validation loss printed the ways tutorials and scripts print them (an f-string
`print`, and Python's `logging` with its default-style timestamp prefix).

    python bench/printed/make_printed.py   (needs torch and scikit-learn)
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "printed"
EPOCHS = 30


def train(lr: float, width: int, train_size: int):
    """(epoch, mean training loss, validation loss) of each epoch."""
    import torch
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16, dtype=torch.float32)
    y = torch.tensor(y)
    x_train, y_train, x_val, y_val = x[:train_size], y[:train_size], x[1400:], y[1400:]
    model = torch.nn.Sequential(
        torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, 10)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, EPOCHS + 1):
        total = 0.0
        order = torch.randperm(len(x_train))
        batches = order.split(32)
        for idx in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            total += loss.item()
        with torch.no_grad():
            val = loss_fn(model(x_val), y_val).item()
        yield epoch, total / len(batches), val


def fit_regression(epochs: int):
    """(epoch, mean training loss, validation loss) of an MLP fitting a smooth noise-free target
    (mean squared error), which it learns almost exactly: losses of a few ten-thousandths."""
    import torch
    from sklearn.datasets import make_friedman1

    torch.manual_seed(0)
    x, y = make_friedman1(n_samples=1200, noise=0.0, random_state=0)
    x = torch.tensor(x, dtype=torch.float32)
    y = torch.tensor(y / 30, dtype=torch.float32).unsqueeze(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(10, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
        torch.nn.Linear(64, 1),
    )  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, epochs + 1):
        total, batches = 0.0, torch.randperm(1000).split(50)
        for idx in batches:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item()
        with torch.no_grad():
            val = torch.nn.functional.mse_loss(model(x[1000:]), y[1000:]).item()
        yield epoch, total / len(batches), val


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # healthy: the whole training set, a moderate rate
    lines = [
        f"Epoch {e}/{EPOCHS} - Train Loss: {t:.4f}, Val Loss: {v:.4f}"
        for e, t, v in train(1e-3, 64, 1400)
    ]
    (OUT / "epoch_print_healthy.log").write_text("\n".join(lines) + "\n")
    # overfitting: 100 training images, a wide layer: validation climbs after ~10 epochs
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(message)s"))
    log = logging.getLogger("train")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for e, t, v in train(1e-2, 512, 100):
        log.info("##### Epoch %d #####", e)
        log.info("Epoch %d - Average Train Loss: %.4f", e, t)
        log.info("Epoch %d - Validation Loss: %.4f", e, v)
    (OUT / "epoch_logging_overfit.log").write_text(stream.getvalue())
    # a regression learnt almost exactly, logged to four decimals through logging's
    # `%(asctime)s %(levelname)s:%(message)s`: the last epochs' losses move by the rounding
    stream = io.StringIO()
    handler.setStream(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s:%(message)s"))
    for e, t, v in fit_regression(300):
        log.info("Epoch %d: Train Loss=%.4f, Val Loss=%.4f", e, t, v)
    (OUT / "regression_rounded.log").write_text(stream.getvalue())


if __name__ == "__main__":
    main()
