"""An MLflow file store: `mlruns/<experiment>/<run>/metrics/<key>`, one line per value,
`<timestamp ms> <value> <step>`; keys with `/` are subfolders. The run is named from
`meta.yaml` (`run_name`) or the `mlflow.runName` tag. One metric file given as the path is read
alone, named by its key."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import concat, empty, long_frame
from .limits import widest_row
from .options import DEFAULT, ReadOptions
from .source import Source, printable

NAME = "mlflow"


def is_run(folder: Path) -> bool:
    return (folder / "metrics").is_dir() and (folder / "meta.yaml").is_file()


def _text(path: Path) -> str:
    """A small file of the store as text; undecodable bytes or an unreadable file say nothing
    rather than end the walk (the run is then named after its folder)."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def run_label(folder: Path) -> str:
    tag = folder / "tags" / "mlflow.runName"
    if tag.is_file():
        return _text(tag).strip() or folder.name
    match = re.search(r"^run_name:\s*['\"]?(.+?)['\"]?\s*$", _text(folder / "meta.yaml"), re.M)
    return match[1] if match else folder.name


def source(folder: Path) -> Source:
    return Source(str(folder), folder, run_label(folder), format_hint=NAME)


def _metrics_root(path: Path) -> Path | None:
    """The run's `metrics/` folder above a single metric file (`metrics/train/loss`)."""
    return next((p for p in path.parents if p.name == "metrics" and is_run(p.parent)), None)


def _metric_file(file: Path) -> pd.DataFrame:
    """One metric's `<timestamp ms> <value> <step>` lines; a damaged one is named, not the run.
    A line of more fields is refused first: pandas would make the extra ones an index (one
    level each, quadratic: 17,000 fields took 12 s)."""
    try:
        data = file.read_bytes()
        if (fields := widest_row(data, " ")) > 3:
            raise ValueError(f"a line of {fields} fields, at most 3 expected")
        return pd.read_csv(
            io.BytesIO(data), sep=" ", header=None, names=["time", "value", "step"],
            dtype={"time": np.float64, "value": np.float64, "step": np.float64},
        )  # fmt: skip
    except (OSError, ValueError) as e:  # pandas' ParserError is a ValueError
        problem = next(iter(str(e).splitlines()), type(e).__name__)
        raise InputError(printable(str(file)), f"not an MLflow metric file ({problem})") from e


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    path = source.path
    if path is None:
        return False
    return is_run(path) if path.is_dir() else _metrics_root(path) is not None


def _metric_frame(file: Path, root: Path) -> pd.DataFrame | None:
    table = _metric_file(file)
    step = table["step"].fillna(0).to_numpy()  # a line without a step is MLflow's step 0
    table = table[np.abs(step) < 2**62]  # a step no integer holds places its value nowhere
    if table.empty:
        return None
    return long_frame(
        file.relative_to(root).as_posix(),
        table["step"].fillna(0).to_numpy().astype(np.int64),
        table["value"].to_numpy(),
        wall_time=table["time"].to_numpy() / 1000.0,
    )


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    path = source.path
    root = _metrics_root(path) if path is not None and path.is_file() else None
    if root is not None:
        return _metric_frame(path, root) if path.stat().st_size else empty()
    if path is None or not is_run(path):
        raise InputError(source.name, "not an MLflow run folder (no metrics/ and meta.yaml)")
    root = path / "metrics"
    files = sorted(p for p in root.rglob("*") if p.is_file())
    frames = [f for f in (_metric_frame(file, root) for file in files) if f is not None]
    return concat(frames) if frames else empty()
