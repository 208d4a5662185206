"""`--format png`: loss curves with the findings marked, drawn as each check declares
(`Mark`); matplotlib, headless. `--plot-dir` draws one file per run."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..curves import Curve
from ..formatting import num
from ..report import Comparison, Finding, Mark, Report, RunReport
from ..signal import envelope, smoothed
from .options import DEFAULT, PlotOptions, RenderOptions

NAME = "png"
VERDICT_COLOR = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828"}

CLIP_FACTOR = 3.0  # values this far above the healthy part are clipped from view


def _fractional_epochs(step: np.ndarray, epoch: np.ndarray) -> np.ndarray:
    """Whole epochs logged at many steps, spread over the steps of each epoch."""
    ok = np.isfinite(epoch)
    if not np.all(epoch[ok] == np.round(epoch[ok])):
        return epoch  # already fractional (the HF Trainer's)
    starts, first = np.unique(epoch[ok], return_index=True)
    if len(starts) < 2:
        return epoch
    at = step[ok][first].astype(float)
    width = np.diff(at).mean()
    return np.interp(step, np.append(at, at[-1] + width), np.append(starts, starts[-1] + 1))


def _x(curve: Curve, axis: str) -> np.ndarray:
    if axis == "epoch" and curve.epoch is not None and np.isfinite(curve.epoch).any():
        return _fractional_epochs(curve.step, curve.epoch)
    if axis == "time" and curve.wall_time is not None and np.isfinite(curve.wall_time).any():
        return curve.wall_time - np.nanmin(curve.wall_time)
    return curve.step.astype(float)


def _at(curve: Curve, axis: str, steps) -> np.ndarray:
    """Steps placed on the chosen x axis."""
    return np.interp(np.asarray(steps, dtype=float), curve.step, _x(curve, axis))


def _healthy_top(run: RunReport, curve: Curve) -> float | None:
    """The top of a y range that keeps the part before a divergence readable and shows the
    diverged level too, when that level is not far above; None when nothing needs clipping."""
    blows_up = {kind for kind, info in run.catalog.items() if info.blows_up}
    onset = min((f.start_step for f in run.findings if f.kind in blows_up), default=None)
    if onset is None:
        return None
    before = curve.finite & (curve.step < onset)
    after = curve.finite & (curve.step >= onset)
    if before.sum() < 5 or not after.any():
        return None
    healthy = float(np.percentile(curve.value[before], 99.5))
    if curve.value[after].max() <= CLIP_FACTOR * healthy:
        return None
    diverged = float(np.median(curve.value[after]))
    return 1.15 * max(healthy, min(diverged, CLIP_FACTOR * healthy))


def figure(
    runs: Sequence[RunReport],
    options: PlotOptions = DEFAULT.plot,
    groups: Mapping[str, str] | None = None,
):
    """A matplotlib Figure of the runs: loss above, learning rate and gradient norm below.
    With `groups` (run name → group label), runs are coloured and named by their group."""
    from matplotlib.figure import Figure

    drawn = [r for r in runs if r.curves is not None and r.curves.train is not None]
    lower = any(r.curves.lr is not None or r.curves.grad_norm is not None for r in drawn)
    fig = Figure(figsize=(10, 6.5 if lower else 5), dpi=110, layout="constrained")
    grid = fig.add_gridspec(2 if lower else 1, 1, height_ratios=[3, 1] if lower else [1])
    ax = fig.add_subplot(grid[0])
    ax_low = fig.add_subplot(grid[1], sharex=ax) if lower else None
    single = len(drawn) == 1
    tops, lows, highs = [], [], []
    labels = list(dict.fromkeys(groups[r.run] for r in drawn)) if groups else []
    for i, run in enumerate(drawn):
        index = labels.index(groups[run.run]) if groups else i
        color = "C0" if single else f"C{index % 10}"
        label = groups[run.run] if groups else None
        tops.append(_draw_run(ax, run, color, "C1" if single else color, single, options, label))
        values = run.curves.train.value[run.curves.train.finite]
        if len(values):
            lows.append(values.min())
            highs.append(values.max())
        if ax_low is not None:
            _draw_lower(ax_low, run, color, single, options)
    if ax_low is not None:
        rates = [r.curves.lr.value for r in drawn if r.curves.lr is not None]
        shown = np.concatenate(rates) if rates else np.array([])
        shown = shown[np.isfinite(shown) & (shown > 0)]
        if len(shown) and shown.max() / shown.min() > 100:
            ax_low.set_yscale("log")
        elif len(shown):
            ax_low.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    _scale(ax, options, lows, highs, [t for t in tops if t is not None])
    ax.set_ylabel(drawn[0].metric if drawn else "loss")
    ax.grid(True, alpha=0.25)
    handles = {}
    for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
        handles.setdefault(label, h)
    if handles:
        ax.legend(handles.values(), handles.keys(), fontsize=8, loc="upper right", framealpha=0.85)
    (ax_low or ax).set_xlabel({"step": "step", "epoch": "epoch", "time": "time (s)"}[options.x])
    if single:
        run = drawn[0]
        ax.set_title(f"{run.run} — {run.verdict.upper()}", color=VERDICT_COLOR[run.verdict],
                     fontweight="bold", loc="left")  # fmt: skip
    elif drawn:
        worst = max(drawn, key=lambda r: ("pass", "warn", "fail").index(r.verdict)).verdict
        ax.set_title(
            f"{len(drawn)} runs", color=VERDICT_COLOR[worst], fontweight="bold", loc="left"
        )
    return fig


def _draw_run(
    ax,
    run: RunReport,
    color: str,
    val_color: str,
    single: bool,
    options: PlotOptions,
    group_label: str | None = None,
):
    curves = run.curves
    train = curves.train
    name = f"{run.metric}" if single else f"{run.run} [{run.verdict}]"
    if group_label is not None:
        name = group_label
    ok = train.finite
    x = _x(train, options.x)
    raw_label = f"{name} (raw)" if single else None
    ax.plot(*envelope(x[ok], train.value[ok]), color=color, lw=0.6, alpha=0.3, label=raw_label)
    smooth_label = f"{name} (smoothed {options.smooth:g})" if single else name
    style = "--" if run.verdict == "fail" and not single else "-"
    trend = envelope(x[ok], smoothed(train.value[ok], options.smooth))
    ax.plot(*trend, color=color, lw=1.6, ls=style, label=smooth_label)
    bad = ~ok
    if bad.any():  # NaN and inf at the top edge, not dropped
        top = ax.get_xaxis_transform()
        ax.scatter(x[bad], np.ones(bad.sum()), transform=top, marker="x", color="#c62828", s=14,
                   clip_on=False, zorder=5, label="NaN / inf")  # fmt: skip
    val = curves.val
    if val is not None and val.finite.any():
        vx, vy = _x(val, options.x)[val.finite], val.value[val.finite]
        look = {"lw": 1.2, "ms": 3, "ls": "-"} if single else {"lw": 0.8, "ms": 2, "ls": ":"}
        ax.plot(
            vx, vy, color=val_color, marker="o", label=run.val_metric if single else None, **look
        )
        best = int(np.argmin(vy))
        star = f"best {run.val_metric} {num(vy[best])}" if single else "best validation"
        ax.scatter([vx[best]], [vy[best]], marker="*", s=140 if single else 70, color="gold",
                   edgecolor="black", zorder=6, label=star)  # fmt: skip
    _mark_findings(ax, run, train, options, single)
    return _healthy_top(run, train)


def _mark_findings(ax, run: RunReport, train: Curve, options: PlotOptions, single: bool) -> None:
    for f in run.findings:
        info = run.catalog.get(f.kind)
        for mark in info.marks if info is not None else ():
            _mark(ax, run, f, mark, train, options, single)


def _mark(ax, run, f: Finding, mark: Mark, train: Curve, options: PlotOptions, single: bool):
    """One finding drawn the way its check declares."""
    start, end = _at(train, options.x, [f.start_step, f.end_step])
    label = mark.label or f.kind
    if mark.style == "span" and not single:  # spans of many runs would cover each other
        curve = run.curves.val if mark.on_val and run.curves.val is not None else train
        level = np.interp(f.start_step, curve.step[curve.finite], curve.value[curve.finite])
        ax.scatter([start], [level], marker="D", s=36, color=mark.color, edgecolor="black",
                   zorder=6, label=f"{label} starts")  # fmt: skip
    elif mark.style == "span":
        ax.axvspan(start, max(end, start), color=mark.color, alpha=0.13, lw=0,
                   label=f"{label} ({f.severity.value})")  # fmt: skip
    elif mark.style == "peak":
        peak_x = _at(train, options.x, [f.evidence["peak_step"]])[0]
        ax.scatter([peak_x], [f.evidence["peak"]], marker="^", s=60, facecolor="none",
                   edgecolor=mark.color, lw=1.5, zorder=6, label=label)  # fmt: skip
    elif mark.style == "start":
        ax.axvline(start, color=mark.color, ls=mark.linestyle, lw=1.2, label=label)
    elif mark.style == "level" and mark.evidence in f.evidence:
        ax.axhline(f.evidence[mark.evidence], color=mark.color, ls=mark.linestyle, lw=1,
                   label=label)  # fmt: skip


def _scale(ax, options: PlotOptions, lows, highs, tops) -> None:
    """Log y when the shown values span over two decades; clip a diverged tail's extremes."""
    from matplotlib.ticker import FuncFormatter

    if not lows:
        return
    top = max(tops) if tops else max(highs)
    positive = min(lows) > 0
    log = options.log_y if options.log_y is not None else positive and top / min(lows) > 100
    if log and positive:
        ax.set_yscale("log")
        label = FuncFormatter(lambda v, _: num(v))
        ax.yaxis.set_major_formatter(label)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    if tops:
        bottom = min(lows) * 0.9 if log else min(lows) - 0.05 * (top - min(lows))
        ax.set_ylim(bottom, top)
        ax.annotate(f"values above {num(top)} clipped (up to {num(max(highs))})",
                    xy=(0.01, 0.98), xycoords="axes fraction", va="top", fontsize=8,
                    color="#c62828")  # fmt: skip


