"""Reporters, one module per output format, each with `render(report, options) -> str`.
PNG plots are drawn by `reporters.plot`."""

from __future__ import annotations

from collections.abc import Callable

from ..model import Report
from . import github, json, junit, markdown, text
from .options import RenderOptions

REPORTERS: dict[str, Callable[[Report, RenderOptions], str]] = {
    "text": text.render,
    "json": json.render,
    "junit": junit.render,
    "github": github.render,
    "markdown": markdown.render,
}

__all__ = ["REPORTERS", "RenderOptions"]
