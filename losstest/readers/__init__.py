"""Readers, one module per format, each with `NAME`, `sniff(source, options)` and
`read(source, options)`.

The format is found from the content; the order below is the order of sniffing, most
specific first. Every reader returns the canonical frame (see `losstest.frame`).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pandas as pd

from ..errors import ConfigError, InputError, LossTestError
from ..lazy import Lazy
from ..storage import RemotePath, parse_options, resolve, walk
from .limits import ENV, limits
from .options import DEFAULT, ReadOptions
from .source import GENERIC_STEMS, LFS_POINTER, LFS_PROBLEM, Source, printable, run_name

# Format name → module, in the order of sniffing. A module is imported when it is first
# sniffed or read, so that a JSON Lines log never loads the text reader's regular expressions
# or the CSV readers (tests/test_layout.py holds the names to the modules).
ORDER = {
    "tensorboard": "tensorboard",
    "wandb": "wandb_offline",
    "comet": "comet",
    "mlflow": "mlflow",
    "dvclive": "dvclive",
    "neptune": "neptune",
    "hf-trainer": "hf_trainer",
    "megatron": "megatron",
    "sacred": "sacred",
    "keras-history": "keras_history",
    "json-records": "json_records",
    "ray-tune": "ray_tune",
    "clearml": "clearml",
    "jsonl": "jsonl",
    "text": "text",
    "tidy-csv": "tidy_csv",
    "wandb-csv": "wandb_csv",
    "csv": "csv",
}


def reader(name: str) -> ModuleType:
    """The format's reader module, imported now if it was not yet."""
    return importlib.import_module(f"{__name__}.{ORDER[name]}")


READERS = Lazy(ORDER, reader)  # sniffing goes through it in order, importing as it goes

# Files in a walked directory that are worth sniffing; anything else there is ignored.
LOG_SUFFIXES = {"jsonl", "ndjson", "json", "csv", "tsv", "log", "txt", "out", "wandb", "zip"}
# Files that may hold a text log whatever their name says (`.md`, `.err`, no suffix): only
# their head is sniffed, and only for a text log that makes most of it (a README's table is no
# CSV, and a README quoting log lines no log).
TEXT_SUFFIXES = {"", "md", "err", "stdout", "stderr"}
# Chainer's `LogReport` writes its JSON records to a file named `log`.
CHAINER_LOG = "log"
# Folders that are one run each, read by their reader; nothing below them is walked.
FOLDER_RUNS = ("mlflow", "dvclive", "ray-tune", "wandb", "neptune", "clearml")
# Folders of event files that hold one split of a run (Keras: `train/` and `validation/`; TF's
# Estimator: `eval/` below the training folder).
TRAIN_FOLDERS = ("train", "training")
EVAL_FOLDERS = ("validation", "val", "valid", "eval", "evaluation")
# Suffixes only logs have: such a file that no reader recognises is a problem, never skipped.
PROBLEM_SUFFIXES = {"jsonl", "ndjson", "csv", "tsv", "log", "out"}

__all__ = ["READERS", "ReadOptions", "Source", "discover", "read", "sniff", "directory_sources"]


def sniff(source: Source, options: ReadOptions = DEFAULT) -> str | None:
    """The name of the first reader that recognises the content. A sniffer that fails on the
    head does not recognise it; only an unreadable file or a wrong limit ends the sniffing."""
    if source.format_hint:
        return source.format_hint
    return next(
        (name for name, reader in READERS.items() if _recognises(reader, source, options)), None
    )


def _recognises(reader, source: Source, options: ReadOptions) -> bool:
    try:
        return bool(reader.sniff(source, options))
    except LossTestError:  # an unreadable file, a limit that is no number
        raise
    except Exception:  # damaged content, a --pattern that does not compile, deep JSON, ...
        return False


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


