"""The error types every user-facing failure raises, so the CLI and the app can show one line, not a traceback."""

from __future__ import annotations

import dataclasses
from typing import Any


class GraspError(Exception):
    """A bad input or a failed step, with a message that says what, where and what to do."""


class ConfigError(GraspError, ValueError):
    """A config dataclass refused a field in `__post_init__`: the one error type of every config's validation.

    It is a GraspError (the CLI and the app show it as one line) and a ValueError (what a dataclass's own
    validation conventionally raises)."""


_SCALARS: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


def check_field_types(obj: Any) -> None:
    """Raise ConfigError naming the first field of dataclass `obj` whose value does not have its annotated type
    (str, int, float, bool, tuple[T, ...], list[T], each optionally `| None`; other annotations are not checked).
    Configs read from JSON or YAML go through this, so `r: "four"` is named at load, not deep in a run."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        kinds = [k.strip() for k in str(f.type).split("|")]
        if value is None and "None" in kinds:
            continue
        kinds = [k for k in kinds if k != "None"]
        if len(kinds) == 1 and _fits(value, kinds[0]) is False:
            raise ConfigError(f"`{f.name}` must be {f.type}, got {value!r}")


def _fits(value: Any, kind: str) -> bool | None:
    """Whether `value` has annotation `kind`; None for annotations this check does not know."""
    if kind in _SCALARS:
        return isinstance(value, _SCALARS[kind]) and (kind == "bool" or not isinstance(value, bool))
    for outer in ("tuple", "list"):
        if kind.startswith(f"{outer}[") and kind.endswith("]"):
            inner = kind[len(outer) + 1 : -1].removesuffix(", ...").strip()
            if not isinstance(value, tuple | list):
                return False
            return all(_fits(v, inner) is not False for v in value)
    return None
