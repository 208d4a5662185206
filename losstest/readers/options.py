"""How to read the logs, as the user asked: given to every reader's `sniff` and `read`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReadOptions:
    input_format: str | None = None  # read every input as this format, not by content
    step: str | None = None  # the column that holds the step
    pattern: str | None = None  # a regular expression for text logs
    # for URLs: options of the storage backend (endpoint, credentials, ...), --storage-option
    storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False)


DEFAULT = ReadOptions()