def _draw_lower(ax, run: RunReport, color: str, single: bool, options: PlotOptions) -> None:
    curves = run.curves
    if curves.lr is not None and curves.lr.finite.any():
        lr = curves.lr
        ax.plot(_x(lr, options.x)[lr.finite], lr.value[lr.finite], color=color, lw=1.2,
                label=lr.metric if single else None)  # fmt: skip
        ax.set_ylabel("learning rate")
    if curves.grad_norm is not None and curves.grad_norm.finite.any() and single:
        g = curves.grad_norm
        twin = ax.twinx()
        gx, gy = envelope(_x(g, options.x)[g.finite], g.value[g.finite])
        twin.plot(gx, gy, color="#6d4c41", lw=0.7, alpha=0.7, label=g.metric)
        if gy.min() > 0 and gy.max() / gy.min() > 100:
            twin.set_yscale("log")
        twin.set_ylabel(g.metric, color="#6d4c41")
    ax.grid(True, alpha=0.25)


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def render(report: Report, options: RenderOptions = DEFAULT) -> bytes:
    """Every run of the report in one PNG."""
    return _png(figure(report.runs, options.plot))


def render_comparison(comparison: Comparison, options: RenderOptions = DEFAULT) -> bytes:
    """The overlay of every run kept for plotting, coloured by group when grouped."""
    reports = [r.report for r in comparison.runs if r.report is not None]
    groups = None
    if comparison.by:
        groups = {r.run: ", ".join(f"{k}={r.hparams.get(k)}" for k in comparison.by)
                  for r in comparison.runs}  # fmt: skip
    return _png(figure(reports, options.plot, groups))


