"""The trade-off: aggregation over seeds and the Pareto front."""

from __future__ import annotations

import pandas as pd
import pytest

from grasp_core.errors import GraspError
from grasp_core.sweep.tradeoff import Axes, aggregate, log_floor, pareto_front, tradeoff_figure


def test_pareto_front_and_aggregate() -> None:
    df = pd.DataFrame(
        {
            "label": ["a", "a", "b", "c", "d"],
            "method": ["m"] * 5,
            "strength": [1, 1, 2, 3, 4],
            "task_gain": [1.0, 0.8, 0.5, 0.85, 0.4],
            "drift": [0.1, 0.1, 0.02, 0.03, 0.3],
        }
    )
    summary = aggregate(df, Axes())
    a = summary.set_index("label").loc["a"]
    assert a["n_seeds"] == 2 and a["task_gain"] == pytest.approx(0.9)
    assert a["task_gain_lo"] < 0.9 < a["task_gain_hi"]
    front = set(pareto_front(summary, Axes())["label"])
    assert front == {"a", "b", "c"}  # d is dominated by every other point


def test_probability_intervals_stay_inside_0_1_and_log_y_draws_others_through_zero_to_the_floor() -> None:
    skewed = [0.0001, 0.02, 0.0005]  # a probability over 3 seeds spread over orders of magnitude
    df = pd.DataFrame(
        {
            "label": ["base", "naive", "g", "g", "g"],
            "method": ["base", "naive", "grasp", "grasp", "grasp"],
            "strength": [None, None, 1, 1, 1],
            "seed": [0, 0, 0, 1, 2],
            "task_gain": [0.0, 1.0, 0.8, 0.9, 0.85],
            "drift": [0.0002, 0.03, *skewed],
            "kl": [0.0002, 0.03, *skewed],  # the same values in a column that is no probability
        }
    )
    points = aggregate(df, Axes())
    g = points.set_index("label").loc["g"]
    assert 0 < g["drift_lo"] < min(skewed) and g["drift"] < g["drift_hi"] < 1
    assert g["drift"] == pytest.approx(sum(skewed) / 3)
    kl_axes = Axes(y="kl")
    points = aggregate(df, kl_axes)
    g = points.set_index("label").loc["g"]
    assert g["kl_lo"] < 0  # a plain t interval over 3 seeds of skewed values goes below 0
    fig = tradeoff_figure(points, kl_axes, log_y=True)
    assert fig.layout.yaxis.type == "log"
    (curve,) = [t for t in fig.data if t.name == "grasp"]
    floor = log_floor(points, "kl")
    assert floor == pytest.approx(0.0002 / 10)
    assert curve.error_y.arrayminus[0] == pytest.approx(g["kl"] - floor)  # drawn down to the floor
    assert curve.error_y.array[0] == pytest.approx(g["kl_hi"] - g["kl"])
    linear = tradeoff_figure(points, kl_axes)
    assert linear.layout.yaxis.type is None and linear.data[0].error_y.arrayminus[0] == pytest.approx(
        g["kl"] - g["kl_lo"]
    )
    shifted = points.assign(kl=points["kl"] - 0.001)
    with pytest.raises(GraspError, match=r"log scale needs every `kl` above 0; not so for base"):
        tradeoff_figure(shifted, kl_axes, log_y=True)


def test_plottable_columns_leave_out_interval_ends_and_bookkeeping() -> None:
    from grasp_core.sweep.tradeoff import plottable_columns

    table = pd.DataFrame(
        {"label": ["a"], "seed": [0], "strength": [1.0], "drift": [0.1], "drift_lo": [0.0], "drift_hi": [0.2]}
    )
    assert plottable_columns(table) == ["drift"]
    assert plottable_columns(table[["label", "seed", "strength"]]) == ["seed", "strength"]  # nothing else numeric


def test_the_summary_says_which_factors_each_seed_used() -> None:
    """One value where every seed used the same factors; `seed s: ...` for each where they differ; empty for a
    configuration without factors."""
    df = pd.DataFrame(
        {
            "label": ["naive", "naive", "ev", "ev", "fixed", "fixed"],
            "method": ["naive", "naive", "grasp", "grasp", "grasp", "grasp"],
            "seed": [1, 0, 1, 0, 0, 1],
            "task_gain": [1.0, 1.0, 0.8, 0.7, 0.9, 0.9],
            "drift": [0.1, 0.1, 0.02, 0.03, 0.3, 0.2],
            "factors": [None, None, "#0 a (x)", "#4 b (x)", "#1 c (file f)", "#1 c (file f)"],
        }
    )
    by = aggregate(df, Axes()).set_index("label")["factors"]
    assert by["naive"] == "" and by["fixed"] == "#1 c (file f)"
    assert by["ev"] == "seed 0: #4 b (x); seed 1: #0 a (x)"
