"""The training and validation losses found by name, as the tools people train with name them."""

from __future__ import annotations

import pytest

from losstest.metric_names import choose

# (metrics a tool logs, with how often; the training loss; the validation loss)
TOOLS = [
    ({"loss": 100, "eval_loss": 10, "learning_rate": 100, "grad_norm": 100}, "loss", "eval_loss"),  # HF Trainer
    ({"train_loss_step": 90, "train_loss_epoch": 10, "val_loss": 10, "epoch": 100}, "train_loss_step", "val_loss"),  # Lightning
    ({"loss": 30, "val_loss": 30, "accuracy": 30, "val_accuracy": 30}, "loss", "val_loss"),  # Keras
    ({"Loss/train": 100, "Loss/test": 10}, "Loss/train", "Loss/test"),  # PyTorch's TensorBoard tutorial
    ({"Loss/train": 100, "Loss/test": 10, "Loss/val": 10}, "Loss/train", "Loss/val"),
    ({"loss": 100, "test_loss": 10}, "loss", "test_loss"),  # pytorch/examples MNIST
    ({"train_loss": 20, "valid_loss": 20, "accuracy": 20}, "train_loss", "valid_loss"),  # fastai
    ({"train_loss": 30, "eval_loss": 30, "eval_top1": 30}, "train_loss", "eval_loss"),  # timm
    ({"total_loss": 100, "loss_cls": 100, "loss_box_reg": 100}, "total_loss", None),  # detectron2
    ({"train/loss": 100, "val/loss": 10, "lr": 100}, "train/loss", "val/loss"),  # nanoGPT
    ({"lm loss": 100, "validation lm loss": 10}, "lm loss", "validation lm loss"),  # Megatron-LM
    ({"trl": 100, "tel": 10}, "trl", "tel"),  # llm.c
    ({"loss": 100, "loss_scale": 100, "valid/loss": 10, "valid/ppl": 10}, "loss", "valid/loss"),  # fairseq
    ({"ppl": 100}, "ppl", None),  # a perplexity alone stands for the loss
    ({"train-logloss": 100, "validation-logloss": 100}, "train-logloss", "validation-logloss"),  # XGBoost
    ({"training's l2": 100, "valid_1's l2": 100}, "training's l2", "valid_1's l2"),  # LightGBM
    ({"loss": 30, "rmse": 30, "val_loss": 30, "val_rmse": 30}, "loss", "val_loss"),  # a named loss first
]  # fmt: skip


@pytest.mark.parametrize("counts, train, val", TOOLS)
def test_the_losses_of_each_tool_are_found_by_name(counts, train, val):
    assert choose(counts, "train") == train
    assert choose(counts, "val") == val


def test_a_test_loss_is_never_the_training_loss():
    assert choose({"test_loss": 10}, "train") is None
