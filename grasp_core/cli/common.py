"""What every verb shares: the command registry, JSON printing, and the base an adapter names."""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..io import read_json

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {}


def command(name: str, help: str, args: Callable[[argparse.ArgumentParser], None]) -> Callable[[Handler], Handler]:
    """Register the decorated handler as sub-command `name`; `args` adds its arguments to the parser."""

    def deco(handler: Handler) -> Handler:
        COMMANDS[name] = (help, args, handler)
        return handler

    return deco


class _OldFlag(argparse.Action):
    """A flag of an earlier release: stored under its current flag's name, with a warning."""

    def __init__(self, option_strings: list[str], dest: str, current: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, **kw)
        self.current = current

    def __call__(self, parser: Any, ns: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        warnings.warn(f"{option_string} is now {self.current}; the old flag is read for now", stacklevel=2)
        setattr(ns, self.dest, values)


def old_flag(p: argparse.ArgumentParser, old: str, current: str, **kw: Any) -> None:
    """Keep reading `old` (hidden from --help) as `current`, whose argument must be added already."""
    dest = current.lstrip("-").replace("-", "_")
    p.add_argument(old, dest=dest, action=_OldFlag, current=current, help=argparse.SUPPRESS, **kw)


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def resolve_adapter_base(adapter_dir: str, base: str | None) -> str:
    """The base to use for an adapter: the explicit one, else the adapter's base_model_name_or_path."""
    if base:
        return base
    cfg = read_json(Path(adapter_dir) / "adapter_config.json", what="adapter_config.json")
    found = cfg.get("base_model_name_or_path")
    if not found:
        raise GraspError(f"{adapter_dir}/adapter_config.json names no base_model_name_or_path: pass --base")
    return str(found)
