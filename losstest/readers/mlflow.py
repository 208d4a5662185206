"""An MLflow file store: `mlruns/<experiment>/<run>/metrics/<key>`, one line per value,
`<timestamp ms> <value> <step>`; keys with `/` are subfolders. The run is named from
`meta.yaml` (`run_name`) or the `mlflow.runName` tag."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import concat, empty, long_frame
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "mlflow"


def is_run(folder: Path) -> bool:
    return (folder / "metrics").is_dir() and (folder / "meta.yaml").is_file()


def run_label(folder: Path) -> str:
    tag = folder / "tags" / "mlflow.runName"
    if tag.is_file():
        return tag.read_text().strip() or folder.name
    match = re.search(
        r"^run_name:\s*['\"]?(.+?)['\"]?\s*$", (folder / "meta.yaml").read_text(), re.M
    )
    return match[1] if match else folder.name


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return source.path is not None and source.path.is_dir() and is_run(source.path)


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    if source.path is None or not is_run(source.path):
        raise InputError(source.name, "not an MLflow run folder (no metrics/ and meta.yaml)")
    root = source.path / "metrics"
    frames = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        table = pd.read_csv(
            io.BytesIO(file.read_bytes()), sep=" ", header=None, names=["time", "value", "step"],
            dtype={"time": np.float64, "value": np.float64},
        )  # fmt: skip
        if table.empty:
            continue
        steps = table["step"].fillna(0).to_numpy(np.int64)
        frames.append(
            long_frame(
                file.relative_to(root).as_posix(),
                steps,
                table["value"].to_numpy(),
                wall_time=table["time"].to_numpy() / 1000.0,
            )  # fmt: skip
        )
    return concat(frames) if frames else empty()
