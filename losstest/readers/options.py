"""How to read the logs, as the user asked: given to every reader's `sniff` and `read`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadOptions:
    input_format: str | None = None  # read every input as this format, not by content
    step: str | None = None  # the column that holds the step
    pattern: str | None = None  # a regular expression for text logs


DEFAULT = ReadOptions()