def read(source: Source, options: ReadOptions = DEFAULT) -> tuple[pd.DataFrame, str]:
    """The canonical frame of one source and the format it was read as."""
    name = options.input_format or sniff(source, options)
    if name is None:
        raise InputError(source.name, _why_unreadable(source))
    if name not in READERS:
        raise InputError(
            source.name, f"unknown input format {name!r} (known: {', '.join(READERS)})"
        )
    try:
        frame = READERS[name].read(source, options)
    except InputError:
        raise
    except Exception as e:  # a reader meeting content it cannot parse
        first_line = next(iter(str(e).splitlines()), type(e).__name__)
        raise InputError(source.name, f"could not be read as {name}: {first_line}") from e
    if frame.empty:
        raise InputError(source.name, f"no numeric metric found (read as {name})")
    allowed = limits().keys  # finding the loss among the metrics goes through each name
    if len(frame["metric"].cat.categories) > allowed:
        raise InputError(source.name, f"more than {allowed} metrics ({ENV['keys']})")
    return frame, name


def _event_files(files: list[str]) -> list[str]:
    mark = reader("tensorboard").FILE_MARK
    return [f for f in files if mark in f and not f.endswith(".profile-empty")]


def _run_label(root: Path, folder: Path) -> str:
    """A run named as TensorBoard names it: its folder relative to the root given."""
    relative = folder.relative_to(root).as_posix()
    return root.name if relative == "." else relative


def _is_log_name(file: str) -> bool:
    """A file the walk will sniff (a remote walk fetches these heads in batches)."""
    suffix = file.removesuffix(".gz").rsplit(".", 1)[-1].lower() if "." in file else ""
    return suffix in LOG_SUFFIXES | TEXT_SUFFIXES and not file.startswith(".")


def directory_sources(root: Path | RemotePath, options: ReadOptions = DEFAULT) -> list[Source]:
    """The runs below a directory (local, or at a URL): each folder of event files is one run,
    as TensorBoard has it (`add_scalars` writes a folder per series), except a subfolder without
    scalars, such as the HF Trainer's folder of hparams, which belongs to the run above it; each
    other log file is one run."""
    found: list[Source] = []
    runs: dict[Path | RemotePath, Source] = {}
    tensorboard, tidy_csv, ray_tune = map(reader, ("tensorboard", "tidy-csv", "ray-tune"))
    folder_runs = tuple(map(reader, FOLDER_RUNS))
    for here, dirs, files in walk(root, sniffed=_is_log_name):
        dirs.sort()
        folder_run = next((r for r in folder_runs if r.is_run(here)), None)
        if folder_run is not None:
            found.append(folder_run.source(here))
            dirs.clear()
            continue
        events = sorted(_event_files(files))
        if events:
            owner = next((runs[p] for p in here.parents if p in runs), None)
            paths = tuple(here / f for f in events)
            if owner is not None and not tensorboard.has_scalars(paths):
                owner.files += paths
            else:
                runs[here] = Source(
                    name=str(here), path=here, run=_run_label(root, here), files=paths,
                    format_hint=tensorboard.NAME,
                )  # fmt: skip
                found.append(runs[here])
        charts = tidy_csv.downloads(files)
        for run, chart_files in charts.items():
            found.append(
                Source(
                    name=str(here / f"run-{run}-tag-*.csv"),
                    path=here,
                    run=run,
                    files=tuple(here / f for f in chart_files),
                    format_hint=tidy_csv.NAME,
                )  # fmt: skip
            )
        taken = set(events).union(*charts.values())
        for file in sorted(set(files) - taken):
            path = here / file
            source = Source(name=str(path), path=path, run=run_name(path))
            if (
                file.startswith(".")
                or source.suffix not in LOG_SUFFIXES | TEXT_SUFFIXES
                or ray_tune.EXPERIMENT_STATE.fullmatch(file)
                or not path.is_file()  # a dangling link
            ):
                continue
            if source.suffix in LOG_SUFFIXES and _is_log(source, options):
                found.append(source)
            elif file == CHAINER_LOG and _recognises(reader("json-records"), source, options):
                found.append(replace(source, format_hint="json-records"))
            elif source.suffix in TEXT_SUFFIXES and _is_text_log(source, options):
                found.append(replace(source, format_hint="text"))
    return _splits_joined(root, runs, found)


