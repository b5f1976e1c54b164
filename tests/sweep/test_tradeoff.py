"""The trade-off: aggregation over seeds and the Pareto front."""

from __future__ import annotations

import pandas as pd
import pytest

from grasp_core.sweep.tradeoff import Axes, aggregate, pareto_front


def test_pareto_front_and_aggregate() -> None:
    df = pd.DataFrame({
        "label": ["a", "a", "b", "c", "d"], "method": ["m"] * 5, "strength": [1, 1, 2, 3, 4],
        "task_gain": [1.0, 0.8, 0.5, 0.85, 0.4], "drift": [0.1, 0.1, 0.02, 0.03, 0.3],
    })  # fmt: skip
    summary = aggregate(df, Axes())
    a = summary.set_index("label").loc["a"]
    assert a["n_seeds"] == 2 and a["task_gain"] == pytest.approx(0.9)
    assert a["task_gain_lo"] < 0.9 < a["task_gain_hi"]
    front = set(pareto_front(summary, Axes())["label"])
    assert front == {"a", "b", "c"}  # d is dominated by every other point
