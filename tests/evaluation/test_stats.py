"""Bootstrap intervals over items."""

from __future__ import annotations

import math

import pytest
import torch

from grasp_core.errors import GraspError
from grasp_core.evaluation.stats import (
    bootstrap,
    change_ratio_bootstrap,
    clustered_bootstrap,
    paired_bootstrap,
    ratio_t_interval,
    t_interval,
)


def test_bootstrap_interval() -> None:
    const = bootstrap([0.3] * 20)
    assert const.mean == pytest.approx(0.3) and const.lo == pytest.approx(0.3) and const.hi == pytest.approx(0.3)
    values = [0.0, 1.0] * 50
    iv = bootstrap(values, n_boot=4000, seed=1)
    assert iv.lo < 0.5 < iv.hi
    assert iv.hi - iv.lo == pytest.approx(2 * 1.96 * math.sqrt(0.25 / 100), rel=0.15)
    assert bootstrap(values, seed=3) == bootstrap(values, seed=3)
    with pytest.raises(GraspError):
        bootstrap([])


@pytest.mark.parametrize(
    ("values", "half"),
    [
        ([1.0, 3.0], 12.7062 * math.sqrt(2) / math.sqrt(2)),  # t_{1, .975} = 12.7062 (table), sd = sqrt(2)
        ([1.0, 2.0, 6.0], 4.3027 * math.sqrt(7) / math.sqrt(3)),  # t_{2, .975} = 4.3027, sd = sqrt(14 / 2)
        ([2.0, 4.0, 4.0, 4.0, 5.0], 2.7764 * math.sqrt(1.2) / math.sqrt(5)),  # t_{4, .975} = 2.7764, var = 4.8 / 4
    ],
)
def test_t_interval_matches_hand_computed_values(values: list[float], half: float) -> None:
    iv = t_interval(values)
    mean = sum(values) / len(values)
    assert iv.mean == pytest.approx(mean)
    assert iv.lo == pytest.approx(mean - half, abs=1e-3) and iv.hi == pytest.approx(mean + half, abs=1e-3)
    assert iv.over == "seeds" and iv.n == len(values) and iv.label == f"95% t over {len(values)} seeds"
    with pytest.raises(GraspError, match="2 or more seeds"):
        t_interval(values[:1])


def test_ratio_interval_is_geometric_on_the_log_scale() -> None:
    iv = ratio_t_interval([10.0, 0.1, 1.0])
    assert iv.mean == pytest.approx(1.0)  # 10x and 0.1x average to 1x, not 3.7x
    logs = t_interval([math.log(10.0), math.log(0.1), 0.0])
    assert iv.lo == pytest.approx(math.exp(logs.lo)) and iv.hi == pytest.approx(math.exp(logs.hi))
    with pytest.raises(GraspError, match="positive and finite"):
        ratio_t_interval([2.0, float("inf")])


def test_paired_bootstrap_cancels_what_the_pair_shares() -> None:
    gen = torch.Generator().manual_seed(0)
    shared = torch.randn(200, generator=gen, dtype=torch.float64) * 5.0  # large item-to-item spread
    a = (shared + 0.3).tolist()  # b plus exactly 0.3 on every item
    iv = paired_bootstrap(a, shared.tolist())
    assert iv.mean == pytest.approx(0.3) and iv.lo == pytest.approx(0.3) and iv.hi == pytest.approx(0.3)
    unpaired = bootstrap(a)  # the same a alone: its interval carries the items' spread
    assert unpaired.hi - unpaired.lo > 1.0
    with pytest.raises(GraspError, match="same items"):
        paired_bootstrap(a, a[:-1])


