"""Statistics of evaluations, one place for every interval the tool reports, each labelled with what it is over.

- Within one run (one seed): the seeded percentile bootstrap over items (`bootstrap`), paired where two models
  score the same items (`paired_bootstrap`: the interval of the mean difference), clustered where items come in
  groups that are not independent (`clustered_bootstrap`: whole groups resampled, e.g. replies to one question, or
  an eval file's items sharing a `group`, such as two phrasings of one question). `bootstrap`, `paired_bootstrap`
  and `change_ratio_bootstrap` take the items' `clusters`: where two items share one, whole clusters are resampled;
  where none do, the flat bootstrap's draws are used unchanged.
- Across runs (seeds): Student t intervals on the per-seed values (`t_interval`: mean +- t_{n-1} sd / sqrt(n);
  with 2 seeds t = 12.7, with 3 seeds 4.3, so a normal 1.96 would be 2-6x too narrow), and on per-seed ratios
  on the log scale (`ratio_t_interval`: a geometric mean with its interval, for "x times smaller" figures), and
  for probabilities on the logit scale (`logit_t_interval`), so their intervals stay inside [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import torch
from scipy import stats as scipy_stats

from ..errors import GraspError

LOGIT_CLIP = 1e-6  # logit(P) is taken of P clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP], so one extreme item cannot dominate
ITEMS = "items"  # a bootstrap over the items of one run
SEEDS = "seeds"  # a t interval over runs with different seeds


@dataclass(frozen=True)
class Interval:
    """A mean with its 95% interval and what the interval is over (`items` of one run, `seeds` across runs,
    or the groups of a clustered bootstrap) and how many of them there were."""

    mean: float
    lo: float
    hi: float
    over: str = ITEMS
    n: int = 0

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.lo:.4f}, {self.hi:.4f}]"

    @property
    def label(self) -> str:
        """How the interval was made, for a CSV column or a caption: e.g. `95% t over 3 seeds`."""
        how = "t" if self.over == SEEDS else "bootstrap"
        return f"95% {how} over {self.n} {self.over}"


def grouped(clusters: Sequence[Hashable]) -> bool:
    """True where some two items share a cluster (so a bootstrap must resample whole clusters)."""
    return len(set(clusters)) < len(clusters)


def cluster_index(clusters: Sequence[Hashable], n: int) -> tuple[torch.Tensor, int]:
    """(n,) the cluster number of each of n items, in order of first appearance, and how many clusters there are."""
    if len(clusters) != n:
        raise GraspError(f"clustered bootstrap: {n} values against {len(clusters)} cluster labels")
    ids = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
    return torch.tensor([ids[c] for c in clusters], dtype=torch.long), len(ids)


def resampled_means(
    columns: Sequence[torch.Tensor], clusters: Sequence[Hashable] | None, n_boot: int, seed: int
) -> tuple[list[torch.Tensor], str, int]:
    """Each column's (n,) item mean over n_boot seeded resamples that draw the same rows for every column: items
    (clusters None) or whole clusters; and what was resampled (`items` | `clusters`) and how many of them."""
    gen = torch.Generator().manual_seed(seed)
    n = len(columns[0])
    if clusters is None:
        idx = torch.randint(0, n, (n_boot, n), generator=gen)  # (n_boot, n) items drawn with replacement
        return [c[idx].mean(dim=1) for c in columns], ITEMS, n  # (n_boot,) each
    member, k = cluster_index(clusters, n)  # (n,) cluster index of each item
    counts = torch.zeros(k, dtype=torch.float64).index_add_(0, member, torch.ones(n, dtype=torch.float64))  # (k,)
    idx = torch.randint(0, k, (n_boot, k), generator=gen)  # (n_boot, k) clusters drawn with replacement
    size = counts[idx].sum(dim=1)  # (n_boot,) items in each resample
    sums = [torch.zeros(k, dtype=torch.float64).index_add_(0, member, c) for c in columns]  # (k,) each
    return [t[idx].sum(dim=1) / size for t in sums], "clusters", k  # (n_boot,) each


def bootstrap(
    values: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    clusters: Sequence[Hashable] | None = None,
) -> Interval:
    """Mean of `values` and the percentile bootstrap interval over items (seeded, so reruns agree); over whole
    clusters where some items share one (`clusters`, one label per value)."""
    if clusters is not None and grouped(clusters):
        return clustered_bootstrap(values, clusters, n_boot, seed, level)
    if len(values) == 0:
        raise GraspError("bootstrap: no values to average")
    x = torch.tensor([float(v) for v in values], dtype=torch.float64)  # (n,)
    (means,), over, n = resampled_means([x], None, n_boot, seed)
    lo, hi = percentile_bounds(means, level)
    return Interval(float(x.mean()), lo, hi, over, n)


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    clusters: Sequence[Hashable] | None = None,
) -> Interval:
    """Mean of a - b over items both models scored, with the bootstrap interval of that paired difference (items
    resampled together, so what the two share cancels; whole clusters where items share one)."""
    if len(a) != len(b):
        raise GraspError(f"paired bootstrap: {len(a)} values against {len(b)}; both must score the same items")
    return bootstrap([float(x) - float(y) for x, y in zip(a, b, strict=True)], n_boot, seed, level, clusters)


def clustered_bootstrap(
    values: Sequence[float], clusters: Sequence[Hashable], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Mean of `values` with a bootstrap that resamples whole clusters (e.g. every sampled reply to one question),
    so items that share a cluster are not counted as independent evidence."""
    if len(values) == 0:
        raise GraspError("bootstrap: no values to average")
    x = torch.tensor([float(v) for v in values], dtype=torch.float64)  # (n,)
    (means,), over, k = resampled_means([x], clusters, n_boot, seed)
    lo, hi = percentile_bounds(means, level)
    return Interval(float(x.mean()), lo, hi, over, k)


