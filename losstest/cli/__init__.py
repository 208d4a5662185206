"""The command line: one module per command, each options → configuration → library API →
reporter → exit code. Heavy imports wait inside the commands, for a quick start."""

from __future__ import annotations

from ..frame import small_pages
from . import analyze, compare, config, explain, plot, watch  # noqa: F401  (each adds its command)
from .app import app


def main() -> None:
    with small_pages():  # the whole command: its detectors fault in fresh arrays too
        app(prog_name="losstest")


__all__ = ["app", "main"]
