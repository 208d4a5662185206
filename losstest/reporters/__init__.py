"""Reporters, one module per output format, each with `render(report, color, width) -> str`."""

from __future__ import annotations

from collections.abc import Callable

from ..model import Report
from . import json, text

REPORTERS: dict[str, Callable[..., str]] = {"text": text.render, "json": json.render}

__all__ = ["REPORTERS", "Report"]
