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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

try:
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # numpy 1
    from numpy.core.multiarray import _set_madvise_hugepage

COLUMNS = ("run", "metric", "step", "value", "wall_time", "epoch")

STEP_NAMES = (
    "step", "global_step", "_step", "trainer/global_step", "train/global_step",
    "iteration", "iter", "it", "steps", "current_steps", "num_steps", "training_iteration", "batch",
    "epoch",
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


def _integral_steps(values: np.ndarray, present: np.ndarray) -> bool:
    """Whether every step written is a whole number (what lies under a missing one is not)."""
    if values.dtype.kind in "iu":
        return bool(present.any())
    written = present & np.isfinite(values)
    with np.errstate(invalid="ignore"):  # NaN, inf and whatever is not written cast to garbage
        whole = values.astype(np.int64)
    return bool(written.any()) and bool(np.all((whole == values) | ~written))


def _forward_fill(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows without a step take the last step written before them (an eval row after a step)."""
    index = np.where(present, np.arange(len(values)), -1)
    np.maximum.accumulate(index, out=index)
    return values[np.maximum(index, 0)], index >= 0


def _steps(raw: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The step of every row and which rows have one (None: all of them)."""
    finite = present if raw.dtype.kind in "iu" else present & np.isfinite(raw)
    if finite.all():
        return raw.astype(np.int64, copy=False), None
    whole = np.where(finite, raw, 0).astype(np.int64, copy=False)
    return _forward_fill(whole, finite)


def _counted_on_through_epochs(
    steps: np.ndarray, keep: np.ndarray | None, epoch_column: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """A step that starts again at each epoch (rows of `epoch, batch, loss`) counted on through
    the epochs, when every place it goes back is a row where the epoch moves on: a resumed run's
    step goes back with its epoch, or within one."""
    epoch, present = epoch_column
    stepped = np.ones(len(steps), dtype=bool) if keep is None else keep
    if len(steps) < 2 or not np.all(present[stepped]):
        return steps
    rows = np.flatnonzero(stepped)
    step, their_epoch = steps[rows], epoch[rows]
    back = np.flatnonzero(np.diff(step) < 0) + 1
    if not len(back) or not np.all(their_epoch[back] > their_epoch[back - 1]):
        return steps
    jump = np.zeros(len(rows), dtype=np.int64)
    jump[back] = step[back - 1] + 1 - step[back]
    counted = steps.copy()
    counted[rows] = step + np.cumsum(jump)
    return counted


Column = tuple[np.ndarray, np.ndarray | None]  # (values, present mask; None: every row)


def _pieces(column: Column | Sequence[Column]) -> Sequence[Column]:
    return [column] if isinstance(column, tuple) else column  # type: ignore[list-item]


def _whole(column: Column | Sequence[Column]) -> tuple[np.ndarray, np.ndarray]:
    pieces = _pieces(column)
    values = pieces[0][0] if len(pieces) == 1 else np.concatenate([v for v, _ in pieces])
    masks = [np.ones(len(v), dtype=bool) if p is None else p for v, p in pieces]
    return values, masks[0] if len(masks) == 1 else np.concatenate(masks)


PICKED_AT_ONCE = 1 << 20


def _pick_into(target: np.ndarray, source: np.ndarray, picked: np.ndarray) -> None:
    """`target[:] = source[picked]` a million rows at a time: boolean indexing is 10x faster
    than `np.compress(out=)` (which goes through the indices of the rows picked), and its
    temporary stays at 8 MB however long the column."""
    at = 0
    for start in range(0, len(source), PICKED_AT_ONCE):
        rows = slice(start, start + PICKED_AT_ONCE)
        part = source[rows][picked[rows]]
        target[at : at + len(part)] = part
        at += len(part)


@contextmanager
def small_pages() -> Iterator[None]:
    """Fresh arrays in 4 KB pages, not the huge pages numpy asks for: where memory is
    fragmented (page cache filling it, as on a machine that has read gigabytes of logs), the
    kernel compacts memory on the first touch of each huge page. Writing a 30M-row frame cost
    1.3-1.8 s of system time that way against 0.5 s in small pages (bench/SPEED.md)."""
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


@small_pages()
def from_columns(
    columns: Mapping[str, Column | Sequence[Column]],
    *,
    step_name: str | None = None,
    run: str = "",
) -> pd.DataFrame:
    """Melt a wide table into the canonical frame.

    `columns` maps a column name to (values, present mask) in row order, or to a list of such
    pieces (an Arrow table's chunks, lined up across columns: read without a copy of the
    table); only numeric columns belong here. The step column is found by name unless
    `step_name` is given; with none, the row number is the step. Each output column is
    written once: 10M rows melt without a second copy of the long frame.
    """
    names = list(columns)
    step_col = step_name or _find(names, STEP_NAMES)
    epoch_col = _find([n for n in names if n != step_col], EPOCH_NAMES)
    time_col = _find([n for n in names if n != step_col], TIME_NAMES)
    lengths = [len(v) for v, _ in _pieces(columns[names[0]])] if names else []
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    n_rows = int(offsets[-1])

    keep: np.ndarray | None = None
    step_column = _whole(columns[step_col]) if step_col is not None else None
    if step_column is not None and _integral_steps(*step_column):
        steps, keep = _steps(*step_column)
        if epoch_col is not None:
            steps = _counted_on_through_epochs(steps, keep, _whole(columns[epoch_col]))
    else:
        step_col = None if step_col not in (None, epoch_col) else step_col
        steps = np.arange(n_rows, dtype=np.int64)

    metrics = [n for n in names if n not in (step_col, epoch_col, time_col)]
    if not metrics:
        return empty()

    def rows(name: str) -> Iterator[tuple[slice, np.ndarray, np.ndarray | None]]:
        """Per piece: its rows, its values, the rows holding a value (None: all)."""
        for (values, present), start, end in zip(
            _pieces(columns[name]), offsets[:-1], offsets[1:], strict=True
        ):
            picked = present if keep is None else keep[start:end] if present is None else (
                present & keep[start:end]
            )  # fmt: skip
            yield slice(start, end), values, None if picked is None or picked.all() else picked

    def count(part: slice, picked: np.ndarray | None) -> int:
        return part.stop - part.start if picked is None else int(np.count_nonzero(picked))

    counts = [sum(count(part, picked) for part, _, picked in rows(m)) for m in metrics]
    total = sum(counts)
    out_step = np.empty(total, dtype=np.int64)
    out_value = np.empty(total, dtype=np.float64)
    sides = {}
    for col in (epoch_col, time_col):
        if col is not None:
            values, present = _whole(columns[col])
            sides[col] = (np.where(present, values, np.nan), np.empty(total))
    at = 0
    for name in metrics:
        for part, values, picked in rows(name):
            into = slice(at, at + count(part, picked))
            pairs = [(steps[part], out_step), (values, out_value)]
            pairs += [(whole[part], target) for whole, target in sides.values()]
            for source, target in pairs:
                if picked is None:
                    target[into] = source
                else:
                    _pick_into(target[into], source, picked)
            at = into.stop
    code_type = np.int8 if len(metrics) < 128 else np.int32
    codes = np.repeat(np.arange(len(metrics), dtype=code_type), counts)
    return long_frame(
        pd.Categorical.from_codes(codes, categories=metrics, validate=False), out_step, out_value,
        run=run,
        wall_time=sides[time_col][1] if time_col is not None else None,
        epoch=sides[epoch_col][1] if epoch_col is not None else None,
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
