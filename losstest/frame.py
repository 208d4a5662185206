"""The one canonical frame every reader returns and every detector reads.

Long and tidy, like tbparse: one row per logged value, in the order it was written.

    run       category  run name (a file or directory may hold several runs)
    metric    category  metric name as logged (`loss`, `eval_loss`, ...)
    step      int64     training step
    value     float64   NaN and +-inf are kept: they are findings, not missing data
    wall_time float64   seconds since the epoch; only where the format has it
    epoch     float64   only where the format has it

Missing values (an eval-only row has no `loss`) are simply absent rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

COLUMNS = ("run", "metric", "step", "value", "wall_time", "epoch")

STEP_NAMES = (
    "step", "global_step", "_step", "trainer/global_step", "train/global_step",
    "iteration", "iter", "it", "steps", "num_steps", "training_iteration", "batch", "epoch",
)  # fmt: skip
EPOCH_NAMES = ("epoch", "epochs", "train/epoch")
TIME_NAMES = ("wall_time", "walltime", "timestamp", "_timestamp", "time")


def long_frame(
    metric: str | np.ndarray | Sequence[str] | pd.Categorical,
    step: np.ndarray,
    value: np.ndarray,
    *,
    run: str | np.ndarray | Sequence[str] = "",
    wall_time: np.ndarray | None = None,
    epoch: np.ndarray | None = None,
) -> pd.DataFrame:
    """Build the canonical frame from parallel arrays (row order = write order)."""
    n = len(value)

    def category(x: str | np.ndarray | Sequence[str] | pd.Categorical) -> pd.Categorical:
        if isinstance(x, pd.Categorical):
            return x
        if isinstance(x, str):
            return single(x, n)
        return pd.Categorical(np.asarray(x, dtype=object))

    columns = {
        "run": category(run),
        "metric": category(metric),
        "step": np.asarray(step, dtype=np.int64),
        "value": np.asarray(value, dtype=np.float64),
    }
    for name, extra in (("wall_time", wall_time), ("epoch", epoch)):
        if extra is not None:
            columns[name] = np.asarray(extra, dtype=np.float64)
    return pd.DataFrame(columns, copy=False)


def single(name: str, n: int) -> pd.Categorical:
    """A categorical column holding one value n times."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [name], validate=False)


def concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Frames one after another, their category columns merged (pandas would make them text)."""
    if len(frames) == 1:
        return frames[0]
    out = pd.concat(frames, ignore_index=True)
    for name in frames[0].columns:
        if isinstance(frames[0][name].dtype, pd.CategoricalDtype):
            out[name] = pd.api.types.union_categoricals([f[name] for f in frames])
    return out


def empty() -> pd.DataFrame:
    return long_frame(np.array([], dtype=object), np.array([]), np.array([]))


def _find(names: Sequence[str], wanted: Sequence[str]) -> str | None:
    lowered = {n.lower(): n for n in names}
    return next((lowered[w] for w in wanted if w in lowered), None)


def _integral_steps(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return len(finite) > 0 and bool(np.all(finite == np.round(finite)))


def _forward_fill(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows without a step take the last step written before them (an eval row after a step)."""
    index = np.where(present, np.arange(len(values)), -1)
    np.maximum.accumulate(index, out=index)
    return values[np.maximum(index, 0)], index >= 0


def from_columns(
    columns: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    step_name: str | None = None,
    run: str = "",
) -> pd.DataFrame:
    """Melt a wide table into the canonical frame.

    `columns` maps a column name to (float values, present mask) in row order; only numeric
    columns belong here. The step column is found by name unless `step_name` is given; with
    none, the row number is the step.
    """
    names = list(columns)
    step_col = step_name or _find(names, STEP_NAMES)
    epoch_col = _find([n for n in names if n != step_col], EPOCH_NAMES)
    time_col = _find([n for n in names if n != step_col], TIME_NAMES)
    n_rows = len(next(iter(columns.values()))[0]) if columns else 0

    keep = np.ones(n_rows, dtype=bool)
    if step_col is not None and _integral_steps(columns[step_col][0]):
        raw, present = columns[step_col]
        present = present & np.isfinite(raw)
        raw = np.where(present, raw, 0)
        steps, keep = _forward_fill(raw.astype(np.int64, copy=False), present)
    else:
        step_col = None if step_col not in (None, epoch_col) else step_col
        steps = np.arange(n_rows, dtype=np.int64)

    def side(col: str | None) -> np.ndarray | None:
        if col is None:
            return None
        values, present = columns[col]
        return np.where(present, values, np.nan)

    epoch, wall_time = side(epoch_col), side(time_col)
    metrics = [n for n in names if n not in (step_col, epoch_col, time_col)]
    if not metrics:
        return empty()
    masks = [columns[m][1] & keep for m in metrics]
    counts = np.array([int(m.sum()) for m in masks])
    pick = np.concatenate([np.flatnonzero(m) for m in masks])
    values = np.concatenate([columns[m][0][mask] for m, mask in zip(metrics, masks, strict=True)])
    codes = np.repeat(np.arange(len(metrics), dtype=np.int32), counts)
    return long_frame(
        pd.Categorical.from_codes(codes, categories=metrics, validate=False), steps[pick], values,
        run=run,
        wall_time=None if wall_time is None else wall_time[pick],
        epoch=None if epoch is None else epoch[pick],
    )  # fmt: skip


def clean_name(name: str) -> str:
    """A run or metric name as people write it: trimmed, inner whitespace collapsed."""
    return re.sub(r"\s+", " ", str(name)).strip()


def labelled(frame: pd.DataFrame, source: str, run: str) -> pd.DataFrame:
    """The frame with its `source` column, and `run` for rows whose reader named no run (a
    file may hold several named runs): the one place the source column is written."""
    frame.insert(0, "source", single(source, len(frame)))
    runs = frame["run"].cat.categories
    frame["run"] = frame["run"].cat.rename_categories([r or run for r in runs])
    return frame
