"""`--format json`: the report as SPEC's `losstest/report/v1` document."""

from __future__ import annotations

import json
import math
from typing import Any

from ..model import Finding, Report, RunReport
from .options import DEFAULT, RenderOptions

SCHEMA = "losstest/report/v1"


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
        "severity": f.severity.value,
        "metric": f.metric,
        "start_step": f.start_step,
        "end_step": f.end_step,
        "message": f.message,
        "evidence": {k: _number(v) for k, v in f.evidence.items()},
    }


def run_dict(r: RunReport) -> dict[str, Any]:
    s = r.summary
    summary = None if s is None else {
        "first": _number(s.first), "last": _number(s.last), "min": _number(s.min),
        "min_step": s.min_step,
    }  # fmt: skip
    return {
        "source": r.source,
        "run": r.run,
        "verdict": r.verdict,
        "metric": r.metric,
        "val_metric": r.val_metric,
        "steps": r.steps,
        "last_step": r.last_step,
        "summary": summary,
        "findings": [finding_dict(f) for f in r.findings],
    }


def report_dict(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": SCHEMA, "runs": [run_dict(r) for r in report.runs]}
    if report.problems:
        out["problems"] = [{"source": p.source, "message": p.message} for p in report.problems]
    return out


def render(report: Report, options: RenderOptions = DEFAULT) -> str:
    return json.dumps(report_dict(report), indent=2, allow_nan=False) + "\n"