def _splits_joined(
    root: Path | RemotePath, runs: dict[Path | RemotePath, Source], found: list[Source]
) -> list[Source]:
    """A run's evaluation folder of event files joined to its training one, its metrics then
    named by folder (`validation/epoch_loss` beside `train/epoch_loss`): Keras writes
    `logs/train/` and `logs/validation/` (one run, `logs`), TF's Estimator `eval/` below the
    training folder. TensorBoard shows them as two runs drawn in one chart; a check of
    overfitting needs them as one."""
    for folder, source in list(runs.items()):
        parent = folder.parent
        if folder.name.lower() not in EVAL_FOLDERS or folder == root:
            continue
        train = next((parent / n for n in TRAIN_FOLDERS if parent / n in runs), None)
        if parent in runs:
            target = runs[parent]
        elif train is not None:
            target = replace(runs.pop(train), name=str(parent), path=parent)
            target.run = _run_label(root, parent)
            found[found.index(next(s for s in found if s.path == train))] = target
            runs[parent] = target
        else:
            continue
        target.files += source.files
        found.remove(source)
        del runs[folder]
    return found


def _is_log(source: Source, options: ReadOptions) -> bool:
    """A file of the walk worth reading: one a reader recognises, or one that should have been
    a log (an unreadable file, a log suffix, a log's name) and is named as a problem when
    read, never skipped without a word. Other JSON and text (configs, vocabularies) are not.
    A log's suffix or name is enough: such a file is not sniffed twice (here and when read),
    which was a tenth of `compare`'s work over a sweep of small runs."""
    stem = Path(source.name).name.removesuffix(".gz").rsplit(".", 1)[0].lower()
    if source.suffix in PROBLEM_SUFFIXES or stem in GENERIC_STEMS:
        return True
    try:
        return sniff(source, options) is not None
    except InputError:
        return True


def _is_text_log(source: Source, options: ReadOptions) -> bool:
    """A file without a log's suffix that is mostly a text log; one that cannot be read is
    named as a problem, and a head the test fails on is no log."""
    try:
        return reader("text").mostly_log(source, options)
    except InputError:
        return True
    except Exception:  # damaged content in a file that was never said to be a log
        return False


def discover(
    paths: list[str], options: ReadOptions = DEFAULT
) -> tuple[list[Source], list[InputError]]:
    """Every run under the paths (local, or URLs read with `options.storage_options`): files as
    given, directories walked for logs.

    Returns the sources and the paths that could not be used.
    """
    sources: list[Source] = []
    errors: list[InputError] = []
    for arg in paths:
        if arg == "-":
            sources.append(Source(name="<stdin>", run="stdin"))
            continue
        try:
            for path in resolve(arg, options.storage_options):
                if path.is_dir():
                    found = directory_sources(path, options)
                    if not found:
                        errors.append(
                            InputError(
                                printable(str(path)), "no training logs found in this directory"
                            )
                        )
                    sources.extend(found)
                elif path.exists():
                    sources.append(Source(name=str(path), path=path, run=run_name(path)))
                else:
                    errors.append(InputError(printable(str(path)), "no such file or directory"))
        except InputError as e:  # a URL that cannot be reached, a pattern matching nothing
            errors.append(e)
    return sources, errors


def options(
    input_format: str | None = None,
    step: str | None = None,
    pattern: str | None = None,
    storage: list[str] | None = None,
) -> ReadOptions:
    """ReadOptions from the user's words, checked: a known format, a regex that compiles,
    storage options as KEY=VALUE."""
    if input_format is not None and input_format not in READERS:
        raise ConfigError(f"unknown --input-format {input_format!r} (known: {', '.join(READERS)})")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as e:
            raise ConfigError(f"--pattern {pattern!r} is not a regular expression ({e})") from e
    return ReadOptions(input_format, step, pattern, parse_options(storage))
