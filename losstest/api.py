"""The library API: `load` logs into the canonical frame, `analyze` a frame into a Report."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from . import readers
from .analysis import analyze_run
from .config import Config
from .errors import InputError
from .frame import single
from .model import InputProblem, Report, RunReport
from .readers import Source


def sources(paths: Sequence[str | Path]) -> tuple[list[Source], list[InputError]]:
    """Every run found under files, directories, globs or `-` (standard input)."""
    return readers.discover([str(p) for p in paths])


def read_source(source: Source, input_format: str | None = None) -> pd.DataFrame:
    """One source's canonical frame, with `source` as a column."""
    frame, _ = readers.read(source, input_format)
    frame.insert(0, "source", single(source.name, len(frame)))
    if not source.run:
        return frame
    runs = frame["run"].cat.categories
    frame["run"] = frame["run"].cat.rename_categories(
        [source.run if not r else f"{source.run}/{r}" for r in runs]
    )
    return frame


def iter_frames(
    paths: Sequence[str | Path],
    input_format: str | None = None,
    on_error: Callable[[InputError], None] | None = None,
    step: str | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """The frame of each readable source, one at a time; unreadable ones go to `on_error`
    (or raise when it is None)."""

    def fail(error: InputError) -> None:
        if on_error is None:
            raise error
        on_error(error)

    def warn(message: str) -> None:
        if on_warning is not None:
            on_warning(message)

    found, errors = sources(paths)
    for error in errors:
        fail(error)
    for source in found:
        source.step_column = step
        try:
            frame = read_source(source, input_format)
        except InputError as error:
            fail(error)
            continue
        for warning in source.warnings:
            warn(warning)
        yield frame


def load(paths: str | Path | Sequence[str | Path], input_format: str | None = None) -> pd.DataFrame:
    """All runs under the paths in one canonical frame (columns: source, run, metric, step,
    value, wall_time, epoch). Raises InputError for the first unreadable file."""
    if isinstance(paths, str | Path):
        paths = [paths]
    frames = list(iter_frames(paths, input_format))
    if not frames:
        raise InputError(", ".join(map(str, paths)), "no training logs found")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def analyze_frame(frame: pd.DataFrame, config: Config | None = None) -> list[RunReport]:
    config = config or Config()
    if frame["source"].nunique() == 1 and frame["run"].nunique() == 1:
        return [analyze_run(frame, str(frame["source"].iat[0]), str(frame["run"].iat[0]), config)]
    reports = []
    for (source, run), rows in frame.groupby(["source", "run"], observed=True, sort=False):
        reports.append(analyze_run(rows, str(source), str(run), config))
    return reports


def analyze(
    data: pd.DataFrame | str | Path | Sequence[str | Path],
    config: Config | None = None,
    *,
    input_format: str | None = None,
    step: str | None = None,
    on_error: Callable[[InputError], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Report:
    """Test every run in a frame, or in the logs under paths. Unreadable files raise
    InputError unless `on_error` takes them (then they are listed in `Report.problems`)."""
    if isinstance(data, pd.DataFrame):
        return Report(tuple(analyze_frame(data, config)))
    paths = [data] if isinstance(data, str | Path) else list(data)
    problems: list[InputProblem] = []

    def note(error: InputError) -> None:
        problems.append(InputProblem(error.source, str(error)))
        if on_error is not None:
            on_error(error)

    runs = [
        run
        for frame in iter_frames(paths, input_format, note if on_error else None, step, on_warning)
        for run in analyze_frame(frame, config)
    ]
    return Report(tuple(runs), tuple(problems))
