"""`--format html`: one self-contained page for `analyze` and `compare`, to open offline from a
CI artifact or an email. Tables are written here (escaped); the charts are drawn in the browser
by uPlot (MIT, inlined from `assets/`) from curves reduced with the PNGs' min/max envelope, so a
page never makes a network request and a 1,000-run sweep stays a few megabytes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

import numpy as np

from ..curves import Curve
from ..formatting import cell, num
from ..report import Comparison, Finding, Mark, Report, RunReport, RunSummary
from ..signal import ENVELOPE_POINTS, envelope
from ..signal import smoothed as smoothed_curve
from .json import columns, comparison_row
from .options import DEFAULT, RenderOptions
from .plot import VERDICT_COLOR, _healthy_top
from .text import _steps

NAME = "html"
PAGE_POINTS = 400_000  # vertices in all the charts of an analyze page; fewer per run when many
MIN_POINTS = 100  # per curve, however many runs
DIGITS = 5  # significant digits of a value sent to the page
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # matplotlib's tab10, the PNGs' colours  # fmt: skip
TRAIN, VAL, GRAD = PALETTE[0], PALETTE[1], "#6d4c41"
VERDICT_ORDER = {"fail": 0, "warn": 1, "pass": 2}


@cache
def _asset(name: str) -> str:
    return (files(__package__) / "assets" / name).read_text(encoding="utf-8")


def _rounded(values: np.ndarray) -> list[float]:
    """Values to DIGITS significant digits, whose shortest repr is short in the page."""
    v = np.asarray(values, dtype=float)
    exponent = np.floor(np.log10(np.where(v == 0, 1.0, np.abs(v))))
    k = DIGITS - 1 - exponent
    scale = 10.0 ** np.abs(k)
    return np.where(k >= 0, np.round(v * scale) / scale, np.round(v / scale) * scale).tolist()


def _xy(x: np.ndarray, y: np.ndarray, points: int) -> dict[str, list]:
    ex, ey = envelope(np.asarray(x), np.asarray(y, dtype=float), points)
    whole = np.all(ex == np.round(ex))
    return {"x": ex.astype(np.int64).tolist() if whole else _rounded(ex), "y": _rounded(ey)}


def _series(label: str, xy: dict, color: str, **style: Any) -> dict[str, Any]:
    return {"label": label, "color": color, **xy, **style}


def _log_y(values: Iterable[np.ndarray]) -> bool:
    """The PNGs' rule: logarithmic when the curve spans more than two decades."""
    shown = np.concatenate([np.asarray(v, dtype=float) for v in values] or [np.array([])])
    shown = shown[np.isfinite(shown)]
    return bool(len(shown) and shown.min() > 0 and shown.max() / shown.min() > 100)


def _evidence(f: Finding) -> str:
    def shown(value: Any) -> str:
        if isinstance(value, float):
            return num(value)
        if isinstance(value, list | tuple):
            return "–".join(shown(v) for v in value) if len(value) == 2 else str(list(value))
        return str(value)

    return ", ".join(f"{k} = {shown(v)}" for k, v in f.evidence.items())


# analyze ------------------------------------------------------------------------------------


def _crosses(steps: Iterable[float], label: str) -> dict[str, Any]:
    """Crosses on the top edge at these steps: NaN losses, failed runs."""
    return {"xs": list(steps), "shape": "cross-top", "color": "#c62828", "label": label}