def test_clustered_bootstrap_is_wider_than_flat_on_clustered_data() -> None:
    gen = torch.Generator().manual_seed(1)
    centres = torch.randn(10, generator=gen, dtype=torch.float64)  # 10 questions, each its own level
    values = (centres.repeat_interleave(20) + 0.05 * torch.randn(200, generator=gen, dtype=torch.float64)).tolist()
    clusters = [i // 20 for i in range(200)]  # 20 near-identical replies per question
    flat, clustered = bootstrap(values), clustered_bootstrap(values, clusters)
    assert clustered.mean == pytest.approx(flat.mean)
    assert clustered.hi - clustered.lo > 3 * (flat.hi - flat.lo)  # 10 independent units, not 200
    assert clustered.over == "clusters" and clustered.n == 10
    singletons = clustered_bootstrap(values, list(range(200)))  # one item per cluster: the flat bootstrap's width
    assert singletons.hi - singletons.lo == pytest.approx(flat.hi - flat.lo, rel=0.2)


def test_logit_t_interval_stays_inside_0_1_around_the_mean() -> None:
    from grasp_core.evaluation.stats import logit_t_interval

    for ps in ([0.0001, 0.02, 0.0005], [0.3, 0.5, 0.45], [0.9, 0.999, 1.0], [0.0, 0.01]):
        iv = logit_t_interval(ps)
        assert 0 <= iv.lo <= iv.mean <= iv.hi <= 1 and iv.mean == pytest.approx(sum(ps) / len(ps)), (ps, iv)
        assert iv.over == "seeds" and iv.n == len(ps)
    plain = t_interval([0.0001, 0.02, 0.0005])
    assert plain.lo < 0  # what the logit scale is for
    with pytest.raises(GraspError, match="must be a probability"):
        logit_t_interval([0.2, 1.5])


def test_clusters_all_distinct_leave_every_bootstrap_as_it_was() -> None:
    gen = torch.Generator().manual_seed(0)
    a, b, x = (torch.rand(40, generator=gen, dtype=torch.float64).tolist() for _ in range(3))
    ids = [f"id {i}" for i in range(40)]
    assert bootstrap(a, clusters=ids) == bootstrap(a)
    assert paired_bootstrap(a, b, clusters=ids) == paired_bootstrap(a, b)
    assert change_ratio_bootstrap(a, b, x, clusters=ids) == change_ratio_bootstrap(a, b, x)


def test_items_repeated_within_a_cluster_count_once() -> None:
    # Each item twice (two phrasings scored alike): resampling the 40 clusters is resampling the 40 distinct items,
    # while a flat bootstrap over the 80 rows takes the copies as independent and is about sqrt(2) narrower.
    gen = torch.Generator().manual_seed(1)
    a, b, x = (torch.rand(40, generator=gen, dtype=torch.float64).tolist() for _ in range(3))
    b = [v + 0.3 for v in b]  # a clear a-to-b change, so the ratio's denominator stays away from 0
    twice = [f"topic {i}" for i in range(40) for _ in range(2)]
    a2, b2, x2 = ([v for v in vs for _ in range(2)] for vs in (a, b, x))
    grouped_iv, distinct_iv = bootstrap(a2, clusters=twice), bootstrap(a)
    assert grouped_iv.over == "clusters" and grouped_iv.n == 40
    assert (grouped_iv.mean, grouped_iv.lo, grouped_iv.hi) == pytest.approx(
        (distinct_iv.mean, distinct_iv.lo, distinct_iv.hi)
    )
    flat = bootstrap(a2)
    assert flat.hi - flat.lo < 0.85 * (grouped_iv.hi - grouped_iv.lo)
    pair, pair_distinct = paired_bootstrap(a2, b2, clusters=twice), paired_bootstrap(a, b)
    assert (pair.lo, pair.hi) == pytest.approx((pair_distinct.lo, pair_distinct.hi))
    ratio, ratio_distinct = change_ratio_bootstrap(a2, b2, x2, clusters=twice), change_ratio_bootstrap(a, b, x)
    assert ratio.over == "clusters" and ratio.n == 40
    assert (ratio.mean, ratio.lo, ratio.hi) == pytest.approx(
        (ratio_distinct.mean, ratio_distinct.lo, ratio_distinct.hi)
    )
    with pytest.raises(GraspError, match="80 values against 3 cluster labels"):
        change_ratio_bootstrap(a2, b2, x2, clusters=["p", "p", "q"])
