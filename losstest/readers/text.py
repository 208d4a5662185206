"""Plain-text stdout of training scripts, read with built-in patterns or `--pattern REGEX`.

Each dialect is a regular expression over the whole text; a match is one record: a step and
metrics. Lines that merely mention a loss (`loss_scale ...`, `OVERFLOW ... Skipping step`)
match no dialect: every dialect needs a step and a number right after each key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from ..errors import InputError
from ..frame import from_columns
from ._table import columns_of
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "text"
NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)"
# `key: value`, `key=value` or `key value`, the value ending where the number ends (no unit).
# A key starts after a non-key character and is taken whole (`*+`): one try per token, so a
# long token costs linear time, not quadratic.
PAIR = re.compile(
    rf"(?<![\w./-])(?P<key>[A-Za-z_][\w./-]*+)(?:\s*[:=]\s*|\s+)(?P<value>{NUMBER})"
    r"(?=[\s,|;)}\]]|$)",
    re.I,
)
STEP_KEYS = ("global_step", "step", "steps", "iteration", "iter", "it")
ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FAIRSEQ_NOTE = "fairseq logs losses in base 2 (ppl = 2^loss); read as logged"
Record = dict[str, float]


def _pairs(text: str) -> Record:
    return {m["key"]: float(m["value"]) for m in PAIR.finditer(text)}


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if re.fullmatch(NUMBER, text, re.I) else None


def _fields(text: str) -> Record:
    """`|`-separated fields, each `key: value`, `key=value` or `key value`; a key may hold
    spaces (`lm loss: 7.1E+00`) and a value may be `N/ M` (`iteration 100/ 5000`)."""
    record = {}
    for field in text.split("|"):
        field = field.strip()
        key, _, value = field.rpartition(":" if ":" in field else "=" if "=" in field else " ")
        number = _number(value.split("/")[0])
        if key.strip() and number is not None:
            record[key.strip()] = number
    return record


def as_printed(text: str) -> str:
    """The text as a terminal shows it: ANSI colour codes dropped, and of a line rewritten by
    carriage returns (a progress bar) only its last update."""
    text = ANSI_CODE.sub("", text)
    if "\r" not in text:
        return text
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


@dataclass(frozen=True)
class Dialect:
    name: str
    pattern: re.Pattern
    record: Callable[[re.Match], Record | None]
    note: str | None = None  # said once about every log read in this dialect


def _with_step(match: re.Match) -> Record:
    return {"step": float(match["step"]), **_pairs(match["rest"])}


def _named(match: re.Match) -> Record:
    return {k: float(v) for k, v in match.groupdict().items() if v is not None}


def _stepped(pairs: Record) -> Record | None:
    """A record of a line's pairs if one is a step and one a loss, else None."""
    step = next((k for k in pairs for s in STEP_KEYS if k.lower() == s), None)
    if step is None or not any("loss" in k.lower() for k in pairs):
        return None
    return {"step" if k == step else k: v for k, v in pairs.items()}


def _generic(match: re.Match) -> Record | None:
    return _stepped(_pairs(match[0]))


def _pipe_fields(match: re.Match) -> Record | None:
    return _stepped(_fields(match[0]))


def _hf_dict(match: re.Match) -> Record:
    return {
        m[1]: float(m[2]) for m in re.finditer(rf"'(\w+)': ({NUMBER})(?=[,}}])", match[0], re.I)
    }


def _word_lm(match: re.Match) -> Record:
    epoch, batch, total = int(match["epoch"]), int(match["batch"]), int(match["total"])
    return {"step": (epoch - 1) * total + batch, "loss": float(match["loss"]), "epoch": epoch}


def _epoch_batches(match: re.Match) -> Record:
    """`Epoch [2/5], Step [100/600], Loss: 0.23`: the step counts batches over all epochs."""
    epoch, batch, total = int(match["epoch"]), int(match["batch"]), int(match["total"])
    return {"step": (epoch - 1) * total + batch, "epoch": epoch, **_pairs(match["rest"])}


def _mnist(match: re.Match) -> Record:
    """pytorch/examples MNIST: the step counts samples seen; the test set's loss and accuracy
    go to the step before them."""
    if match["test_loss"] is not None:
        correct, total = int(match["correct"]), int(match["count"])
        return {"test_loss": float(match["test_loss"]), "test_accuracy": correct / total}
    epoch, seen, total = int(match["epoch"]), int(match["seen"]), int(match["total"])
    return {"step": (epoch - 1) * total + seen, "epoch": epoch, "loss": float(match["loss"])}


def _json_object(text: str) -> dict:
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}  # a line garbled in writing: no record
    return parsed if isinstance(parsed, dict) else {}


