"""The log-probability evals' config: one frozen, validated dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class EvalConfig:
    """Options shared by the log-probability evals."""

    batch_size: int = 8  # sequences per forward pass
    max_length: int = 512  # tokens per prompt + completion; longer ones are an error, not silently cut
    n_boot: int = 2000  # bootstrap resamples for the 95% interval
    seed: int = 0  # bootstrap seed
    share_prefixes: bool = True  # forward each prompt once for all its completions (and the common header once)

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_length", "n_boot"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"EvalConfig `{name}` must be a positive integer, got {value!r}")
