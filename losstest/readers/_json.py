"""Helpers for readers of whole-document JSON formats."""

from __future__ import annotations

from typing import Any

from .limits import parse_document
from .source import Source


def document(source: Source) -> Any:
    """The parsed document; NaN and Infinity tokens accepted as Python's json writes them."""
    return parse_document(source.data(), source.name)


def head_has(source: Source, *needles: bytes) -> bool:
    head = source.head().lstrip()
    return head.startswith(b"{") and all(n in head for n in needles)


def number(value: Any) -> float | None:
    """A metric value, or None for anything that is not one (a string, None, a list)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def number_or_text(value: Any) -> float | None:
    """A metric value, also one written as text ("3.5", "nan"), as JSON Lines loggers do."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return number(value)
