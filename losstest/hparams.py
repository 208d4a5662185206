"""Hyperparameters of a run: from its name (`lr=3e-4_bs=64`, `lr3e-4-bs64`, `lr_0.001`) and
from the files beside its log (Lightning `hparams.yaml`, `config.json|yaml`, `args.json`, the HF
`training_args.json`, MLflow `params/`) and from the TensorBoard hparams plugin's records in a
run folder's event files. Files win over names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .readers.tensorboard import records

NAME_PAIR = re.compile(
    r"(?P<key>[A-Za-z][A-Za-z_]*?)(?P<sep>=|_)?(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"(?=$|[_/,\-=]|[A-Za-z])"
)
GLUED_KEY = 6  # `lr3e-4`, `bs64`, `wd0.1`: a longer word glued to a number is a name, not a setting
FILES = ("hparams.yaml", "config.json", "config.yaml", "args.json", "training_args.json")
NOT_HPARAMS = {"version", "run", "step", "epoch"}  # numbered folders, not settings


def _number(text: str) -> float | int:
    value = float(text)
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def from_name(name: str) -> dict[str, Any]:
    found = {}
    for part in re.split(r"[/\\\\]", name):
        for m in NAME_PAIR.finditer(part):
            key = m["key"].strip("_").lower()
            glued_word = not m["sep"] and len(key) > GLUED_KEY
            if key and key not in NOT_HPARAMS and not glued_word:
                found[key] = _number(m["value"])
    return found


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, bool | int | float | str) or value is None:
            out[f"{prefix}{key}"] = value
    return out


def _read(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text()
        return _flat(yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text))
    except (OSError, ValueError, yaml.YAMLError):  # a broken file is no reason to stop comparing
        return {}


def _mlflow_params(folder: Path) -> dict[str, Any]:
    params = folder / "params"
    if not params.is_dir():
        return {}
    out: dict[str, Any] = {}
    for file in params.iterdir():
        text = file.read_text().strip()
        try:
            out[file.name] = _number(text)
        except ValueError:
            out[file.name] = text
    return out


HPARAMS_SCAN = 2000  # event records read for hyperparameters: they are written at the start


def _tensorboard_hparams(folder: Path) -> dict[str, Any]:
    """The TensorBoard hparams plugin's session start info, in the run's event files."""
    found: dict[str, Any] = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        with open(path, "rb") as f:
            data = f.read(1 << 20)
        starts, ends, _ = records(data)
        for start, end in list(zip(starts.tolist(), ends.tolist(), strict=True))[:HPARAMS_SCAN]:
            payload = data[start:end]
            if b"_hparams_/session_start_info" in payload:
                found.update(_session_hparams(payload))
    return found


def _session_hparams(payload: bytes) -> dict[str, Any]:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.plugins.hparams import plugin_data_pb2

    out: dict[str, Any] = {}
    for value in Event.FromString(payload).summary.value:
        if value.metadata.plugin_data.plugin_name != "hparams":
            continue
        data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
        for key, v in data.session_start_info.hparams.items():
            kind = v.WhichOneof("kind")
            out[key] = {"number_value": v.number_value, "string_value": v.string_value,
                        "bool_value": v.bool_value}.get(kind)  # fmt: skip
    return out


def of_run(run: str, source: str) -> dict[str, Any]:
    """The hyperparameters of one run."""
    path = Path(source)
    folder = path if path.is_dir() else path.parent
    found = from_name(run)
    if path.is_dir():
        found.update(_tensorboard_hparams(path))
    for name in FILES:
        if (folder / name).is_file():
            found.update(_read(folder / name))
    found.update(_mlflow_params(folder))
    return found
