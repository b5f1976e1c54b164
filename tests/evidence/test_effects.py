"""Paired effects of an ablation: the change against the adapter and the share moved back toward the base."""

from __future__ import annotations

import pytest

from grasp_core.errors import GraspError
from grasp_core.evidence.effects import measure_effect, moved_back
from grasp_core.evidence.measures import Measure, Scores

IDS = ["a", "b", "c", "d"]


def test_drift_removed_and_task_kept_are_shares_of_the_adapter_change() -> None:
    # P moved half-way back on every item; the log-odds a quarter of the way.
    base = Scores(IDS, [0.0, 0.1, 0.0, 0.1], [-4.0, -3.0, -4.0, -3.0])
    adapter = Scores(IDS, [0.8, 0.9, 0.8, 0.9], [4.0, 5.0, 4.0, 5.0])
    half = Scores(IDS, [0.4, 0.5, 0.4, 0.5], [2.0, 3.0, 2.0, 3.0])
    drift = measure_effect(Measure("drift", "choice", "d.jsonl", "drift"), base, adapter, half, n_boot=200)
    assert drift.share_p is not None and drift.share_p.mean == pytest.approx(0.5)
    assert drift.share is not None and drift.share.mean == pytest.approx(0.25)  # the rule reads the log-odds
    assert drift.change.mean == pytest.approx(-0.4) and drift.share_p.lo <= 0.5 <= drift.share_p.hi
    # Task NLL: the adapter lowered it from 3 to 2; an ablation back at 2.25 keeps 75% of the gain.
    t_base, t_adapter, t_abl = (Scores(IDS, [v] * 4) for v in (3.0, 2.0, 2.25))
    task = measure_effect(Measure("task", "nll", "t.jsonl", "task"), t_base, t_adapter, t_abl, n_boot=200)
    assert task.share is not None and task.share.mean == pytest.approx(0.75)


def test_an_unmoved_measure_has_no_share_and_mismatched_items_are_named() -> None:
    same = [0.2] * 4
    assert moved_back(same, same, same) is None
    assert moved_back(same, [0.3, 0.1, 0.3, 0.1], same) is None  # up on two items, down on two: no change told
    same_scores = Scores(IDS, same)
    with pytest.raises(GraspError, match="drift: the variants scored different items"):
        measure_effect(
            Measure("drift", "nll", "d", "drift"), same_scores, same_scores, Scores(["x", "b", "c", "d"], same)
        )


def test_items_that_share_a_group_are_resampled_together() -> None:
    # 12 questions each asked twice with the same answers, scored alike: as 24 independent items the adapter's
    # change looks detectable; resampled by question (its 12 groups) it is not, and no share is told.
    diffs = [0.34, -0.16, 0.29, -0.11, 0.24, 0.14, -0.06, 0.34, -0.21, 0.09, 0.24, -0.06]
    base = [0.5] * 24
    adapter = [0.5 + d for d in diffs for _ in range(2)]
    ablated = [0.5 + d / 2 for d in diffs for _ in range(2)]
    groups = [f"group {i}" for i in range(12) for _ in range(2)]
    assert moved_back(base, adapter, ablated) is not None
    assert moved_back(base, adapter, ablated, clusters=groups) is None
    ids = [f"q{i}{s}" for i in range(12) for s in "ab"]
    effect = measure_effect(
        Measure("drift", "nll", "d.jsonl", "drift"),
        Scores(ids, base),
        Scores(ids, adapter, groups=groups),
        Scores(ids, ablated),
        n_boot=500,
    )
    assert effect.change.over == "clusters" and effect.change.n == 12 and effect.share is None
