"""Many runs side by side: a leaderboard, hyperparameters, groups over seeds, a summary.

Each run is read and analysed in a worker process (local, or on a Dask cluster) and reduced to
a small `RunSummary`, so that memory stays flat however many runs a sweep has.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from . import api, hparams, readers
from .checks import tallies
from .cluster import map_on_cluster
from .config import Config
from .curves import Curve
from .engine import analyze_frame
from .errors import ConfigError, InputError
from .report import Comparison, Group, InputProblem, RunReport, RunSummary
from .signal import SMOOTHING, envelope, smoothed

RANKINGS = ("best_val_loss", "final_loss", "auc", "steps_to_target")
TREND_POINTS = 400  # vertices of the smoothed curve kept per run for overlays: light for 1000s


def check_ranking(rank_by: str | None) -> None:
    if rank_by is not None and rank_by not in RANKINGS:
        raise ConfigError(f"--rank-by {rank_by!r}: one of {', '.join(RANKINGS)}")


def summarize(run: RunReport, target: float | None = None, keep: bool = False) -> RunSummary:
    train = run.curves.train if run.curves is not None else None
    val = run.curves.val if run.curves is not None else None
    best_val = best_step = auc = reached = None
    if val is not None and val.finite.any():
        i = int(np.argmin(np.where(val.finite, val.value, np.inf)))
        best_val, best_step = float(val.value[i]), int(val.step[i])
    if train is not None and train.finite.sum() > 1:
        steps, values = train.step[train.finite], train.value[train.finite]
        span = float(steps[-1] - steps[0]) or 1.0
        auc = float(np.trapezoid(values, (steps - steps[0]) / span))
        if target is not None and (values <= target).any():
            reached = int(steps[np.argmax(values <= target)])
    final = train.final_level() if train is not None else None
    last_val = float(val.value[val.finite][-1]) if val is not None and val.finite.any() else None
    return RunSummary(
        run=run.run, source=run.source, verdict=run.verdict,
        findings=tuple(dict.fromkeys(f.kind for f in run.findings if f.severity != "info")),
        hparams=hparams.of_run(run.run, run.source), steps=run.steps, final_loss=final,
        best_val_loss=best_val, best_val_step=best_step, auc=auc, steps_to_target=reached,
        tallies=tallies(run.findings),
        val_gap=None if last_val is None or final is None else last_val - final,
        report=run if keep else None, trend=_trend(train),
    )  # fmt: skip


def _trend(train: Curve | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The curve an overlay draws, reduced where it is computed so that thousands of runs stay
    small in memory and in a page."""
    if train is None or not train.finite.any():
        return None
    step, value = train.step[train.finite], train.value[train.finite]
    return envelope(step, smoothed(value, SMOOTHING), TREND_POINTS)


Summaries = tuple[list[RunSummary], list[InputProblem]]


def _summarize_source(task: tuple) -> Summaries:
    source, config, options, target, keep = task
    try:
        reports = analyze_frame(api.read_source(source, options), config)
    except InputError as e:
        return [], [InputProblem(e.source, str(e))]
    return [summarize(r, target, keep) for r in reports], []


def _lost(task: tuple, why: str) -> Summaries:
    """A run whose analysis never came back from the cluster, and why."""
    source = task[0]
    return [], [InputProblem(source.name, f"{source.name}: {why} while it was read or analysed")]


