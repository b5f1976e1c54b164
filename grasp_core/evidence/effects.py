"""The causal effect of ablating factors from the adapted model, measured per item against the unablated adapter.

For a measure with per-item values b (base: adapter off), a (adapter) and x (adapter with span(Z) ablated):
- change = mean(x - a), a paired difference over items;
- moved back = (mean a - mean x) / (mean a - mean b): the share of the fine-tune's change of the measure that the
  ablation undoes (none where the fine-tune's own change a - b is not told apart from 0 over the items). For a drift-like measure that is the share of the naive rise REMOVED (1 = back at the base); for
  a task-like measure, 1 - moved back is the share of the task gain KEPT (1 = all of it).
For forced choice the share is taken on the mean log-odds (log P(second) - log P(first), summed log-probs), which
every item moves in proportion, and also reported on the mean P, which a few items carry (GRASP.md, statistics):
the ranking rule reads the log-odds share. Intervals are 95% percentile bootstraps over items (seeded): they say
how sure the items make us within this one adapter and seed, not across seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import GraspError
from ..evaluation.stats import Interval, change_ratio_bootstrap, paired_bootstrap
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
    share_p: Interval | None = None  # choice: the same share on mean P (the rule reads `share`: log-odds)

    def to_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        for k in ("change", "log_odds_change", "share", "share_p"):
            d[k] = vars(d[k]) if d[k] is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasureEffect:
        """The inverse of to_dict (evidence read back from a JSON file)."""
        ivs = {k: Interval(**d[k]) if d.get(k) else None for k in ("log_odds_change", "share", "share_p")}
        return cls(d["measure"], d["role"], d["mean"], Interval(**d["change"]), d.get("log_odds"), **ivs)


def _aligned(base: Scores, adapter: Scores, ablated: Scores, name: str) -> None:
    if not (base.ids == adapter.ids == ablated.ids):
        raise GraspError(f"{name}: the variants scored different items; clear the evidence cache and rerun")


def moved_back(
    base: list[float],
    adapter: list[float],
    ablated: list[float],
    n_boot: int = 2000,
    seed: int = 0,
    clusters: list[str] | None = None,
) -> Interval | None:
    """(mean a - mean x) / (mean a - mean b) of per-item values, with a paired bootstrap over items (whole groups of
    items, given their `clusters`); None where the fine-tune did not move them detectably (the paired 95% interval
    of a - b includes 0): a share of noise means nothing."""
    moved = paired_bootstrap(adapter, base, n_boot, seed, clusters=clusters)
    if abs(moved.mean) < MIN_CHANGE or moved.lo <= 0.0 <= moved.hi:
        return None
    return change_ratio_bootstrap(adapter, base, ablated, n_boot, seed, min_den=MIN_CHANGE, clusters=clusters)


def _kept(back: Interval | None) -> Interval | None:
    return Interval(1.0 - back.mean, 1.0 - back.hi, 1.0 - back.lo, back.over, back.n) if back is not None else None


def measure_effect(
    measure: Measure, base: Scores, adapter: Scores, ablated: Scores, n_boot: int = 2000, seed: int = 0
) -> MeasureEffect:
    """The paired change of one measure under an ablation, and the share removed (drift) or kept (task)."""
    _aligned(base, adapter, ablated, measure.name)
    groups = adapter.groups  # whole groups of items are resampled where items share one
    change = paired_bootstrap(ablated.values, adapter.values, n_boot, seed, clusters=groups)
    lo_change = None
    if ablated.log_odds:
        lo_change = paired_bootstrap(ablated.log_odds, adapter.log_odds, n_boot, seed, clusters=groups)
    on_p = moved_back(base.values, adapter.values, ablated.values, n_boot, seed, groups)
    on_lo = (
        moved_back(base.log_odds, adapter.log_odds, ablated.log_odds, n_boot, seed, groups)
        if ablated.log_odds
        else None
    )
    back = on_lo if ablated.log_odds else on_p  # the rule's scale: log-odds for forced choice, NLL for task NLL
    if measure.role == "task":
        back, on_p = _kept(back), _kept(on_p)
    return MeasureEffect(
        measure.name,
        measure.role,
        ablated.mean(),
        change,
        ablated.mean_log_odds(),
        lo_change,
        back,
        on_p if ablated.log_odds else None,
    )
