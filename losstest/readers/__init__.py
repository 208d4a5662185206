"""Readers, one module per format, each with `NAME`, `sniff(source)` and `read(source)`.

The format is found from the content; the order below is the order of sniffing, most
specific first. Every reader returns the canonical frame (see `losstest.frame`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import InputError
from . import csv, jsonl
from .source import Source, discover, run_name

READERS = {module.NAME: module for module in (jsonl, csv)}
# Files in a walked directory that are worth sniffing; anything else there is ignored.
LOG_SUFFIXES = {"jsonl", "ndjson", "json", "csv", "tsv", "log", "txt", "out"}

__all__ = ["READERS", "Source", "discover", "read", "sniff", "directory_sources"]


def sniff(source: Source) -> str | None:
    """The name of the first reader that recognises the content."""
    if source.format_hint:
        return source.format_hint
    return next((name for name, reader in READERS.items() if reader.sniff(source)), None)


def _why_unreadable(source: Source) -> str:
    head = source.head()
    if not head.strip():
        return "empty file"
    if b"\x00" in head[:4096]:
        return f"binary data, not a training log (tried: {', '.join(READERS)})"
    return f"not a known log format (tried: {', '.join(READERS)})"


def read(source: Source, input_format: str | None = None) -> tuple[pd.DataFrame, str]:
    """The canonical frame of one source and the format it was read as."""
    name = input_format or sniff(source)
    if name is None:
        raise InputError(source.name, _why_unreadable(source))
    if name not in READERS:
        raise InputError(source.name, f"unknown input format {name!r} (known: {', '.join(READERS)})")
    try:
        frame = READERS[name].read(source)
    except InputError:
        raise
    except Exception as e:  # a reader meeting content it cannot parse
        raise InputError(source.name, f"could not be read as {name}: {e}") from e
    if frame.empty:
        raise InputError(source.name, f"no numeric metric found (read as {name})")
    return frame, name


def directory_sources(root: Path) -> list[Source]:
    """The runs below a directory: each log file is one source."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for file in sorted(files):
            path = Path(folder, file)
            suffix = file.removesuffix(".gz").rsplit(".", 1)[-1].lower()
            if suffix in LOG_SUFFIXES and not file.startswith("."):
                found.append(Source(name=str(path), path=path, run=run_name(path)))
    return [s for s in found if sniff(s) is not None]
