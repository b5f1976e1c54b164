"""The sweep report: rise cuts against the base and naive LoRA, per-item flips."""

from __future__ import annotations

import pandas as pd
import pytest

from grasp_core.errors import GraspError
from grasp_core.sweep.report import flipped_items, with_cuts


def test_rise_cuts_against_base_and_naive() -> None:
    summary = pd.DataFrame({
        "label": ["base", "lora", "grasp", "worse", "clean"], "task_gain": [0.0, 1.0, 0.9, 1.0, 0.5],
        "drift": [0.01, 0.21, 0.05, 0.31, 0.005], "lean_shift": [float("nan"), 0.2, 0.1, 0.2, -0.1],
    })  # fmt: skip
    cut = with_cuts(summary).set_index("label")
    assert cut.loc["grasp", "drift_cut"] == pytest.approx(0.20 / 0.04)
    assert cut.loc["worse", "drift_cut"] == pytest.approx(0.2 / 0.3) and cut.loc["lora", "drift_cut"] == pytest.approx(
        1
    )
    assert cut.loc["clean", "drift_cut"] == float("inf") and pd.isna(cut.loc["base", "drift_cut"])
    assert cut.loc["grasp", "lean_shift_cut"] == pytest.approx(2.0)  # the base's lean shift is 0 by definition
    assert "drift_cut" not in with_cuts(summary[summary["label"] != "lora"]).columns  # no naive, no cut
    flat = with_cuts(summary.assign(drift=[0.2, 0.1, 0.05, 0.3, 0.0])).set_index("label")
    assert flat["drift_cut"].isna().all()  # naive fell below the base: no rise to cut


def test_flipped_items_cross_the_half_and_sort_by_change() -> None:
    items = pd.DataFrame({
        "label": ["lora"] * 3 + ["grasp"] * 3, "measure": ["drift"] * 6, "item": ["a", "b", "c"] * 2,
        "score": [0.9, 0.6, 0.2, 0.1, 0.4, 0.3],
    })  # fmt: skip
    flipped = flipped_items(items, "lora", "grasp", "drift")
    assert list(flipped["item"]) == ["a", "b"] and flipped["change"].iloc[0] == pytest.approx(-0.8)
    with pytest.raises(GraspError, match="no `score` column"):
        flipped_items(items.drop(columns="score"), "lora", "grasp")