STEP_WORD = re.compile(r"\b(?:step|steps|iter|iteration|batch|global_step)\s*[:=\[]?\s*\d", re.I)
FIELD = re.compile(rf"^(?P<key>[A-Za-z_][\w ./-]*?)\s*[:=]?\s*(?P<value>{NUMBER})$", re.I)


def _epoch_line(match: re.Match) -> Record | None:
    """Fields split at `,` `|` `;` ` - ` or a tab, each `key: value` (a key may hold spaces:
    `Train Loss: 1.31`), or `key: value` pairs separated by spaces only."""
    if STEP_WORD.search(match["rest"]):
        return None  # a line of steps within the epoch: the dialects of steps read it
    record: Record = {"step": float(match["step"])}
    for field in re.split(r"\s*(?:[,|;\t]| - )\s*", match["rest"].strip(" \t:,|-")):
        whole = FIELD.match(field.strip())
        record |= {whole["key"]: float(whole["value"])} if whole else _pairs(field)
    return record if any("loss" in k.lower() for k in record) else None


def _epoch_block(match: re.Match) -> Record | None:
    pairs = _pairs(match["rest"])
    return (
        {"step": float(match["step"])} | pairs if any("loss" in k.lower() for k in pairs) else None
    )


def _fairseq(match: re.Match) -> Record:
    """One fairseq line: progress (`train_inner`: bare names), an epoch's training summary
    (`train/`) or a validation (`<subset>/`), stepped by `num_updates`."""
    if match["json"]:
        tag, stats = match["tag"], _json_object(match["json"])
        values = {k.removeprefix(f"{tag}_"): _number(str(v)) for k, v in stats.items()}
        values = {k: v for k, v in values.items() if v is not None and k != "update"}
        split = "" if tag == "train_inner" else f"{tag}/"
    else:
        rest = match["rest"]
        subset = re.search(r"valid on '([^']+)' subset", rest)
        values = _pairs(rest) if rest.startswith(":") else _fields(rest)
        values["epoch"] = float(match["epoch"])
        split = "" if rest.startswith(":") else f"{subset[1]}/" if subset else "train/"
    step, epoch = values.pop("num_updates", None), values.pop("epoch", None)
    record = {split + k: v for k, v in values.items()}
    record.update({"step": step} if step is not None else {})
    record.update({"epoch": epoch} if epoch is not None else {})
    return record


def _megatron(match: re.Match) -> Record:
    if match["step"] is not None:
        return {"step": float(match["step"]), **_fields(match["rest"])}
    split = match["split"] or "validation"
    values = _fields(match["val_rest"])
    return {"step": float(match["val_step"])} | {
        f"{split} {k.removesuffix(' value')}": v for k, v in values.items()
    }


