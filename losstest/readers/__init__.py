"""Readers, one module per format, each with `NAME`, `sniff(source)` and `read(source)`.

The format is found from the content; the order below is the order of sniffing, most
specific first. Every reader returns the canonical frame (see `losstest.frame`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import InputError
from . import csv, hf_trainer, jsonl, keras_history, megatron, mlflow, tensorboard, text, wandb_csv
from .source import LFS_POINTER, LFS_PROBLEM, Source, discover, run_name

READERS = {
    module.NAME: module
    for module in (
        tensorboard,
        mlflow,
        hf_trainer,
        megatron,
        keras_history,
        jsonl,
        text,
        wandb_csv,
        csv,
    )
}
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
    if head.startswith(LFS_POINTER):
        return LFS_PROBLEM
    if b"\x00" in head[:4096]:
        return f"binary data, not a training log (tried: {', '.join(READERS)})"
    if head.lstrip()[:1] == b"{":
        return f"JSON that no reader recognises (tried: {', '.join(READERS)})"
    return f"no metric lines or table found (tried: {', '.join(READERS)})"


def read(source: Source, input_format: str | None = None) -> tuple[pd.DataFrame, str]:
    """The canonical frame of one source and the format it was read as."""
    name = input_format or sniff(source)
    if name is None:
        raise InputError(source.name, _why_unreadable(source))
    if name not in READERS:
        raise InputError(
            source.name, f"unknown input format {name!r} (known: {', '.join(READERS)})"
        )
    try:
        frame = READERS[name].read(source)
    except InputError:
        raise
    except Exception as e:  # a reader meeting content it cannot parse
        raise InputError(source.name, f"could not be read as {name}: {e}") from e
    if frame.empty:
        raise InputError(source.name, f"no numeric metric found (read as {name})")
    return frame, name


def _event_files(files: list[str]) -> list[str]:
    return [f for f in files if tensorboard.FILE_MARK in f and not f.endswith(".profile-empty")]


def _run_label(root: Path, folder: Path) -> str:
    """A run named as TensorBoard names it: its folder relative to the root given."""
    relative = folder.relative_to(root).as_posix()
    return root.name if relative == "." else relative


def directory_sources(root: Path) -> list[Source]:
    """The runs below a directory: each folder of event files is one run (a subfolder of
    such a folder, as the HF Trainer writes for hparams, belongs to it); each other log file
    is one run."""
    found: list[Source] = []
    runs: dict[Path, Source] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(folder)
        if mlflow.is_run(here):
            label = mlflow.run_label(here)
            found.append(Source(str(here), here, label, format_hint=mlflow.NAME))
            dirs.clear()
            continue
        events = sorted(_event_files(files))
        if events:
            owner = next((runs[p] for p in here.parents if p in runs), None)
            paths = tuple(here / f for f in events)
            if owner is not None:
                owner.files += paths
            else:
                runs[here] = Source(
                    name=str(here), path=here, run=_run_label(root, here), files=paths,
                    format_hint=tensorboard.NAME,
                )  # fmt: skip
                found.append(runs[here])
        for file in sorted(set(files) - set(events)):
            path = here / file
            suffix = file.removesuffix(".gz").rsplit(".", 1)[-1].lower()
            if suffix in LOG_SUFFIXES and not file.startswith("."):
                source = Source(name=str(path), path=path, run=run_name(path))
                if sniff(source) is not None:
                    found.append(source)
    return found
