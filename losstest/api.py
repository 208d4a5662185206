"""The library API: `load` logs into the canonical frame, `analyze` logs or a frame into a
Report. Reading is here; judging one run is the engine's."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import config as config_file
from . import readers
from .checks import kind_of, plan
from .config import Config
from .curves import Curve
from .engine import analyze_frame, curve_of, pick_metrics
from .errors import ConfigError, InputError
from .frame import concat, labelled
from .readers import ReadOptions, Source
from .report import InputProblem, Report, RunReport

Paths = str | Path | Sequence[str | Path]
DEFAULT_READ = ReadOptions()


def configure(
    path: Path | None = None,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    **overrides: Any,
) -> Config:
    """The configuration in effect: the file given (or found upward), then the command-line
    overrides (None leaves a setting as the file has it). Every check, key and value is checked
    now, before any log is read."""
    base = config_file.load(path)
    chosen = base.replace(
        select=frozenset(kind_of(k, "--select") for k in select) if select else None,
        ignore=base.ignore | {kind_of(k, "--ignore") for k in ignore} if ignore else None,
        **overrides,
    )
    plan(chosen)
    return chosen


def _paths(paths: Paths) -> list[str]:
    return [str(paths)] if isinstance(paths, str | Path) else [str(p) for p in paths]


def read_source(source: Source, options: ReadOptions = DEFAULT_READ) -> pd.DataFrame:
    """One source's canonical frame, with `source` as a column."""
    frame, _ = readers.read(source, options)
    return labelled(frame, source.name, source.run)


def iter_frames(
    paths: Paths,
    options: ReadOptions = DEFAULT_READ,
    on_error: Callable[[InputError], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """The frame of each readable source, one at a time. Unreadable ones go to `on_error`
    (or raise when it is None); damage read around goes to `on_warning`."""

    def fail(error: InputError) -> None:
        if on_error is None:
            raise error
        on_error(error)

    found, errors = readers.discover(_paths(paths), options)
    for error in errors:
        fail(error)
    for source in found:
        try:
            frame = read_source(source, options)
        except InputError as error:
            fail(error)
            continue
        for warning in source.warnings if on_warning else ():
            on_warning(warning)
        yield frame


def load(paths: Paths, options: ReadOptions = DEFAULT_READ) -> pd.DataFrame:
    """All runs under the paths in one canonical frame (columns: source, run, metric, step,
    value, and wall_time / epoch where the format has them). Raises InputError for the first
    unreadable file."""
    frames = list(iter_frames(paths, options))
    if not frames:
        raise InputError(", ".join(_paths(paths)), "no training logs found")
    return concat(frames)


def reference_curve(config: Config) -> Curve | None:
    """The training loss of the configured reference run, read once for all runs."""
    if config.reference is None:
        return None
    run = config.reference["run"]
    try:
        frame = load(run)
    except InputError as e:
        raise ConfigError(f"reference run: {e}") from e
    metric = config.reference.get("metric") or pick_metrics(frame, config)[0]
    if metric is None or metric not in set(frame["metric"].cat.categories):
        raise ConfigError(f"reference run {run}: no training loss metric found")
    return curve_of(frame, metric)


def analyze(
    data: pd.DataFrame | Paths,
    config: Config | None = None,
    options: ReadOptions = DEFAULT_READ,
    on_error: Callable[[InputError], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Report:
    """Test every run in a frame, or in the logs under paths. Unreadable files raise
    InputError unless `on_error` takes them; then they are listed in `Report.problems`."""
    config = config or Config()
    reference = reference_curve(config)
    if isinstance(data, pd.DataFrame):
        return Report(tuple(analyze_frame(data, config, reference)))
    problems: list[InputProblem] = []

    def note(error: InputError) -> None:
        problems.append(InputProblem(error.source, str(error)))
        on_error(error)

    runs: list[RunReport] = []
    for frame in iter_frames(data, options, note if on_error else None, on_warning):
        try:
            runs += analyze_frame(frame, config, reference)
        except InputError as error:  # a metric named in the configuration is not there
            if on_error is None:
                raise
            note(error)
    return Report(tuple(runs), tuple(problems))
