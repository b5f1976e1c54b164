"""Paired effects of an ablation: the change against the adapter and the share moved back toward the base."""

from __future__ import annotations

import pytest

from grasp_core.errors import GraspError
from grasp_core.evidence.effects import measure_effect, moved_back
from grasp_core.evidence.measures import Measure, Scores

IDS = ["a", "b", "c", "d"]


def test_drift_removed_and_task_kept_are_shares_of_the_adapter_change() -> None:
    base, adapter = Scores(IDS, [0.0, 0.1, 0.0, 0.1]), Scores(IDS, [0.8, 0.9, 0.8, 0.9])
    half = Scores(IDS, [0.4, 0.5, 0.4, 0.5])
    drift = measure_effect(Measure("drift", "choice", "d.jsonl", "drift"), base, adapter, half, n_boot=200)
    assert drift.share is not None and drift.share.mean == pytest.approx(0.5)
    assert drift.change.mean == pytest.approx(-0.4) and drift.share.lo <= 0.5 <= drift.share.hi
    # Task NLL: the adapter lowered it from 3 to 2; an ablation back at 2.25 keeps 75% of the gain.
    t_base, t_adapter, t_abl = (Scores(IDS, [v] * 4) for v in (3.0, 2.0, 2.25))
    task = measure_effect(Measure("task", "nll", "t.jsonl", "task"), t_base, t_adapter, t_abl, n_boot=200)
    assert task.share is not None and task.share.mean == pytest.approx(0.75)


def test_an_unmoved_measure_has_no_share_and_mismatched_items_are_named() -> None:
    same = Scores(IDS, [0.2] * 4)
    assert moved_back(same, same, same) is None
    noisy = Scores(IDS, [0.3, 0.1, 0.3, 0.1])  # up on two items, down on two: no detectable change
    assert moved_back(same, noisy, same) is None
    with pytest.raises(GraspError, match="drift: the variants scored different items"):
        measure_effect(Measure("drift", "choice", "d", "drift"), same, same, Scores(["x", "b", "c", "d"], [0.2] * 4))
