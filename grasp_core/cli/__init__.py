"""The `grasp` command line: one sub-command per step, each a thin layer over grasp_core functions. The verbs live
in one module per step (identify, evidence, train, evaluate, sweep); importing them registers them in COMMANDS."""

from __future__ import annotations

import argparse
import sys
import traceback

from ..errors import GraspError
from ..io import check_writable, grasp_home
from . import compare, evaluate, evidence, identify, judge, label, sweep, train  # noqa: F401  (registers the verbs)
from .common import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grasp",
        description="GRASP: find spurious factors in a LoRA fine-tune and fine-tune again without them.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_args, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
    return parser


# Verbs that only read the workspace: they work on a read-only GRASP_HOME (`runs` then marks no dead worker).
READ_ONLY = ("runs", "logs")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    if not ns.command:
        parser.print_help()
        return 2
    try:
        if ns.command not in READ_ONLY:  # a verb that writes refuses an unwritable home before loading anything
            check_writable(grasp_home(), "GRASP_HOME")
        return int(COMMANDS[ns.command][2](ns) or 0)
    except PermissionError as e:  # a file the checks above could not foresee (another user's folder inside it)
        if ns.debug:
            traceback.print_exc()
        print(f"error: cannot write {e.filename or 'a file'}: {e.strerror or e}", file=sys.stderr)
        return 2
    except GraspError as e:
        if ns.debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