def _locally(tasks: list[tuple], jobs: int) -> Iterator[tuple[int, Summaries]]:
    if jobs > 1 and len(tasks) > 4:
        with ProcessPoolExecutor(jobs) as pool:
            chunk = max(1, len(tasks) // (8 * jobs))
            yield from enumerate(pool.map(_summarize_source, tasks, chunksize=chunk))
    else:
        yield from ((i, _summarize_source(task)) for i, task in enumerate(tasks))


def rank(runs: Sequence[RunSummary], rank_by: str) -> list[RunSummary]:
    def key(r: RunSummary) -> tuple:
        value = r.value(rank_by)
        return (r.verdict == "fail", value is None or math.isnan(value), value or 0.0, r.run)

    return sorted(runs, key=key)


def group(runs: Sequence[RunSummary], by: Sequence[str], rank_by: str) -> list[Group]:
    buckets: dict[tuple, list[RunSummary]] = {}
    for r in runs:
        buckets.setdefault(tuple(r.hparams.get(k) for k in by), []).append(r)
    groups = []
    for values, members in sorted(buckets.items(), key=lambda kv: [str(v) for v in kv[0]]):
        ok = [m.value(rank_by) for m in members if m.verdict != "fail"]
        ok = [v for v in ok if v is not None]
        groups.append(Group(
            dict(zip(by, values, strict=True)), len(members),
            sum(m.verdict == "fail" for m in members),
            float(np.mean(ok)) if ok else None,
            float(np.std(ok, ddof=1)) if len(ok) > 1 else None, tuple(ok),
        ))  # fmt: skip
    return groups


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sentences(groups: Sequence[Group], by: Sequence[str], rank_by: str) -> list[str]:
    """What a person would say about the groups: which broke, which is best and by how much."""
    out = []
    if len(by) == 1:
        key = by[0]
        broken = [g for g in groups if g.failed == g.runs]
        numeric = all(isinstance(g.by[key], int | float) for g in groups)
        if broken and numeric:
            lowest = min(g.by[key] for g in broken)
            above = [g for g in groups if g.by[key] >= lowest]
            if all(g.failed == g.runs for g in above):
                count = sum(g.runs for g in above)
                out.append(f"all {count} runs with {key} ≥ {_fmt(lowest)} failed")
        elif broken:
            out.append(
                "every run failed with " + ", ".join(f"{key} {_fmt(g.by[key])}" for g in broken)
            )
    scored = sorted((g for g in groups if g.mean is not None), key=lambda g: g.mean)
    if len(scored) >= 2:
        best, second = scored[0], scored[1]
        name = lambda g: ", ".join(f"{k} {_fmt(v)}" for k, v in g.by.items())  # noqa: E731
        text = (f"{name(best)} is best ({rank_by} {best.mean:.4g}), "
                f"{second.mean - best.mean:.3g} lower than {name(second)}")  # fmt: skip
        if len(best.values) >= 2 and len(second.values) >= 2:
            from scipy.stats import mannwhitneyu

            p = mannwhitneyu(best.values, second.values, alternative="less").pvalue
            counts = f"{len(best.values)} and {len(second.values)} runs"
            text += f" (p = {p:.2g}, Mann-Whitney over {counts})"
        out.append(text)
    return out


def compare(
    paths: Sequence[str],
    config: Config | None = None,
    options: api.ReadOptions = api.DEFAULT_READ,
    rank_by: str | None = None,
    by: Sequence[str] = (),
    target: float | None = None,
    jobs: int | None = None,
    keep_reports: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cluster: str | None = None,
) -> Comparison:
    """Analyse every run under the paths (in `jobs` worker processes, or on the Dask cluster
    whose scheduler is at `cluster`) and compare them."""
    check_ranking(rank_by)
    config = config or Config()
    found, errors = readers.discover(list(paths), options)
    problems = [InputProblem(e.source, str(e)) for e in errors]
    tasks = [(s, config, options, target, keep_reports) for s in found]
    if cluster:
        results = map_on_cluster(cluster, _summarize_source, tasks, _lost)
    else:
        results = _locally(tasks, jobs or os.cpu_count() or 1)
    by_task: dict[int, Summaries] = {}
    for done, (i, result) in enumerate(results, start=1):
        by_task[i] = result
        if progress:
            progress(done, len(tasks))
    summaries = [run for i in sorted(by_task) for run in by_task[i][0]]
    problems += [problem for i in sorted(by_task) for problem in by_task[i][1]]
    if rank_by is None:
        rank_by = (
            "best_val_loss" if any(s.best_val_loss is not None for s in summaries) else "final_loss"
        )
    ranked = rank(summaries, rank_by)
    groups = group(ranked, by, rank_by) if by else []
    return Comparison(rank_by, tuple(ranked), tuple(groups), tuple(sentences(groups, by, rank_by)),
                      tuple(problems), tuple(by))  # fmt: skip
