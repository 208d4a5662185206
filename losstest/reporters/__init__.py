"""Reporters, one module per output format. Each declares `NAME` and one or both of
`render(report, options)` (for `analyze`) and `render_comparison(comparison, options)` (for
`compare`), returning text, or bytes for an image.

Adding a format is one module and one line in the tuple below; the commands offer it from here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import ConfigError
from ..report import Comparison, Report
from . import csv, github, html, json, junit, markdown, plot, text
from .options import PlotOptions, RenderOptions


@dataclass(frozen=True)
class Reporter:
    name: str
    render: Callable[[Any, RenderOptions], str | bytes] | None  # a Report
    render_comparison: Callable[[Any, RenderOptions], str | bytes] | None  # a Comparison

    @classmethod
    def of(cls, module: ModuleType) -> Reporter:
        return cls(
            module.NAME, getattr(module, "render", None), getattr(module, "render_comparison", None)
        )


REPORTERS: dict[str, Reporter] = {
    reporter.name: reporter
    for reporter in map(Reporter.of, (text, json, junit, github, markdown, csv, plot, html))
}
REPORT_FORMATS = tuple(name for name, r in REPORTERS.items() if r.render is not None)
COMPARISON_FORMATS = tuple(name for name, r in REPORTERS.items() if r.render_comparison)


def target(spec: str, formats: tuple[str, ...]) -> tuple[str, Path]:
    """`junit=out/report.xml` → ("junit", Path("out/report.xml"))."""
    name, _, path = spec.partition("=")
    if name not in formats or not path:
        raise ConfigError(
            f"--report {spec!r}: expected FORMAT=PATH with FORMAT one of {', '.join(formats)}"
        )
    return name, Path(path)


def emit(
    subject: Report | Comparison, targets: list[tuple[str, Path | None]], options: RenderOptions
) -> None:
    """Each format to its file, or to standard output for None; colour only on the terminal."""
    for name, path in targets:
        reporter = REPORTERS[name]
        render = reporter.render_comparison if isinstance(subject, Comparison) else reporter.render
        if render is None:
            raise ConfigError(f"--format {name} is not offered here")
        write(render(subject, options if path is None else replace(options, color=False)), path)


def write(rendered: str | bytes, path: Path | None) -> None:
    """To the file (its folder made), or to standard output when there is none."""
    if path is None:
        if isinstance(rendered, bytes):
            sys.stdout.buffer.write(rendered)
        else:
            sys.stdout.write(rendered)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(rendered, bytes):
        path.write_bytes(rendered)
    else:
        path.write_text(rendered, encoding="utf-8")


__all__ = [
    "COMPARISON_FORMATS", "REPORTERS", "REPORT_FORMATS", "PlotOptions", "RenderOptions",
    "Reporter", "emit", "target", "write",
]  # fmt: skip
