"""A real run whose logged loss is non-finite at two batches and finite again after them: an
MLP on sklearn's digits trained in float16 under torch's GradScaler, two batches of which come
from a shard whose pixels were scaled x100,000 by mistake, so their logits overflow float16; the
scaler skips those steps and the run goes on. Writes tests/data/amp/skipped_steps.jsonl.

    python bench/amp/make_skipped.py   (needs torch and scikit-learn)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "amp" / "skipped_steps.jsonl"
BAD_BATCHES = (300, 700)
STEPS = 1000


def main() -> None:
    torch.manual_seed(0)
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as log:
        for step in range(1, STEPS + 1):
            index = torch.randint(0, len(x), (32,))
            batch = x[index] * (1e5 if step in BAD_BATCHES else 1.0)
            with torch.autocast("cpu", dtype=torch.float16):
                loss = torch.nn.functional.cross_entropy(model(batch), y[index])
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)  # skipped when the gradients are not finite
            scaler.update()
            if step % 2 == 0 or step in BAD_BATCHES:
                log.write(
                    json.dumps({"step": step, "loss": loss.item(), "scale": scaler.get_scale()})
                    + "\n"
                )


if __name__ == "__main__":
    main()