def change_ratio_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    x: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    min_den: float = 1e-12,
    clusters: Sequence[Hashable] | None = None,
) -> Interval:
    """(mean a - mean x) / (mean a - mean b) of per-item values, with a percentile bootstrap that resamples the
    same items for all three (how much of the a-to-b change x undoes, or keeps), whole clusters where items share
    one. Resamples whose denominator is below `min_den` are left out; with fewer than 2 left the interval is the
    point."""
    at, bt, xt = (torch.tensor([float(v) for v in vs], dtype=torch.float64) for vs in (a, b, x))  # (n,) each
    point = float((at.mean() - xt.mean()) / (at.mean() - bt.mean()))
    grouping = clusters if clusters is not None and grouped(clusters) else None
    (am, bm, xm), over, k = resampled_means([at, bt, xt], grouping, n_boot, seed)  # the same draws for all three
    num = am - xm  # (n_boot,)
    den = am - bm  # (n_boot,)
    ok = den.abs() >= min_den
    if int(ok.sum()) < 2:
        return Interval(point, point, point, over, k)
    lo, hi = percentile_bounds(num[ok] / den[ok])
    return Interval(point, lo, hi, over, k)


def t_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of per-seed values with the Student t interval: mean +- t_{n-1, (1+level)/2} * sd / sqrt(n)."""
    x = [float(v) for v in values]
    n = len(x)
    if n < 2:
        raise GraspError(f"a t interval needs 2 or more seeds, got {n}")
    mean = sum(x) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    half = float(scipy_stats.t.ppf((1.0 + level) / 2, df=n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, SEEDS, n)


def logit_t_interval(probabilities: Sequence[float], level: float = 0.95, eps: float = 1e-6) -> Interval:
    """Arithmetic mean of per-seed probabilities with a t interval taken on the logit scale and carried back, so it
    stays inside (0, 1) (a t interval on P itself reaches below 0 where the seeds spread over orders of magnitude).
    P is clipped to [eps, 1 - eps] first. For 2 or 3 seeds the mean always lies inside the interval."""
    if any(not (math.isfinite(p) and 0.0 <= p <= 1.0) for p in probabilities):
        raise GraspError(f"logit interval: every per-seed value must be a probability, got {list(probabilities)}")
    clipped = [min(max(float(p), eps), 1.0 - eps) for p in probabilities]
    logits = t_interval([math.log(p / (1.0 - p)) for p in clipped], level)
    lo, hi = (1.0 / (1.0 + math.exp(-v)) for v in (logits.lo, logits.hi))
    return Interval(sum(probabilities) / len(probabilities), lo, hi, SEEDS, logits.n)


def ratio_t_interval(ratios: Sequence[float], level: float = 0.95) -> Interval:
    """Geometric mean of per-seed ratios with the t interval taken on the log scale and carried back: the right
    scale for "x times smaller" (a 10x and a 0.1x average to 1x, not 5x). Every ratio must be positive and finite."""
    if any(not (math.isfinite(r) and r > 0) for r in ratios):
        raise GraspError(f"ratio interval: every per-seed ratio must be positive and finite, got {list(ratios)}")
    logs = t_interval([math.log(r) for r in ratios], level)
    return Interval(math.exp(logs.mean), math.exp(logs.lo), math.exp(logs.hi), SEEDS, logs.n)


def clipped_logit(p: float, clip: float = LOGIT_CLIP) -> float:
    """log(p / (1 - p)) of p clipped to [clip, 1 - clip]: the log-odds scale on which a mean is not ruled by the
    few items whose P is near 0 or 1 (mean P is; the two can tell different stories, so reports show both)."""
    q = min(max(float(p), clip), 1.0 - clip)
    return math.log(q / (1.0 - q))


def percentile_bounds(means: torch.Tensor, level: float = 0.95) -> tuple[float, float]:
    """The (1 - level) / 2 and (1 + level) / 2 percentiles of bootstrap statistics (n_boot,)."""
    tail = (1.0 - level) / 2
    lo, hi = torch.quantile(means, torch.tensor([tail, 1.0 - tail], dtype=torch.float64)).tolist()
    return float(lo), float(hi)
