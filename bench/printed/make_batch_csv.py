"""Write tests/data/printed/epoch_batch_loss.csv: a hand-written training loop's CSV of one row
a batch, `Epoch,Batch,Loss`, its batch counted from 0 again each epoch (as GAN and tutorial
loops write it). A small MLP on sklearn's digits, trained with torch on the CPU.

    python bench/printed/make_batch_csv.py   (needs torch and scikit-learn)
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "printed" / "epoch_batch_loss.csv"


def main() -> None:
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    with OUT.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Epoch", "Batch", "Loss"])
        for epoch in range(8):
            for batch, idx in enumerate(torch.randperm(1400).split(32)):
                loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                writer.writerow([epoch, batch, loss.item()])


if __name__ == "__main__":
    main()
