"""`python -m grasp_core.runs RUN_DIR`: the background worker of one registry run (what queue.refresh starts)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import GraspError
from .queue import refresh
from .worker import execute


def main(argv: list[str] | None = None) -> int:
    """`python -m grasp_core.runs RUN_DIR`: train one registry run, then start the next queued ones."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grasp_core.runs RUN_DIR", file=sys.stderr)
        return 2
    try:
        run = execute(args[0])
    except GraspError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        try:
            refresh(Path(args[0]).resolve().parent)  # this run's slot is free: start the next queued one
        except GraspError as e:
            print(f"error: starting the next queued run: {e}", file=sys.stderr)
    return 0 if run.status.state in ("done", "cancelled") else 1


sys.exit(main())
