"""The library API: `load` logs into the canonical frame, `analyze` a frame into a Report."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import readers
from .analysis import analyze_run, curve_of, pick_metrics
from .config import Config
from .curves import Curve
from .errors import ConfigError, InputError
from .frame import concat, single
from .model import InputProblem, Report, RunReport
from .readers import Source

Paths = str | Path | Sequence[str | Path]


@dataclass(frozen=True)
class ReadOptions:
    """How to read the logs: a forced format, the step column, a regex for text logs."""

    input_format: str | None = None
    step: str | None = None
    pattern: str | None = None


DEFAULT_READ = ReadOptions()


def _paths(paths: Paths) -> list[str]:
    return [str(paths)] if isinstance(paths, str | Path) else [str(p) for p in paths]


def read_source(source: Source, options: ReadOptions = ReadOptions()) -> pd.DataFrame:
    """One source's canonical frame, with `source` as a column."""
    source.step_column, source.pattern = options.step, options.pattern
    frame, _ = readers.read(source, options.input_format)
    frame.insert(0, "source", single(source.name, len(frame)))
    runs = frame["run"].cat.categories  # runs the reader named (several in one file) keep it
    frame["run"] = frame["run"].cat.rename_categories([r or source.run for r in runs])
    return frame


def iter_frames(
    paths: Paths,
    options: ReadOptions = ReadOptions(),
    on_error: Callable[[InputError], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """The frame of each readable source, one at a time. Unreadable ones go to `on_error`
    (or raise when it is None); damage read around goes to `on_warning`."""

    def fail(error: InputError) -> None:
        if on_error is None:
            raise error
        on_error(error)

    found, errors = readers.discover(_paths(paths))
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


def load(paths: Paths, options: ReadOptions = ReadOptions()) -> pd.DataFrame:
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
    try:
        frame = load(config.reference.run)
    except InputError as e:
        raise ConfigError(f"reference run: {e}") from e
    metric = config.reference.metric or pick_metrics(frame, config)[0]
    if metric is None or metric not in set(frame["metric"].cat.categories):
        raise ConfigError(f"reference run {config.reference.run}: no training loss metric found")
    return curve_of(frame, metric)


def analyze_frame(
    frame: pd.DataFrame, config: Config | None = None, reference: Curve | None = None
) -> list[RunReport]:
    config = config or Config()
    if reference is None:
        reference = reference_curve(config)
    if frame["source"].nunique() == 1 and frame["run"].nunique() == 1:
        source, run = str(frame["source"].iat[0]), str(frame["run"].iat[0])
        return [analyze_run(frame, source, run, config, reference)]
    return [
        analyze_run(rows, str(source), str(run), config, reference)
        for (source, run), rows in frame.groupby(["source", "run"], observed=True, sort=False)
    ]


def analyze(
    data: pd.DataFrame | Paths,
    config: Config | None = None,
    options: ReadOptions = ReadOptions(),
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

    frames = iter_frames(data, options, note if on_error else None, on_warning)
    runs = [run for frame in frames for run in analyze_frame(frame, config, reference)]
    return Report(tuple(runs), tuple(problems))
