"""The causal effect of ablating factors from the adapted model, measured per item against the unablated adapter.

For a measure with per-item values b (base: adapter off), a (adapter) and x (adapter with span(Z) ablated):
- change = mean(x - a), a paired difference over items;
- moved back = (mean a - mean x) / (mean a - mean b): the share of the fine-tune's change of the measure that the
  ablation undoes (none where the fine-tune's own change a - b is not told apart from 0 over the items). For a drift-like measure that is the share of the naive rise REMOVED (1 = back at the base); for
  a task-like measure, 1 - moved back is the share of the task gain KEPT (1 = all of it).
Intervals are 95% percentile bootstraps over items (seeded): they say how sure the items make us within this one
adapter and seed, not across seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import GraspError
from ..evaluation.stats import Interval, bootstrap
from .measures import Measure, Role, Scores

MIN_CHANGE = 1e-9  # a fine-tune that did not move a measure has no share to remove or keep


@dataclass
class MeasureEffect:
    """What ablating some factors did to one measure, paired per item against the adapter."""

    measure: str
    role: Role
    mean: float  # under the ablation: P(second option) or NLL per token
    change: Interval  # ablated - adapter
    log_odds: float | None = None  # choice: mean log-odds under the ablation
    log_odds_change: Interval | None = None
    share: Interval | None = None  # drift: share of the naive change removed; task: share of the gain kept

    def to_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        for k in ("change", "log_odds_change", "share"):
            d[k] = vars(d[k]) if d[k] is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasureEffect:
        d = dict(d)
        for k in ("change", "log_odds_change", "share"):
            d[k] = Interval(**d[k]) if d.get(k) is not None else None
        return cls(**d)


def _aligned(base: Scores, adapter: Scores, ablated: Scores, name: str) -> None:
    if not (base.ids == adapter.ids == ablated.ids):
        raise GraspError(f"{name}: the variants scored different items; clear the evidence cache and rerun")


def moved_back(base: Scores, adapter: Scores, ablated: Scores, n_boot: int = 2000, seed: int = 0) -> Interval | None:
    """(mean a - mean x) / (mean a - mean b) with a paired bootstrap over items; None where the fine-tune did not
    move the measure detectably (the paired 95% interval of a - b includes 0): a share of noise means nothing."""
    b, a, x = (torch.tensor(s.values, dtype=torch.float64) for s in (base, adapter, ablated))  # (n,) each
    moved = bootstrap((a - b).tolist(), n_boot, seed)
    if abs(moved.mean) < MIN_CHANGE or moved.lo <= 0.0 <= moved.hi:
        return None
    point = float((a.mean() - x.mean()) / (a.mean() - b.mean()))
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, len(a), (n_boot, len(a)), generator=gen)  # (n_boot, n): the same items for all three
    num = a[idx].mean(1) - x[idx].mean(1)  # (n_boot,)
    den = a[idx].mean(1) - b[idx].mean(1)  # (n_boot,)
    ok = den.abs() >= MIN_CHANGE
    ratios = num[ok] / den[ok]
    if ratios.numel() < 2:
        return Interval(point, point, point)
    lo, hi = torch.quantile(ratios, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return Interval(point, float(lo), float(hi))


def measure_effect(
    measure: Measure, base: Scores, adapter: Scores, ablated: Scores, n_boot: int = 2000, seed: int = 0
) -> MeasureEffect:
    """The paired change of one measure under an ablation, and the share removed (drift) or kept (task)."""
    _aligned(base, adapter, ablated, measure.name)
    change = bootstrap([x - a for x, a in zip(ablated.values, adapter.values, strict=True)], n_boot, seed)
    lo_change = None
    if ablated.log_odds:
        lo_change = bootstrap([x - a for x, a in zip(ablated.log_odds, adapter.log_odds, strict=True)], n_boot, seed)
    back = moved_back(base, adapter, ablated, n_boot, seed)
    share = back
    if back is not None and measure.role == "task":
        share = Interval(1.0 - back.mean, 1.0 - back.hi, 1.0 - back.lo)
    return MeasureEffect(measure.name, measure.role, ablated.mean(), change, ablated.mean_log_odds(), lo_change, share)
