"""`--format json`: the report as SPEC's `losstest/report/v1` document, and the comparison as
`losstest/compare/v1`."""

from __future__ import annotations

import json
import math
from typing import Any

from ..report import Comparison, Finding, Report, RunReport, RunSummary, Summary
from .options import DEFAULT, RenderOptions

NAME = "json"
SCHEMA = "losstest/report/v1"
COMPARE_SCHEMA = "losstest/compare/v1"
HEAD = ("rank", "run", "verdict")
MEASURES = ("final_loss", "best_val_loss", "best_val_step", "auc", "steps_to_target")
TAIL = ("val_gap", "steps", "findings")


def _number(x: Any) -> Any:
    """JSON has no NaN or Infinity: non-finite numbers become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, list | tuple):
        return [_number(v) for v in x]
    return x


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "code": f.code,
        "severity": f.severity.value,
        "metric": f.metric,
        "start_step": f.start_step,
        "end_step": f.end_step,
        "message": f.message,
        "evidence": {k: _number(v) for k, v in f.evidence.items()},
    }


def _summary(s: Summary | None) -> dict[str, Any] | None:
    return None if s is None else {
        "first": _number(s.first), "last": _number(s.last), "min": _number(s.min),
        "min_step": s.min_step, "final": _number(s.final),
    }  # fmt: skip


def run_dict(r: RunReport) -> dict[str, Any]:
    return {
        "source": r.source,
        "run": r.run,
        "verdict": r.verdict,
        "metric": r.metric,
        "val_metric": r.val_metric,
        "steps": r.steps,
        "last_step": r.last_step,
        "summary": _summary(r.summary),
        "val_summary": _summary(r.val_summary),
        "findings": [finding_dict(f) for f in r.findings],
    }


def report_dict(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": SCHEMA, "runs": [run_dict(r) for r in report.runs]}
    if report.problems:
        out["problems"] = [{"source": p.source, "message": p.message} for p in report.problems]
    return out


def render(report: Report, options: RenderOptions = DEFAULT) -> str:
    return json.dumps(report_dict(report), indent=2, allow_nan=False) + "\n"


def columns(c: Comparison) -> tuple[str, ...]:
    """The leaderboard's columns: the measures, then what the checks tally (spikes, swings)."""
    tallies = dict.fromkeys(k for r in c.runs for k in r.tallies)
    return (*HEAD, *MEASURES, *tallies, *TAIL)


def comparison_row(rank: int, r: RunSummary) -> dict[str, Any]:
    return {
        "rank": rank, "run": r.run, "source": r.source, "verdict": r.verdict,
        "hparams": {k: _number(v) for k, v in r.hparams.items()},
        "final_loss": _number(r.final_loss), "best_val_loss": _number(r.best_val_loss),
        "best_val_step": r.best_val_step, "auc": _number(r.auc),
        "steps_to_target": r.steps_to_target, **r.tallies,
        "val_gap": _number(r.val_gap), "steps": r.steps, "findings": list(r.findings),
    }  # fmt: skip


def comparison_dict(c: Comparison) -> dict[str, Any]:
    return {
        "schema": COMPARE_SCHEMA,
        "rank_by": c.rank_by,
        "runs": [comparison_row(i, r) for i, r in enumerate(c.runs, start=1)],
        "groups": [
            {"by": g.by, "runs": g.runs, "failed": g.failed, "mean": g.mean, "std": g.std}
            for g in c.groups
        ],
        "summary": list(c.summary),
        "problems": [{"source": p.source, "message": p.message} for p in c.problems],
    }


def render_comparison(c: Comparison, options: RenderOptions = DEFAULT) -> str:
    return json.dumps(comparison_dict(c), indent=2, allow_nan=False) + "\n"


def render_metrics(report: Report, options: RenderOptions = DEFAULT) -> str:
    """`--list-metrics -f json`: every metric of every run with its count, and the losses
    chosen."""
    runs = [
        {
            "source": r.source,
            "run": r.run,
            "metrics": dict(r.metrics),
            "training_loss": r.metric,
            "validation_loss": r.val_metric,
        }
        for r in report.runs
    ]
    return json.dumps({"runs": runs}, indent=2) + "\n"
