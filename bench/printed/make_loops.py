"""Write two hand-written training loops' logs into tests/data/printed/ (a small MLP on
sklearn's digits, trained with torch on the CPU):

- `epoch_batch_loss.csv`: a CSV of one row a batch, `Epoch,Batch,Loss`, its batch counted from
  0 again each epoch (as GAN and tutorial loops write it);
- `epoch_block.log`: each epoch printed on lines of its own, `epoch   3`, then `loss: 4.93` and
  `test accuracy: 27.41%, (...)`.

    python bench/printed/make_loops.py   (needs torch and scikit-learn)
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "printed"


def batch_rows() -> None:
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    with (OUT / "epoch_batch_loss.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Epoch", "Batch", "Loss"])
        for epoch in range(8):
            for batch, idx in enumerate(torch.randperm(1400).split(32)):
                loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                writer.writerow([epoch, batch, loss.item()])


def epoch_blocks() -> None:
    torch.manual_seed(1)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    lines = []
    for epoch in range(1, 41):
        total, batches = 0.0, torch.randperm(1400).split(64)
        for idx in batches:
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        with torch.no_grad():
            right = int((model(x[1400:]).argmax(1) == y[1400:]).sum())
        lines += [f"epoch {epoch:3d}", f"loss: {total / len(batches):.6f}",
                  f"test accuracy: {100 * right / 397:.2f}%, ({right}/397)"]  # fmt: skip
    (OUT / "epoch_block.log").write_text("\n".join(lines) + "\n")


def main() -> None:
    batch_rows()
    epoch_blocks()


if __name__ == "__main__":
    main()
