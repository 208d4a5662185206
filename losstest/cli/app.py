"""What every command shares: the typer app, the options several commands take, and the way a
user error ends a command."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..errors import LossTestError
from ..exit_codes import ERROR

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Test the loss curves of training runs: NaN, divergence, spikes, oscillation, "
    "plateaus, over- and underfitting.",
)  # fmt: skip


def choice(name: str, values: tuple[str, ...]) -> type[Enum]:
    """An option's choices, taken from a registry."""
    return Enum(name, {value: value for value in values}, type=str)


FailOn = choice("FailOn", ("fail", "warn"))

PathsArg = Annotated[
    list[str],
    typer.Argument(help="Log files, directories, globs, URLs (s3://, gs://, ...), or - for stdin."),
]
StorageOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--storage-option", help="KEY=VALUE for the storage backend of URLs (repeatable)."
    ),
]
MetricOpt = Annotated[str | None, typer.Option(help="Training loss metric name.")]
ValMetricOpt = Annotated[str | None, typer.Option(help="Validation loss metric name.")]
ConfigOpt = Annotated[
    Path | None, typer.Option(help="Configuration file (default: losstest.toml found upward).")
]
InputFormatOpt = Annotated[
    str | None, typer.Option(help="Read every input as this format (default: by content).")
]
PatternOpt = Annotated[
    str | None, typer.Option(help="Regex for text logs: a named group `step` and one per metric.")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
]


def error(message: str) -> None:
    typer.echo(f"losstest: error: {message}", err=True)


def warning(message: str) -> None:
    typer.echo(f"losstest: warning: {message}", err=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """A LossTestError ends the command: one line on stderr naming the problem, exit 2."""
    try:
        yield
    except LossTestError as e:
        error(str(e))
        raise typer.Exit(ERROR) from None


def terminal() -> tuple[bool, int]:
    """Colour only on a terminal without NO_COLOR; the terminal's width, else 80."""
    tty = sys.stdout.isatty()
    color = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    width = shutil.get_terminal_size((80, 24)).columns if tty else 80
    return color, max(60, width)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"losstest {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """losstest"""
