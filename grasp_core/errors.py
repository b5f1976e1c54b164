"""The error types every user-facing failure raises, so the CLI and the app can show one line, not a traceback."""

from __future__ import annotations


class GraspError(Exception):
    """A bad input or a failed step, with a message that says what, where and what to do."""


class ConfigError(GraspError, ValueError):
    """A config dataclass refused a field in `__post_init__`: the one error type of every config's validation.

    It is a GraspError (the CLI and the app show it as one line) and a ValueError (what a dataclass's own
    validation conventionally raises)."""
