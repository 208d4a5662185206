"""Tiny GPT-2 character models (transformers' GPT2Config, random init: nothing is downloaded)
trained by the Hugging Face Trainer on standard-library source, with the Trainer's own
`trainer_state.json` (log_history) kept; from batch 4 on, tiny BERT classifiers (BertConfig,
random init) telling which standard-library module a line of source comes from.

    python bench/families/hf_runs.py OUT_DIR [--only NAME ...]
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import (  # noqa: E402
    STDLIB_MODULES,
    Recorder,
    Run,
    Writer,
    held_out_batch,
    main_for,
    single_thread,
    source_lines,
    stdlib_text,
)

CONTEXT = 64


@dataclass(frozen=True)
class Setup:
    steps: int = 400
    lr: float = 3e-3
    train_chars: int | None = None  # a small training text, for overfitting
    pretrain_steps: int = 0  # unlogged steps on other text first: the logged part fine-tunes
    max_grad_norm: float = 1.0
    scheduler: str = "cosine"
    warmup_steps: int = 20
    cycles: int = 1  # of the cosine_with_restarts schedule
    train_lines: int | None = None  # the BERT classifier's training lines (a few: overfitting)
    seed: int = 0


class Windows(torch.utils.data.Dataset):
    def __init__(self, ids: torch.Tensor, count: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.starts = torch.randint(len(ids) - CONTEXT, (count,), generator=g)
        self.ids = ids

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> dict:
        chunk = self.ids[self.starts[i] : self.starts[i] + CONTEXT]
        return {"input_ids": chunk, "labels": chunk}


def texts() -> tuple[str, str]:
    """The standard-library text of the other families, and another part of the library for
    the fine-tunes."""
    import email.message
    import http.client
    import inspect

    return stdlib_text(), inspect.getsource(email.message) + inspect.getsource(http.client)


def trainer_for(model, setup: Setup, out: Path, train_set, eval_set, steps: int, log: bool):
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(
        output_dir=str(out / "trainer"), max_steps=steps, per_device_train_batch_size=16,
        learning_rate=setup.lr, lr_scheduler_type=setup.scheduler, warmup_steps=setup.warmup_steps,
        lr_scheduler_kwargs={"num_cycles": setup.cycles} if setup.cycles > 1 else {},
        max_grad_norm=setup.max_grad_norm, logging_steps=5, eval_strategy="steps" if log else "no",
        eval_steps=25, save_strategy="no", report_to=[], use_cpu=True, seed=setup.seed,
        disable_tqdm=True, dataloader_num_workers=0,
    )  # fmt: skip
    return Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set)


def train(run: Run, out: Path) -> Recorder:
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    setup: Setup = run.options["setup"]
    single_thread(setup.seed)
    base, other = texts()
    chars = sorted(set(base + other))
    encode = lambda text: torch.tensor([chars.index(c) for c in text])  # noqa: E731
    config = GPT2Config(vocab_size=len(chars), n_positions=CONTEXT, n_embd=64, n_layer=2, n_head=4)
    model = GPT2LMHeadModel(config)
    text = base
    if setup.pretrain_steps:
        ids = encode(base)
        trainer_for(model, setup, out, Windows(ids, 16 * setup.pretrain_steps, 1), None,
                    setup.pretrain_steps, log=False).train()  # fmt: skip
        text = other
    ids = encode(text)
    split = int(0.9 * len(ids))
    train_ids = ids[:split][: setup.train_chars] if setup.train_chars else ids[:split]
    trainer = trainer_for(model, setup, out, Windows(train_ids, 16 * setup.steps, 2),
                          Windows(ids[split:], 128, 3), setup.steps, log=True)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.train()
    return recorded(trainer, out)


def recorded(trainer, out: Path) -> Recorder:
    """Keeps the Trainer's own log and gives its losses to the label check."""
    trainer.state.save_to_json(str(out / "trainer_state.json"))
    recorder = Recorder(Writer())
    for entry in trainer.state.log_history:
        for key, name in (("loss", "loss"), ("eval_loss", "val_loss")):
            if key in entry:
                recorder.log(entry["step"], {name: entry[key]})
    return recorder