def _marks(run: RunReport, train: Curve, points: int) -> tuple[list, list, list, list]:
    """Findings drawn as their checks declare (`Mark`), as the PNGs draw them; NaN and inf as
    crosses on the top edge."""
    spans, vlines, hlines, marks = [], [], [], []
    for f in run.findings:
        info = run.catalog.get(f.kind)
        for mark in info.marks if info is not None else ():
            _mark(f, mark, spans, vlines, hlines, marks)
    bad = ~train.finite
    if bad.any():  # thinned on a long broken tail
        marks.append(
            _crosses(train.step[bad][:: -(-int(bad.sum()) // points)].tolist(), "NaN / inf")
        )
    return spans, vlines, hlines, marks


def _mark(f: Finding, mark: Mark, spans: list, vlines: list, hlines: list, marks: list) -> None:
    label = mark.label or f.kind
    dashed = mark.linestyle != "-"
    if mark.style == "span":
        spans.append({"from": f.start_step, "to": max(f.end_step, f.start_step),
                      "color": mark.color, "label": f"{label} ({f.severity.value})"})  # fmt: skip
    elif mark.style == "peak":
        marks.append({"x": f.evidence["peak_step"], "y": f.evidence["peak"], "shape": "triangle",
                      "color": mark.color, "label": label})  # fmt: skip
    elif mark.style == "start":
        vlines.append({"x": f.start_step, "color": mark.color, "dash": dashed, "label": label})
    elif mark.style == "level" and mark.evidence in f.evidence:
        hlines.append({"y": f.evidence[mark.evidence], "color": mark.color, "label": label})


def _loss_chart(run: RunReport, points: int, smooth: float) -> dict[str, Any]:
    train, val = run.curves.train, run.curves.val
    ok = train.finite
    step, value = train.step[ok], train.value[ok]
    series = [
        _series(f"{run.metric} (raw)", _xy(step, value, points), TRAIN, width=0.8, alpha=0.3),
        _series(
            f"{run.metric} (smoothed {smooth:g})",
            _xy(step, smoothed_curve(value, smooth), points),
            TRAIN,
            width=1.8,
        ),
    ]
    spans, vlines, hlines, marks = _marks(run, train, points)
    shown = [value]
    if val is not None and val.finite.any():
        vx, vy = val.step[val.finite], val.value[val.finite]
        series.append(_series(run.val_metric, _xy(vx, vy, points), VAL, width=1.3, dots=True))
        best = int(np.argmin(vy))
        marks.append(
            {
                "x": int(vx[best]),
                "y": float(vy[best]),
                "shape": "star",
                "color": "gold",
                "label": f"best {run.val_metric} {num(vy[best])}",
            }
        )
        shown.append(vy)
    top = _healthy_top(run, train)
    log = _log_y([np.minimum(v, top) for v in shown] if top is not None else shown)
    note = f"values above {num(top)} clipped (up to {num(value.max())})" if top else None
    return {
        "kind": "loss",
        "y_label": run.metric,
        "log": log,
        "top": top,
        "note": note,
        "series": series,
        "spans": spans,
        "vlines": vlines,
        "hlines": hlines,
        "marks": marks,
        "hover": "all",
        "height": 320,
    }


def _lower_chart(run: RunReport, points: int) -> dict[str, Any] | None:
    lr, grad = run.curves.lr, run.curves.grad_norm
    series = []
    if lr is not None and lr.finite.any():
        series.append(
            _series(
                lr.metric, _xy(lr.step[lr.finite], lr.value[lr.finite], points), TRAIN, width=1.3
            )
        )
    if grad is not None and grad.finite.any():
        gy = grad.value[grad.finite]
        series.append(
            _series(
                grad.metric,
                _xy(grad.step[grad.finite], gy, points),
                GRAD,
                width=0.8,
                alpha=0.7,
                axis="y2",
                log=_log_y([gy]),
            )
        )
    if not series:
        return None
    log = lr is not None and lr.finite.any() and _log_y([lr.value[lr.finite]])
    return {
        "kind": "lower",
        "y_label": "learning rate" if lr is not None else "",
        "log": log,
        "series": series,
        "hover": "all",
        "height": 180,
    }


def _run_section(i: int, run: RunReport, points: int, smooth: float) -> tuple[str, list]:
    color = VERDICT_COLOR[run.verdict]
    parts = [
        f'<section class="run" id="run-{i}"><h2><span class="verdict" style="color:'
        f'{color}">{run.verdict.upper()}</span> {escape(run.run)}</h2>'
    ]
    if run.source != run.run:
        parts.append(f'<p class="source">{escape(run.source)}</p>')
    if run.summary is not None:
        s = run.summary
        parts.append(
            f"<p>{escape(run.metric)}: {num(s.first)} → {num(s.last)}, min "
            f"{num(s.min)} at step {s.min_step}; {run.steps} steps to {run.last_step}</p>"
        )
    elif run.metric is None:
        names = ", ".join(name for name, _ in run.metrics)
        parts.append(f"<p>no loss metric found; metrics: {escape(names)}</p>")
    charts = []
    drawn = (
        run.curves is not None and run.curves.train is not None and run.curves.train.finite.any()
    )
    if drawn:
        loss = _loss_chart(run, points, smooth)
        lower = _lower_chart(run, points)
        charts = [loss] + ([lower] if lower else [])
        loss["gutter"] = any(s.get("axis") == "y2" for c in charts for s in c["series"])
        group = f"run-{i}"
        for k, chart in enumerate(charts):
            chart.update(id=f"{group}-chart-{k}", sync=group)
        parts += [_chart_div(c) for c in charts]
        parts.append(
            '<p class="hint">drag to zoom · shift-drag to pan · ctrl-wheel to zoom · '
            "double-click to reset · click a legend entry to hide it</p>"
        )
    parts.append(_findings_table(run))
    parts.append("</section>")
    return "\n".join(parts), charts


def _findings_table(run: RunReport) -> str:
    findings = run.findings
    if not findings:
        return '<p class="none">No findings.</p>'
    rows = [
        f'<tr class="finding sev-{f.severity.value}"><td>{f.severity.value}</td>'
        f'<td>{escape(f.kind)} <span class="code">{escape(f.code)}</span></td>'
        f"<td>{escape(f.metric)}</td><td>{_steps(f)}</td>"
        f'<td>{escape(f.message)}</td><td class="evidence">{escape(_evidence(f))}</td></tr>'
        for f in sorted(findings, key=lambda f: (-f.severity.rank, f.start_step))
    ]
    advice = {kind: info.advice for kind, info in run.catalog.items() if info.advice}
    todo = [
        f"<dt>{escape(kind)} {escape(run.catalog[kind].code)}</dt><dd>{escape(advice[kind])}</dd>"
        for kind in dict.fromkeys(f.kind for f in findings)
        if kind in advice
    ]
    table = (
        '<table class="findings"><thead><tr><th>severity</th><th>kind</th><th>metric</th>'
        "<th>steps</th><th>message</th><th>evidence</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    return table + (f'<dl class="todo"><h3>What to do</h3>{"".join(todo)}</dl>' if todo else "")


def _summary_table(runs: Sequence[tuple[int, RunReport]]) -> str:
    rows = []
    for i, run in runs:
        s = run.summary
        loss = "–" if s is None else f"{num(s.first)} → {num(s.last)}"
        kinds = Counter(f.kind for f in run.findings)
        found = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in kinds.items()) or "–"
        rows.append(
            f'<tr><td><a href="#run-{i}">{escape(run.run)}</a></td>'
            f'<td class="v-{run.verdict}">{run.verdict}</td><td>{escape(loss)}</td>'
            f"<td>{escape(found)}</td></tr>"
        )
    return (
        '<table class="summary"><thead><tr><th>run</th><th>verdict</th>'
        "<th>loss (first → last)</th><th>findings</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def render(report: Report, options: RenderOptions = DEFAULT) -> str:
    """The analyze page: a summary table failing first, then each run's charts and findings."""
    ranked = sorted(enumerate(report.runs), key=lambda ir: VERDICT_ORDER[ir[1].verdict])
    points = max(MIN_POINTS, min(ENVELOPE_POINTS, PAGE_POINTS // (4 * max(1, len(report.runs)))))
    sections, charts = [], []
    for i, run in ranked:
        section, run_charts = _run_section(i, run, points, options.plot.smooth)
        sections.append(section)
        charts += run_charts
    verdicts = Counter(r.verdict for r in report.runs)
    total = ", ".join(f"{verdicts[v]} {v}" for v in ("fail", "warn", "pass") if verdicts[v])
    head = [
        f"<h1>losstest: {len(report.runs)} run{'s' * (len(report.runs) != 1)}"
        f"{': ' + total if total else ''}</h1>",
        _summary_table(ranked),
    ]
    if report.problems:
        items = "".join(f"<li>{escape(p.message)}</li>" for p in report.problems)
        head.append(f'<h2>Unreadable</h2><ul class="problems">{items}</ul>')
    return _page("losstest report", [*head, *sections], charts)


# compare ------------------------------------------------------------------------------------


def _group_label(run: RunSummary, keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={run.hparams.get(k)}" for k in keys) if keys else run.run


def _overlay(c: Comparison, keys: Sequence[str]) -> dict[str, Any] | None:
    """Every run's smoothed loss, coloured by group, failed runs dashed."""
    labels = list(dict.fromkeys(_group_label(r, keys) for r in c.runs if r.trend is not None))
    series = []
    for r in c.runs:
        if r.trend is None:
            continue
        label = _group_label(r, keys)
        color = PALETTE[labels.index(label) % len(PALETTE)]
        xy = {"x": r.trend[0].astype(np.int64).tolist(), "y": _rounded(r.trend[1])}
        series.append(_series(label, xy, color, width=1.4, dash=r.verdict == "fail", name=r.run))
    if not series:
        return None
    log = _log_y([r.trend[1] for r in c.runs if r.trend is not None])
    return {
        "id": "overlay",
        "kind": "overlay",
        "y_label": "loss (smoothed)",
        "log": log,
        "series": series,
        "hover": "nearest",
        "height": 420,
    }


def _hparam_charts(c: Comparison, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The ranking metric against each numeric hyperparameter; failed runs crossed on top."""
    names = keys or sorted({k for r in c.runs for k in r.hparams})
    charts = []
    for key in names:
        rows = sorted(
            (r for r in c.runs if isinstance(r.hparams.get(key), int | float)),
            key=lambda r: r.hparams[key],
        )
        good = [r for r in rows if r.verdict != "fail" and r.value(c.rank_by) is not None]
        if not rows:
            continue
        xs = [float(r.hparams[key]) for r in rows if r.hparams[key] > 0]
        log_x = "lr" in key.lower() or bool(xs and max(xs) / min(xs) > 100)
        dots = {
            "x": [float(r.hparams[key]) for r in good],
            "y": _rounded([r.value(c.rank_by) for r in good]),
            "names": [r.run for r in good],
        }
        failed = [_crosses((float(r.hparams[key]) for r in rows if r.verdict == "fail"), "failed")]
        charts.append(
            {
                "id": f"hparam-{len(charts)}",
                "kind": "hparam",
                "x_label": key,
                "log_x": log_x,
                "y_label": c.rank_by,
                "log": False,
                "hover": "nearest",
                "series": [_series(c.rank_by, dots, TRAIN, points_only=True)],
                "marks": failed,
                "height": 260,
                "width": 380,
            }
        )
    return charts


def _sortable(value: Any) -> tuple[str, str]:
    """(sort key, text) of a leaderboard cell: numbers sort as numbers, blanks last."""
    if value is None or isinstance(value, float) and not np.isfinite(value):
        return "", "–"
    if isinstance(value, list):
        return ", ".join(value), ", ".join(value) or "–"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value)), cell(value)
    return str(value), str(value)


def _leaderboard(c: Comparison) -> str:
    """Every column of the JSON leaderboard, hyperparameters after the verdict."""
    keys = sorted({k for r in c.runs for k in r.hparams})
    names = columns(c)
    order = [*names[:3], *keys, *names[3:]]
    numeric = {name for name in order if name not in ("run", "verdict", "findings")}
    rows = [{**comparison_row(rank, r), **r.hparams} for rank, r in enumerate(c.runs, start=1)]
    order = [name for name in order if any(row.get(name) is not None for row in rows)]
    head = "".join(
        f'<th data-type="{"num" if name in numeric else "text"}" tabindex="0">{escape(name)}</th>'
        for name in order
    )
    body = []
    for r, row in zip(c.runs, rows, strict=True):
        tds = []
        for name in order:
            key, text = _sortable(row.get(name))
            style = f' class="v-{r.verdict}"' if name == "verdict" else ""
            tds.append(f'<td data-sort="{escape(key)}"{style}>{escape(text)}</td>')
        body.append(f"<tr>{''.join(tds)}</tr>")
    return (f'<div class="wide"><table class="leaderboard sortable"><thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div>")  # fmt: skip


def _groups(c: Comparison) -> str:
    if not c.groups:
        return ""
    rows = "".join(
        f"<tr><td>{escape(', '.join(f'{k}={v}' for k, v in g.by.items()))}</td><td>{g.runs}</td>"
        f"<td>{g.failed}</td><td>{cell(g.mean)}</td><td>{cell(g.std)}</td></tr>"
        for g in c.groups
    )
    return (
        '<h2>Groups</h2><table class="groups"><thead><tr><th>group</th><th>runs</th>'
        f"<th>failed</th><th>mean</th><th>std</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_comparison(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    """The compare page: sortable leaderboard, groups and summary, overlay, hyperparameters."""
    keys = list(c.by)
    verdicts = Counter(r.verdict for r in c.runs)
    total = ", ".join(f"{verdicts[v]} {v}" for v in ("fail", "warn", "pass") if verdicts[v])
    parts = [
        f"<h1>losstest compare: {len(c.runs)} runs ({total}), ranked by {escape(c.rank_by)}</h1>",
        _leaderboard(c),
        _groups(c),
    ]
    if c.summary:
        parts.append(
            '<ul class="sentences">' + "".join(f"<li>{escape(s)}</li>" for s in c.summary) + "</ul>"
        )
    if c.problems:
        items = "".join(f"<li>{escape(p.message)}</li>" for p in c.problems)
        parts.append(f'<h2>Unreadable</h2><ul class="problems">{items}</ul>')
    charts = []
    overlay = _overlay(c, keys)
    if overlay is not None:
        charts.append(overlay)
        parts.append(
            "<h2>Training loss of every run</h2>"
            + _chart_div(overlay)
            + '<p class="hint">dashed: failed runs · click a legend entry to hide it · '
            "drag to zoom · shift-drag to pan · double-click to reset</p>"
        )
    hparams = _hparam_charts(c, keys)
    if hparams:
        charts += hparams
        parts.append(
            f'<h2>{escape(c.rank_by)} by hyperparameter</h2><div class="hparams">'
            + "".join(_chart_div(h) for h in hparams)
            + "</div>"
        )
    return _page("losstest compare", parts, charts)


def _chart_div(chart: Mapping[str, Any]) -> str:
    """A place for a chart, as tall as the chart will be so that the page does not jump."""
    height = chart["height"] + 30  # and the legend below
    return f'<div class="chart" id="{chart["id"]}" style="min-height:{height}px"></div>'


# the page -----------------------------------------------------------------------------------


def _script(text: str) -> str:
    """Text safe inside a <script> element: no `</script>` or `<!--` can end it early."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _page(title: str, body: Sequence[str], charts: Sequence[Mapping[str, Any]]) -> str:
    data = json.dumps({"charts": list(charts)}, separators=(",", ":"), allow_nan=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f"<style>{_asset('uPlot.min.css')}\n{_asset('report.css')}</style></head><body>\n"
        + "\n".join(body)
        + f'\n<script type="application/json" id="losstest-data">{data}</script>'
        f"\n<script>{_script(_asset('uPlot.iife.min.js'))}</script>"
        f"\n<script>{_script(_asset('report.js'))}</script>\n</body></html>\n"
    )