def file_name(run: RunReport) -> str:
    """A run's PNG name in a folder of plots: its name with anything unsafe replaced."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run.run) + ".png"


def save_each(report: Report, folder: Path, options: PlotOptions = DEFAULT.plot) -> list[Path]:
    """One PNG per run in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for run in report.runs:
        path = folder / file_name(run)
        figure([run], options).savefig(path)
        paths.append(path)
    return paths


def save_hparams(comparison: Comparison, path: Path) -> Path:
    """The ranking measure against each numeric hyperparameter (the grouped ones, else all)."""
    names = comparison.by or sorted({k for r in comparison.runs for k in r.hparams})
    points = {
        k: [(float(r.hparams[k]), r.value(comparison.rank_by), r.verdict == "fail")
            for r in comparison.runs if isinstance(r.hparams.get(k), int | float)]
        for k in names
    }  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    hparams_figure({k: v for k, v in points.items() if v}, comparison.rank_by).savefig(path)
    return path


def hparams_figure(points: Mapping[str, list[tuple[float, float | None, bool]]], metric: str):
    """The ranking metric against each numeric hyperparameter: `points` maps a hyperparameter
    to (value, metric or None, failed) per run; failed runs are crosses on the top edge."""
    from matplotlib.figure import Figure

    keys = list(points)
    fig = Figure(figsize=(4.2 * max(1, len(keys)), 3.8), dpi=110, layout="constrained")
    axes = fig.subplots(1, max(1, len(keys)), squeeze=False)[0]
    for ax, key in zip(axes, keys, strict=False):
        rows = points[key]
        good = [(x, y) for x, y, failed in rows if not failed and y is not None]
        bad = [x for x, _, failed in rows if failed]
        if good:
            ax.scatter(*zip(*good, strict=True), color="C0", label=f"{metric}")
        if bad:
            ax.scatter(bad, np.ones(len(bad)), transform=ax.get_xaxis_transform(), marker="x",
                       color="#c62828", clip_on=False, label="failed")  # fmt: skip
        xs = [x for x, _, _ in rows if x > 0]
        if "lr" in key.lower() or (xs and max(xs) / min(xs) > 100):
            ax.set_xscale("log")
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
        ax.grid(True, alpha=0.25)
        ax.legend(fontsize=8)
    return fig
