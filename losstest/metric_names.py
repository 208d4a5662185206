"""Which logged metric is the training loss and which the validation loss, found by name."""

from __future__ import annotations

import re
from collections.abc import Mapping

VAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "dev", "tel", "heldout"}
TRAIN_WORDS = {
    "train",
    "training",
    "step",
    "batch",
    "epoch",
    "lm",
    "total",
    "avg",
    "average",
    "mean",
    "running",
}
LOSS_WORDS = {"loss", "trl", "tel", "nll"}
# What a log without a loss names its objective by (gradient boosting's eval metrics): a loss
# only where no name says `loss`.
OBJECTIVE_WORDS = {"logloss", "mlogloss", "rmse", "mse", "mae", "l1", "l2", "rmsle", "huber"}
PERPLEXITY_WORDS = {"ppl", "perplexity"}  # exp(loss): a loss when nothing else is logged
# Words that make a "loss" column something else: a loss scale, a weight, a part of the loss.
NOT_A_LOSS = {"scale", "scaler", "weight", "coef", "coeff", "scaling", "lambda", "alpha", "beta"}
OTHER_SPLITS = {"test", "testing"}


def words(name: str) -> list[str]:
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def _score(name: str, split: str) -> float:
    """How much a metric name looks like the loss of `split` (`train` or `val`); 0 = not at all."""
    parts = set(words(name))
    if parts & PERPLEXITY_WORDS and not parts & LOSS_WORDS:
        return 0 if (split == "val") != bool(parts & VAL_WORDS) or parts & OTHER_SPLITS else 0.5
    if parts & OBJECTIVE_WORDS and not parts & LOSS_WORDS:
        return 0.1 * _score(" ".join(sorted(parts - OBJECTIVE_WORDS | {"loss"})), split)
    if not parts & LOSS_WORDS or parts & NOT_A_LOSS:
        return 0
    if parts & OTHER_SPLITS:  # `Loss/test` stands for the held-out loss where nothing else does
        return 0.25 if split == "val" and not parts & VAL_WORDS else 0
    is_val = bool(parts & VAL_WORDS)
    if is_val != (split == "val"):
        return 0
    extra = parts - LOSS_WORDS - VAL_WORDS - TRAIN_WORDS
    if extra:
        return 1  # `act_loss`, `aux_loss`: a part or kind of loss
    return 2 if parts & {"step", "epoch", "batch"} else 3


def choose(counts: Mapping[str, int], split: str) -> str | None:
    """The best-named loss metric for a split; among equals, the one logged most often."""
    ranked = [(_score(name, split), n, name) for name, n in counts.items() if n > 0]
    ranked = [r for r in ranked if r[0] > 0]
    if not ranked:
        return None
    return max(sorted(ranked, key=lambda r: r[2]), key=lambda r: (r[0], r[1], -len(r[2])))[2]


def _is_lr(parts: set[str]) -> bool:
    return "lr" in parts or {"learning", "rate"} <= parts


def _is_grad_norm(parts: set[str]) -> bool:
    return "norm" in parts and (parts <= {"norm", "total"} or bool(parts & {"grad", "gradient"}))


SIDE_METRICS = {"lr": _is_lr, "grad_norm": _is_grad_norm}


def find(counts: Mapping[str, int], what: str) -> str | None:
    """The learning rate (`lr`) or gradient norm (`grad_norm`) by name; the most logged wins."""
    matches = [
        (n, -len(name), name) for name, n in counts.items() if SIDE_METRICS[what](set(words(name)))
    ]
    return max(matches)[2] if matches else None
