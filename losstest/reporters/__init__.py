"""Reporters, one module per output format. Each declares `NAME` and one or both of
`render(report, options)` (for `analyze`) and `render_comparison(comparison, options)` (for
`compare`), returning text, or bytes for an image.

Adding a format is one module and one line in the table below; the commands offer it from here.
A format's module is imported when it is first used, so that `analyze` printing text does not
load the HTML page, matplotlib and the rest (tests/test_layout.py holds the table to the modules).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import ConfigError
from ..lazy import Lazy
from ..report import Comparison, Report
from .options import PlotOptions, RenderOptions


@dataclass(frozen=True)
class Format:
    module: str  # in this package
    report: bool  # the module has render()
    comparison: bool  # the module has render_comparison()


FORMATS: dict[str, Format] = {
    "text": Format("text", report=True, comparison=True),
    "json": Format("json", report=True, comparison=True),
    "junit": Format("junit", report=True, comparison=False),
    "github": Format("github", report=True, comparison=False),
    "markdown": Format("markdown", report=True, comparison=True),
    "csv": Format("csv", report=False, comparison=True),
    "png": Format("plot", report=True, comparison=True),
    "html": Format("html", report=True, comparison=True),
}
REPORT_FORMATS = tuple(name for name, f in FORMATS.items() if f.report)
COMPARISON_FORMATS = tuple(name for name, f in FORMATS.items() if f.comparison)


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


@cache
def reporter(name: str) -> Reporter:
    """The format's reporter, its module imported now."""
    return Reporter.of(importlib.import_module(f"{__name__}.{FORMATS[name].module}"))


REPORTERS = Lazy(FORMATS, reporter)  # every format's reporter, imported when asked for


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
        chosen = reporter(name)
        render = chosen.render_comparison if isinstance(subject, Comparison) else chosen.render
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
    "COMPARISON_FORMATS", "FORMATS", "REPORTERS", "REPORT_FORMATS", "PlotOptions",
    "RenderOptions", "Reporter", "emit", "reporter", "target", "write",
]  # fmt: skip