NUM = rf"(?:{NUMBER})"
DIALECTS = (
    # llm.c / early modded-nanogpt: `s:100 trl:3.28 lr:0.0006 norm:0.3`, `s:100 tel:3.3`
    Dialect(
        "llm.c", re.compile(r"^s:(?P<step>\d+) (?P<rest>.*\b(?:trl|tel):.*)$", re.M), _with_step
    ),
    # modded-nanogpt: `step:125/20344 val_loss:6.2335 train_time:196726ms step_avg:1710.66ms`
    Dialect(
        "modded-nanogpt", re.compile(r"^step:(?P<step>\d+)/\d+ (?P<rest>.*)$", re.M), _with_step
    ),
    # nanoGPT: `iter 100: loss 4.2345, time ...` and `step 500: train loss 1.9, val loss 2.0`
    Dialect(
        "nanogpt",
        re.compile(
            rf"^(?:iter (?P<step>\d+): loss (?P<loss>{NUM})"
            rf"|step (?P<step_eval>\d+): train loss (?P<train_loss>{NUM}), "
            rf"val loss (?P<val_loss>{NUM}))",
            re.M | re.I,
        ),
        lambda m: {k.replace("step_eval", "step"): v for k, v in _named(m).items()},
    ),
    # pytorch/examples word_language_model: `| epoch 1 | 200/2983 batches | ... | loss 5.12 |`
    Dialect(
        "word-language-model",
        re.compile(
            rf"\|\s*epoch\s+(?P<epoch>\d+)\s*\|\s*(?P<batch>\d+)/\s*(?P<total>\d+) batches.*?"
            rf"\|\s*loss\s+(?P<loss>{NUM})",
            re.I,
        ),
        _word_lm,
    ),
    # ImageNet-example style: `Epoch: [3][ 10/391]  Time ... Loss 3.4360e+00 (3.4360e+00)`
    Dialect(
        "imagenet-example",
        re.compile(
            rf"Epoch: \[(?P<epoch>\d+)\]\[\s*(?P<batch>\d+)/(?P<total>\d+)\].*?Loss (?P<loss>{NUM})"
        ),
        lambda m: {
            "step": int(m["epoch"]) * int(m["total"]) + int(m["batch"]),
            "loss": float(m["loss"]),
            "epoch": int(m["epoch"]),
        },
    ),
    # printed Hugging Face Trainer dicts: `{'loss': 2.3, 'learning_rate': 5e-05, 'epoch': 0.1}`
    Dialect(
        "hf-dict", re.compile(r"^\{'(?:loss|eval_\w+|learning_rate)': .*\}\s*$", re.M), _hf_dict
    ),
    # DeepSpeed-Chat evaluation: `Evaluating perplexity, Epoch 1/16 *****` then `ppl: 2.01`
    Dialect(
        "deepspeed-chat",
        re.compile(rf"Epoch (?P<step>\d+)/\d+ \*+\s*\n\s*ppl: (?P<ppl>{NUM})", re.I),
        _named,
    ),
    # Keras `model.fit`: `Epoch 3/30`, then `38/38 - 0s - 3ms/step - loss: 1.31 - val_loss: 1.4`
    # (verbose=2), or a progress bar whose last update holds the same fields (verbose=1)
    Dialect(
        "keras-fit",
        re.compile(
            r"^Epoch (?P<step>\d+)/\d+[ \t]*\n(?P<rest>[^\n]*? - [^\n]*?\bloss: [^\n]*)", re.M
        ),
        _with_step,
    ),
    # fairseq: `| epoch 001:  10 / 100 loss=5.2, ..., num_updates=10`, `| epoch 001 | loss 5.2 |
    # ... | num_updates 11`, `| epoch 001 | valid on 'valid' subset | loss ...`; since 2020 each
    # line starts `<time> | INFO | train_inner |`; `--log-format json` logs a dict instead
    Dialect(
        "fairseq",
        re.compile(
            r"^(?:[^\n|]*\|)+?\s*(?:epoch (?P<epoch>\d+)(?P<rest>(?::|\s*\|)[^\n]*)"
            r"|(?P<tag>train_inner|train|valid) \| (?P<json>\{[^\n]*\}))\s*$",
            re.M,
        ),
        _fairseq,
        FAIRSEQ_NOTE,
    ),
    # Megatron-LM (and Megatron-DeepSpeed): ` iteration  100/ 5000 | consumed samples: ... |
    # lm loss: 7.1E+00 | ...` and ` validation loss at iteration 100 | lm loss value: 6.9E+00 |`
    Dialect(
        "megatron-lm",
        re.compile(
            r"^[^\n]*?(?:\biteration\s+(?P<step>\d+)/\s*\d+\s*\|(?P<rest>[^\n]*)"
            r"|validation loss at iteration (?P<val_step>\d+)(?: on (?P<split>\w+) set)?\s*\|"
            r"(?P<val_rest>[^\n]*))$",
            re.M,
        ),
        _megatron,
    ),
    # a training loop's own print, one line an epoch: `Epoch 3/30 - Train Loss: 1.31, Val Loss:
    # 1.40`, `Epoch [3/30], Loss: 1.31`, `epoch 3 | train loss 1.31 | val loss 1.40`, `Epoch 3:
    # loss=1.31 val_loss=1.40`, also after a logging prefix (`... - INFO - Epoch 3 - ...`,
    # `... INFO:Epoch 3: Train Loss=1.31, Val Loss=1.40`)
    Dialect(
        "epoch-line",
        re.compile(
            r"^(?:[^\n]*?(?: - |\| |\] |:))??[ \t]*epoch[ \t]*\[?[ \t]*(?P<step>\d+)"
            r"(?:[ \t]*/[ \t]*\d+)?[ \t]*\]?(?P<rest>[ \t]*[:,|-][^\n]*)$",
            re.M | re.I,
        ),
        _epoch_line,
    ),
    # an epoch's numbers on the lines below its own heading: `epoch   3`, then `loss: 4.93` and
    # `test accuracy: 27.41%`, until the next heading
    Dialect(
        "epoch-block",
        re.compile(
            r"^[ \t]*epoch[ \t:=#]*(?P<step>\d+)(?:[ \t]*/[ \t]*\d+)?[ \t]*\n"
            r"(?P<rest>(?:(?![ \t]*epoch\b)[^\n]*(?:\n|$)){1,20})",
            re.M | re.I,
        ),
        _epoch_block,
    ),
    # PyTorch tutorials: `Epoch [1/5], Step [100/600], Loss: 0.2345` (also `Iter`, `Batch`)
    Dialect(
        "epoch-step-brackets",
        re.compile(
            r"\bEpoch \[(?P<epoch>\d+)/\d+\],?\s*(?:Step|Iter|Iteration|Batch) "
            r"\[\s*(?P<batch>\d+)/(?P<total>\d+)\],?(?P<rest>[^\n]*)",
            re.I,
        ),
        _epoch_batches,
    ),
    # pytorch/examples MNIST: `Train Epoch: 1 [640/60000 (1%)]\tLoss: 1.359` and
    # `Test set: Average loss: 0.0498, Accuracy: 9839/10000 (98%)`
    Dialect(
        "pytorch-mnist",
        re.compile(
            rf"Train Epoch: (?P<epoch>\d+) \[(?P<seen>\d+)/(?P<total>\d+) [^\]\n]*\]\s*"
            rf"Loss: (?P<loss>{NUM})"
            rf"|Test set: Average loss: (?P<test_loss>{NUM}), "
            rf"Accuracy: (?P<correct>\d+)/(?P<count>\d+)"
        ),
        _mnist,
    ),
    # gradient boosting, a line a round: XGBoost `[10]\ttrain-logloss:0.31\tvalidation-logloss:0.3`,
    # LightGBM `[10]\ttraining's binary_logloss: 0.31\tvalid_1's binary_logloss: 0.3`
    Dialect(
        "boosting",
        re.compile(rf"^\[(?P<step>\d+)\](?P<rest>(?:\t[^\t\n:]+:\s*{NUM})+)\s*$", re.M),
        lambda match: {"step": float(match["step"])} | _fields(match["rest"].replace("\t", "|")),
    ),
    # `|`-separated fields whose keys may hold spaces: `Step 100 | Train Loss: 2.5 | Val Loss: 2.7`
    Dialect("pipe-fields", re.compile(r"^[^\n|]*\|[^\n|]*\|[^\n]*$", re.M), _pipe_fields),
    # anything with a step and a loss as `key: value`, `key=value` or `key value` pairs
    Dialect(
        "key-value",
        re.compile(r"^.*\b(?:global_step|step|iteration|iter|it)\b.*$", re.M | re.I),
        _generic,
    ),
)


