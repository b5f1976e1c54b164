"""The error types and the field-type check every config read from JSON or YAML goes through."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from grasp_core.errors import ConfigError, GraspError, check_field_types


@dataclass
class _Typed:
    name: str
    n: int
    x: float | None
    flag: bool
    dims: tuple[int, ...]
    other: dict  # an annotation the check does not know: not checked


def test_a_config_error_is_both_what_the_cli_shows_and_a_value_error() -> None:
    assert issubclass(ConfigError, GraspError) and issubclass(ConfigError, ValueError)


def test_each_field_of_the_wrong_type_is_named() -> None:
    check_field_types(_Typed("a", 1, None, True, (1, 2), {}))  # all fine: no error
    check_field_types(_Typed("a", 1, 2, False, [3], {}))  # an int is a float; a list stands for a tuple
    for bad, says in [
        (_Typed(1, 1, None, True, (), {}), "`name` must be str, got 1"),  # type: ignore[arg-type]
        (_Typed("a", True, None, True, (), {}), "`n` must be int, got True"),  # a bool is not an int
        (_Typed("a", 1, "x", True, (), {}), "`x` must be float | None, got 'x'"),  # type: ignore[arg-type]
        (_Typed("a", 1, None, 1, (), {}), "`flag` must be bool, got 1"),  # type: ignore[arg-type]
        (_Typed("a", 1, None, True, (1, "b"), {}), "`dims` must be tuple[int, ...], got (1, 'b')"),
    ]:
        with pytest.raises(ConfigError, match=f"^{re.escape(says)}$"):
            check_field_types(bad)
