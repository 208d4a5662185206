"""One run's frame in, one RunReport out: pick the curves, run the detectors, summarise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from . import metrics
from .config import Config
from .curves import Curve, RunCurves
from .detectors import DETECTORS
from .model import Finding, RunReport, Summary
from .rules import check_reference, check_rules


def curve_of(frame: pd.DataFrame, metric: str) -> Curve:
    column = frame["metric"]
    rows = column.cat.codes.to_numpy() == column.cat.categories.get_loc(metric)
    step, value = frame["step"].to_numpy()[rows], frame["value"].to_numpy()[rows]
    epoch, wall_time = (
        frame[c].to_numpy()[rows] if c in frame.columns else None for c in ("epoch", "wall_time")
    )
    return Curve.from_log_order(metric, step, value, epoch, wall_time)


def counts_of(frame: pd.DataFrame) -> dict[str, int]:
    """How many values each metric of the frame has (metrics with none left out)."""
    column = frame["metric"]
    tally = np.bincount(column.cat.codes.to_numpy(), minlength=len(column.cat.categories))
    return {str(m): int(n) for m, n in zip(column.cat.categories, tally, strict=True) if n}


def pick_metrics(frame: pd.DataFrame, config: Config) -> tuple[str | None, str | None]:
    """The training and validation loss: as configured, else found by name."""
    counts = counts_of(frame)
    train = config.metric if config.metric in counts else None
    val = config.val_metric if config.val_metric in counts else None
    train = train or (None if config.metric else metrics.choose(counts, "train"))
    val = val or (None if config.val_metric else metrics.choose(counts, "val"))
    return train, val


def _summary(curve: Curve) -> Summary | None:
    ok = curve.finite
    if not ok.any():
        return None
    values, steps = curve.value[ok], curve.step[ok]
    best = int(np.argmin(values))
    return Summary(
        float(curve.value[0]), float(curve.value[-1]), float(values[best]), int(steps[best])
    )


def _without_overlap(findings: list[Finding]) -> list[Finding]:
    """Say each thing once. A plateau already says the loss stayed high, a divergence why it is
    high: underfitting judged only by the run's own improvement would repeat it. Jumps of a
    loss that has diverged or oscillates are part of that, not spikes that recovered. A loss that
    oscillates is no plateau, however little its median moved, and has not diverged while it
    keeps swinging back."""
    if any(f.kind in ("plateau", "divergence") for f in findings):
        findings = [f for f in findings if f.evidence.get("basis") != "own improvement"]
    swings = [(f.start_step, f.end_step) for f in findings if f.kind == "oscillation"]
    if swings:  # its level swings: it moved, and a high level now may be down again next
        findings = [
            f for f in findings
            if f.kind != "plateau"
            and not (f.kind == "divergence" and any(a <= f.start_step <= b for a, b in swings))
        ]  # fmt: skip
    unstable = [
        (f.start_step, f.end_step) for f in findings if f.kind in ("divergence", "oscillation")
    ]
    return [
        f for f in findings
        if f.kind != "spike" or not any(a <= f.start_step <= b for a, b in unstable)
    ]  # fmt: skip


def analyze_run(
    frame: pd.DataFrame, source: str, run: str, config: Config, reference: Curve | None = None
) -> RunReport:
    train_name, val_name = pick_metrics(frame, config)
    if train_name is None and val_name is not None:  # only evaluations were logged
        train_name, val_name = val_name, None
    train = curve_of(frame, train_name) if train_name else None
    val = curve_of(frame, val_name) if val_name else None
    counts = counts_of(frame)
    lr, grad = metrics.find(counts, "lr"), metrics.find(counts, "grad_norm")
    curves = RunCurves(
        train, val, chance=config.chance, target=config.target,
        lr=curve_of(frame, lr) if lr else None, grad_norm=curve_of(frame, grad) if grad else None,
    )  # fmt: skip
    findings: list[Finding] = []
    for kind, detector in DETECTORS.items():
        if config.enabled(kind):
            for f in detector.detect(curves, config.params[kind]):
                level = config.severity_of(kind, f.severity)
                findings.append(f if level == f.severity else replace(f, severity=level))
    findings += check_rules(curves, config.rules)
    if reference is not None and config.reference is not None:
        findings += check_reference(train, reference, config.reference)
    findings.sort(key=lambda f: (f.start_step, -f.severity.rank))
    checks = [kind for kind in DETECTORS if config.enabled(kind)] + [r.name for r in config.rules]
    return RunReport(
        source=source,
        run=run,
        metric=train_name,
        val_metric=val_name,
        steps=len(train) if train is not None else 0,
        last_step=int(train.step[-1]) if train is not None and len(train) else None,
        summary=_summary(train) if train is not None else None,
        findings=tuple(_without_overlap(findings)),
        metrics=tuple(counts.items()),
        curves=curves,
        checks=tuple(checks + (["regression"] if reference is not None else [])),
    )
