"""A real learning-rate sweep for `losstest compare`: 4 learning rates x 2 seeds of the tiny
transformer of train.py, each run in `lr=<lr>_seed=<seed>/metrics.jsonl`.

    python bench/realruns/sweep.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from train import Regime, train

LEARNING_RATES = (3e-4, 1e-3, 3e-3, 10.0)  # the last one, without clipping, diverges
SEEDS = (0, 1)


def main() -> None:
    out = Path(sys.argv[1])
    torch.set_num_threads(2)
    for lr in LEARNING_RATES:
        for seed in SEEDS:
            regime = Regime(steps=300, lr=lr, seed=seed, warmup=20, clip=None if lr >= 1 else 1.0)
            train(f"lr={lr:g}_seed={seed}", regime, out, "jsonl")


if __name__ == "__main__":
    main()
