"""Statistics of evaluations: a mean with its interval, and the seeded percentile bootstrap over items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..errors import GraspError


@dataclass
class Interval:
    """A mean with its seeded bootstrap 95% interval."""

    mean: float
    lo: float
    hi: float

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.lo:.4f}, {self.hi:.4f}]"


def bootstrap(values: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> Interval:
    """Mean of `values` and the percentile bootstrap interval over items (seeded, so reruns agree)."""
    if len(values) == 0:
        raise GraspError("bootstrap: no values to average")
    x = torch.tensor([float(v) for v in values], dtype=torch.float64)  # (n,)
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, len(x), (n_boot, len(x)), generator=gen)  # (n_boot, n)
    means = x[idx].mean(dim=1)  # (n_boot,)
    tail = (1.0 - level) / 2
    lo, hi = torch.quantile(means, torch.tensor([tail, 1.0 - tail], dtype=torch.float64)).tolist()
    return Interval(float(x.mean()), float(lo), float(hi))
