"""Errors that end a command with exit code 2 and one line naming the file and the problem."""

from __future__ import annotations


class LossTestError(Exception):
    """Base class: the message is shown to the user as is."""


class InputError(LossTestError):
    """A log could not be read."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class ConfigError(LossTestError):
    """A configuration file or option is wrong."""
