"""One exception type for every user-facing failure, so the CLI and the app can show it without a traceback."""

from __future__ import annotations


class GraspError(Exception):
    """A bad input or a failed step, with a message that says what, where and what to do."""
