"""Hyperparameters of a run: from its name (`lr=3e-4_bs=64`, `lr3e-4-bs64`, `lr_0.001`) and
from the files beside its log (Lightning `hparams.yaml`, `config.json|yaml`, `args.json`, the HF
`training_args.json`, MLflow `params/`). Files win over names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

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


def of_run(run: str, source: str) -> dict[str, Any]:
    """The hyperparameters of one run."""
    path = Path(source)
    folder = path if path.is_dir() else path.parent
    found = from_name(run)
    for name in FILES:
        if (folder / name).is_file():
            found.update(_read(folder / name))
    found.update(_mlflow_params(folder))
    return found
