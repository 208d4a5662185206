"""The engine: one run's frame in, one RunReport out. It picks the curves, runs the checks
of the registry, and summarises."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import metric_names
from .checks import CATALOG, Plan, plan
from .config import Config
from .curves import Curve, RunCurves
from .errors import InputError
from .report import RunReport, Summary


def curve_of(frame: pd.DataFrame, metric: str) -> Curve:
    column = frame["metric"]
    rows = column.cat.codes.to_numpy() == column.cat.categories.get_loc(metric)
    # a metric's rows are usually one stretch (readers write a wide table metric by metric):
    # its columns are then taken as they are, not copied
    first = int(np.argmax(rows))
    stretch = slice(first, first + int(np.count_nonzero(rows)))
    together = bool(rows[stretch].all())

    def take(name: str) -> np.ndarray | None:
        if name not in frame.columns:
            return None
        values = frame[name].to_numpy()
        return values[stretch] if together else values[rows]

    return Curve.from_log_order(
        metric, take("step"), take("value"), take("epoch"), take("wall_time")
    )


def counts_of(frame: pd.DataFrame) -> dict[str, int]:
    """How many values each metric of the frame has (metrics with none left out)."""
    column = frame["metric"]
    codes, size = column.cat.codes.to_numpy(), len(column.cat.categories)
    # a million codes at a time: bincount widens its input to int64 (240 MB for 30M rows)
    tally = np.zeros(size, dtype=np.int64)
    for start in range(0, len(codes), 1 << 20):
        tally += np.bincount(codes[start : start + (1 << 20)], minlength=size)
    return {str(m): int(n) for m, n in zip(column.cat.categories, tally, strict=True) if n}


def pick_metrics(
    frame: pd.DataFrame, config: Config, counts: dict[str, int] | None = None
) -> tuple[str | None, str | None]:
    """The training and validation loss: as configured, else found by name."""
    counts = counts_of(frame) if counts is None else counts
    train = config.metric if config.metric in counts else None
    val = config.val_metric if config.val_metric in counts else None
    train = train or (None if config.metric else metric_names.choose(counts, "train"))
    val = val or (None if config.val_metric else metric_names.choose(counts, "val"))
    return train, val


def summary_of(curve: Curve | None, ends: str = "raw") -> Summary | None:
    """First, last and lowest value. `ends="finite"` takes the first and last finite values
    (the validation loss: a NaN evaluation is the nan check's to tell)."""
    if curve is None or not curve.finite.any():
        return None
    every = bool(curve.finite.all())
    values = curve.value if every else curve.value[curve.finite]
    steps = curve.step if every else curve.step[curve.finite]
    best = int(np.argmin(values))
    first, last = (values[0], values[-1]) if ends == "finite" else (curve.value[0], curve.value[-1])
    return Summary(
        float(first), float(last), float(values[best]), int(steps[best]), curve.final_level()
    )


def run_curves(
    frame: pd.DataFrame, config: Config, counts: dict[str, int], reference: Curve | None = None
) -> RunCurves:
    """What the checks look at in one run's frame."""
    train_name, val_name = pick_metrics(frame, config, counts)
    if train_name is None and val_name is not None:  # only evaluations were logged
        train_name, val_name = val_name, None
    lr, grad = metric_names.find(counts, "lr"), metric_names.find(counts, "grad_norm")
    return RunCurves(
        curve_of(frame, train_name) if train_name else None,
        curve_of(frame, val_name) if val_name else None,
        chance=config.chance, target=config.target,
        lr=curve_of(frame, lr) if lr else None, grad_norm=curve_of(frame, grad) if grad else None,
        reference=reference,
    )  # fmt: skip


def analyze_run(
    frame: pd.DataFrame,
    source: str,
    run: str,
    config: Config,
    reference: Curve | None = None,
    checks: Plan | None = None,
) -> RunReport:
    counts = counts_of(frame)
    curves = run_curves(frame, config, counts, reference)
    findings, cases = (checks or plan(config)).run(curves)
    train, val = curves.train, curves.val
    return RunReport(
        source=source,
        run=run,
        metric=train.metric if train is not None else None,
        val_metric=val.metric if val is not None else None,
        steps=len(train) if train is not None else 0,
        last_step=int(train.step[-1]) if train is not None and len(train) else None,
        summary=summary_of(train),
        findings=findings,
        metrics=tuple(counts.items()),
        curves=curves,
        checks=cases,
        val_summary=summary_of(val, ends="finite"),
        val_steps=len(val) if val is not None else 0,
        catalog=CATALOG,
    )


def _one_value(column: pd.Series) -> bool:
    if not isinstance(column.dtype, pd.CategoricalDtype):  # a frame put together by hand
        return column.nunique() <= 1
    codes = column.cat.codes.to_numpy()
    return len(codes) == 0 or codes.min() == codes.max()


def require_a_loss(frame: pd.DataFrame, source: str, run: str, config: Config) -> None:
    """A finished run's log must hold the metrics the configuration names, and some loss: a
    misspelled --metric or a renamed loss would otherwise pass a run that nothing checked."""
    counts = counts_of(frame)
    missing = [name for name in (config.metric, config.val_metric) if name and name not in counts]
    if missing:
        named = ", ".join(repr(m) for m in missing)
        raise InputError(source, f"no metric {named} in run {run} (found: {', '.join(counts)})")
    if pick_metrics(frame, config, counts) == (None, None):
        raise InputError(
            source,
            f"no loss metric found in run {run} (found: {', '.join(counts) or 'none'}); "
            "name the loss with --metric",
        )


def analyze_frame(
    frame: pd.DataFrame, config: Config, reference: Curve | None = None
) -> list[RunReport]:
    """Every run of a frame (grouped by source and run); InputError when a run lacks a metric
    the configuration names."""
    checks = plan(config)
    if _one_value(frame["source"]) and _one_value(frame["run"]):
        groups = [((frame["source"].iat[0], frame["run"].iat[0]), frame)]
    else:
        groups = frame.groupby(["source", "run"], observed=True, sort=False)
    reports = []
    for (source, run), rows in groups:
        require_a_loss(rows, str(source), str(run), config)
        reports.append(analyze_run(rows, str(source), str(run), config, reference, checks))
    return reports
