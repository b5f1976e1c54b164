"""EvalConfig refuses a bad option with one line naming it."""

from __future__ import annotations

import pytest

from grasp_core.errors import ConfigError
from grasp_core.evaluation.config import EvalConfig


@pytest.mark.parametrize("field", ["batch_size", "max_length", "n_boot"])
@pytest.mark.parametrize("bad", [0, -1, 1.5, "8"])
def test_a_bad_option_is_named(field: str, bad: object) -> None:
    with pytest.raises(ConfigError, match=f"EvalConfig `{field}` must be a positive integer, got {bad!r}"):
        EvalConfig(**{field: bad})


def test_defaults_are_valid_and_frozen() -> None:
    config = EvalConfig()
    assert (config.batch_size, config.share_prefixes) == (8, True)
    with pytest.raises(AttributeError):
        config.batch_size = 2  # type: ignore[misc]