class Lines(torch.utils.data.Dataset):
    """Lines of source as character ids (0 pads them to CONTEXT), with their module's label."""

    def __init__(self, lines: list[str], labels, chars: list[str]) -> None:
        self.ids = torch.zeros(len(lines), CONTEXT, dtype=torch.long)
        for row, line in enumerate(lines):
            codes = [chars.index(c) + 1 for c in line[:CONTEXT]]
            self.ids[row, : len(codes)] = torch.tensor(codes)
        self.labels = torch.as_tensor(labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        ids = self.ids[i]
        return {"input_ids": ids, "attention_mask": (ids > 0).long(), "labels": self.labels[i]}


def train_classifier(run: Run, out: Path) -> Recorder:
    from transformers import BertConfig, BertForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    setup: Setup = run.options["setup"]
    single_thread(setup.seed)
    x, y, vx, vy = source_lines(setup.seed, setup.train_lines)
    chars = sorted(set("".join(x) + "".join(vx)))
    config = BertConfig(vocab_size=len(chars) + 1, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128,
                        max_position_embeddings=CONTEXT, num_labels=len(STDLIB_MODULES))  # fmt: skip
    model = BertForSequenceClassification(config)
    evaluation = Lines(vx[:256], vy[:256], chars)
    trainer = trainer_for(model, setup, out, Lines(x, y, chars), evaluation, setup.steps, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.train()
    return recorded(trainer, out)


def bert_run(name, verdict, kinds, reason, **setup) -> Run:
    return Run(name, "bert_cls", "hf_trainer", verdict, tuple(kinds), reason, train_classifier,
               {"setup": Setup(**setup)})  # fmt: skip


def gpt2_run(name, verdict, kinds, reason, **setup) -> Run:
    return Run(name, "gpt2", "hf_trainer", verdict, tuple(kinds), reason, train,
               {"setup": Setup(**setup)})  # fmt: skip


RUNS = [
    gpt2_run("gpt2_pretrain", "pass", [], "a 2-layer GPT-2 from random init, warmup then cosine"),
    gpt2_run("gpt2_finetune", "pass", [], "pre-trained unlogged on one part of the library, then fine-tuned on another: the logged loss improves only a few percent", pretrain_steps=400, steps=150, lr=5e-4, warmup_steps=10),
    gpt2_run("gpt2_overfit", "fail", ["overfitting"], "3,000 training characters for 500 steps: validation climbs steadily", train_chars=3000, steps=500, scheduler="constant"),
    gpt2_run("gpt2_finetune_seed1", "pass", [], "another fine-tune after unlogged pre-training: a few percent better", pretrain_steps=400, steps=150, lr=5e-4, warmup_steps=10, seed=1),
    gpt2_run("gpt2_restarts", "pass", [], "the Trainer's cosine_with_restarts schedule: the loss bumps up at each restart", scheduler="cosine_with_restarts", cycles=3, steps=450, seed=2),
]  # fmt: skip

# batch 3: held out of the retuning (see torch_runs.py)
RUNS += held_out_batch(3, [
    gpt2_run("gpt2_finetune_lowlr", "pass", [], "pre-trained unlogged for 300 steps, then fine-tuned at lr 3e-4 on another part of the library: a few percent better", pretrain_steps=300, steps=120, lr=3e-4, warmup_steps=5, seed=3),
    gpt2_run("gpt2_plateau", "fail", ["plateau"], "lr 1e-7, constant: the loss never moves from its value at initialisation", lr=1e-7, scheduler="constant", warmup_steps=0, steps=200, seed=4),
])  # fmt: skip


# batch 4: held out (see torch_runs.py)
RUNS += held_out_batch(4, [
    bert_run("bert_cls_healthy", "pass", [], "a 2-layer BERT from random init classifying lines of source by module, warmup then cosine", steps=400, lr=1e-3, seed=68),
    bert_run("bert_cls_overfit", "fail", ["overfitting"], "the BERT classifier on 48 training lines for 400 steps at a constant lr: validation climbs steadily", train_lines=48, steps=400, lr=1e-3, scheduler="constant", seed=69),
])  # fmt: skip


if __name__ == "__main__":
    main_for(RUNS)
