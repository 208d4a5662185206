"""A DVCLive folder (`dvclive/` by default): one TSV per metric under `plots/metrics/`, named
by its path (`plots/metrics/train/loss.tsv` holds `step\tloss`, and `timestamp` when asked
for), beside `metrics.json` with the last values only. The folder, or its `metrics.json`, is
the run."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import concat, empty, long_frame
from .limits import widest_row
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "dvclive"
PLOTS = Path("plots") / "metrics"


def is_run(folder: Path) -> bool:
    return (folder / PLOTS).is_dir() and (folder / "metrics.json").is_file()


def source(folder: Path) -> Source:
    label = folder.parent.name if folder.name == "dvclive" and folder.parent.name else folder.name
    return Source(str(folder), folder, label, format_hint=NAME)


def _folder(source: Source) -> Path | None:
    path = source.path
    if path is not None and path.name == "metrics.json":
        path = path.parent
    return path if path is not None and is_run(path) else None


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    return _folder(source) is not None


def _metric_table(file: Path) -> pd.DataFrame:
    """One metric's table; a row wider than the header is named first: pandas would make the
    extra fields an index, one level each (17,000 fields took 3.7 s)."""
    data = file.read_bytes()
    header = data[: data.find(b"\n")].count(b"\t") + 1
    if (fields := widest_row(data, "\t")) > header:
        raise InputError(str(file), f"a row of {fields} fields under a header of {header}")
    return pd.read_csv(io.BytesIO(data), sep="\t")


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    folder = _folder(source)
    if folder is None:
        raise InputError(source.name, "not a DVCLive folder (no plots/metrics/ and metrics.json)")
    frames = []
    for file in sorted((folder / PLOTS).rglob("*.tsv")):
        table = _metric_table(file)
        value = [c for c in table.columns if c not in ("step", "timestamp")]
        if "step" not in table.columns or len(value) != 1 or table.empty:
            continue
        table = table[np.abs(table["step"].to_numpy(dtype=float)) < 2.0**63]  # cut short, or inf
        frames.append(
            long_frame(
                file.relative_to(folder / PLOTS).with_suffix("").as_posix(),
                table["step"].to_numpy(dtype=np.int64),
                table[value[0]].to_numpy(dtype=float),
                wall_time=table["timestamp"].to_numpy() / 1000 if "timestamp" in table else None,
            )
        )
    return concat(frames) if frames else empty()