def _records(dialect: Dialect, text: str) -> Iterator[Record]:
    for match in dialect.pattern.finditer(text):
        record = dialect.record(match)
        if record and len(record) > 1:
            yield record


def best_dialect(text: str, pattern: str | None = None) -> tuple[Dialect, list[Record]] | None:
    """The dialect that reads the most records from the text (the first among equals), and
    those records."""
    if pattern:
        dialect = Dialect("pattern", re.compile(pattern, re.M), _named)
        return dialect, list(_records(dialect, text))
    read = [(list(_records(d, text)), -i, d) for i, d in enumerate(DIALECTS)]
    records, _, dialect = max(read, key=lambda r: (len(r[0]), r[1]))
    return (dialect, records) if len(records) >= 2 else None


def _head_text(source: Source) -> str | None:
    head = source.head()
    if b"\x00" in head[:4096]:
        return None
    return as_printed(head.decode("utf-8", "replace").replace("\r\n", "\n"))


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    text = _head_text(source)
    return text is not None and best_dialect(text, options.pattern) is not None


def mostly_log(source: Source, options: ReadOptions = DEFAULT) -> bool:
    """Whether a file of no log suffix (`.md`, none) is a log: at least 5 records, and records
    in at least a fifth of its head's lines (a README quoting a few log lines is no log)."""
    text = _head_text(source)
    best = best_dialect(text, options.pattern) if text is not None else None
    lines = sum(1 for line in text.splitlines() if line.strip()) if text else 0
    return best is not None and len(best[1]) >= 5 and len(best[1]) >= 0.2 * lines


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    text = as_printed(source.text().replace("\r\n", "\n"))
    if not text.endswith(("\n", "\r")):
        text = text[: text.rfind("\n") + 1]  # the last line may still be being written
    try:
        best = best_dialect(text, options.pattern)
    except re.error as e:
        raise InputError(source.name, f"--pattern is not a valid regular expression ({e})") from e
    if best is None:
        raise InputError(source.name, "no line matches a known training-log pattern")
    dialect, records = best
    if options.pattern and "step" not in dialect.pattern.groupindex:
        raise InputError(source.name, "--pattern needs a named group `step`")
    if dialect.note:
        source.warnings.append(f"{source.name}: {dialect.note}")
    columns = columns_of(records)
    return from_columns(columns, step_name="step" if "step" in columns else None)
