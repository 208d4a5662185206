"""Write stdout logs in the exact layouts of fairseq, Megatron-LM, DeepSpeed and torchtune
(tools that do not install here), each line built the way the tool's own code builds it (see
SOURCES.md); the numbers follow one made-up learning curve.

    python make.py
"""

import json
import math

UPDATES_PER_EPOCH, EPOCHS, EVERY = 100, 4, 20


def loss_at(update: int) -> float:
    return 2.2 + 7.8 / (1 + update / 40) ** 0.8


def fairseq_inner(update: int) -> dict:
    loss = loss_at(update)
    return {
        "loss": f"{loss:.3f}", "nll_loss": f"{loss - 0.05:.3f}", "ppl": f"{2 ** (loss - 0.05):.2f}",
        "wps": "13160.2", "ups": "3.81", "wpb": "3453.6", "bsz": "127.2", "num_updates": str(update),
        "lr": f"{5e-4 * min(1, update / 50):g}", "gnorm": "1.326", "loss_scale": "16",
        "train_wall": "5", "gb_free": "10.4", "wall": str(update // 4),
    }  # fmt: skip


def fairseq_summary(epoch: int, valid: bool) -> dict:
    update = epoch * UPDATES_PER_EPOCH
    loss = loss_at(update) + (0.15 if valid else 0.1)
    stats = {"loss": f"{loss:.3f}", "nll_loss": f"{loss - 0.05:.3f}",
             "ppl": f"{2 ** (loss - 0.05):.2f}", "wps": "26371.1", "wpb": "3453.6",
             "bsz": "127.2", "num_updates": str(update)}  # fmt: skip
    return stats | ({"best_loss": f"{loss:.3f}"} if valid else {"lr": "0.0005", "gnorm": "1.1"})


def pipes(stats: dict) -> str:
    return " | ".join(f"{k} {v}" for k, v in stats.items())


def commas(stats: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in stats.items())


def fairseq(style: str) -> str:
    """legacy (0.8/0.9: print with a leading `| `), hydra (0.10+: the logging module's
    `<time> | INFO | <tag> | `), json (0.10+ with --log-format json)."""
    lines = []
    stamp = "2021-03-02 10:{:02d}:{:02d} | INFO | {} | "
    for epoch in range(1, EPOCHS + 1):
        if style != "legacy":
            lines.append(
                stamp.format(epoch, 0, "fairseq.trainer") + f"begin training epoch {epoch}"
            )
        for i in range(EVERY, UPDATES_PER_EPOCH + 1, EVERY):
            update = (epoch - 1) * UPDATES_PER_EPOCH + i
            inner = fairseq_inner(update)
            text = f"epoch {epoch:03d}:  {i:5d} / {UPDATES_PER_EPOCH} {commas(inner)}"
            if style == "legacy":
                lines.append(f"| {text}")
            elif style == "hydra":
                lines.append(stamp.format(epoch, i // 2, "train_inner") + text)
            else:
                body = {"epoch": epoch, "update": round(update / UPDATES_PER_EPOCH, 3)} | inner
                lines.append(stamp.format(epoch, i // 2, "train_inner") + json.dumps(body))
        for tag, valid in (("valid", True), ("train", False)):
            stats = fairseq_summary(epoch, valid)
            head = f"epoch {epoch:03d} | valid on 'valid' subset" if valid else f"epoch {epoch:03d}"
            if style == "legacy":
                lines.append(f"| {head} | {pipes(stats)}")
            elif style == "hydra":
                lines.append(stamp.format(epoch, 55, tag) + f"{head} | {pipes(stats)}")
            else:
                body = {"epoch": epoch} | {f"{tag}_{k}": v for k, v in stats.items()}
                lines.append(stamp.format(epoch, 55, tag) + json.dumps(body))
    return "\n".join(lines) + "\n"


def megatron() -> str:
    """megatron/training/training.py `training_log` and `evaluate_and_print_results`."""
    lines = ["using world size: 8, data-parallel size: 2, tensor-model-parallel size: 4",
             "    loss_scale ...................................... None",
             "    log_interval .................................... 10"]  # fmt: skip
    line = "-" * 100
    for it in range(10, 301, 10):
        loss = loss_at(it)
        lines.append(
            f" [2024-05-14 10:{it // 10:02d}:00] iteration {it:8d}/     300 |"
            f" consumed samples: {it * 32:12d} | elapsed time per iteration (ms): 1503.2 |"
            f" throughput per GPU (TFLOP/s/GPU): 120.3 | learning rate: {3e-4:.6E} |"
            f" global batch size:    32 | lm loss: {loss:.6E} | loss scale: 1.0 |"
            f" grad norm: {1.5 + 10 / it:.3f} | number of skipped iterations:   0 |"
            f" number of nan iterations:   0 |"
        )
        if it % 100 == 0:
            val = loss + 0.1
            lines += [line, f" validation loss at iteration {it} on validation set | "
                      f"lm loss value: {val:.6E} | lm loss PPL: {math.exp(val):.6E} | ", line]  # fmt: skip
    return "\n".join(lines) + "\n"


def deepspeed() -> str:
    """deepspeed/runtime/pipe/engine.py `train_batch` (every steps_per_print) and
    deepspeed/runtime/engine.py `_report_progress` (no loss)."""
    lines = []
    for step in range(10, 201, 10):
        lines.append(
            f"[2024-02-01 09:00:{step % 60:02d},123] [INFO] [logging.py:96:log_dist] [Rank 0] "
            f"step={step}, skipped=0, lr=[0.0001], mom=[(0.9, 0.999)]"
        )
        lines.append(
            f"steps: {step} loss: {loss_at(step):0.4f} iter time (s): 0.123 samples/sec: 260.163"
        )
    return "\n".join(lines) + "\n"


def torchtune() -> str:
    """torchtune/training/metric_logging.py `StdoutLogger.log_dict` (also DiskLogger's .txt)."""
    return "".join(
        f"Step {step} | loss:{loss_at(step)} lr:2e-05 tokens_per_second_per_gpu:1523.4 \n"
        for step in range(1, 121)
    )


FILES = {
    "fairseq_legacy/train.log": fairseq("legacy"),
    "fairseq_hydra/train.log": fairseq("hydra"),
    "fairseq_json/train.log": fairseq("json"),
    "megatron_lm.log": megatron(),
    "deepspeed_pipe.out": deepspeed(),
    "torchtune_stdout.txt": torchtune(),
}

if __name__ == "__main__":
    import pathlib

    for name, text in FILES.items():
        path = pathlib.Path(__file__).parent / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
