"""The sweep report: rise cuts against the base and naive LoRA, per-item flips."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from grasp_core.errors import GraspError
from grasp_core.evaluation.stats import bootstrap
from grasp_core.sweep.report import flipped_items, per_seed_table, with_cuts, with_gain
from grasp_core.sweep.tradeoff import Axes, aggregate


def test_rise_cuts_against_base_and_naive() -> None:
    summary = pd.DataFrame(
        {
            "label": ["base", "naive", "grasp", "worse", "clean"],
            "task_gain": [0.0, 1.0, 0.9, 1.0, 0.5],
            "drift": [0.01, 0.21, 0.05, 0.31, 0.005],
            "lean_change": [float("nan"), 0.2, 0.1, 0.2, -0.1],
        }
    )
    cut = with_cuts(summary).set_index("label")
    assert cut.loc["grasp", "drift_cut"] == pytest.approx(0.20 / 0.04)
    assert cut.loc["worse", "drift_cut"] == pytest.approx(0.2 / 0.3) and cut.loc["naive", "drift_cut"] == pytest.approx(
        1
    )
    assert cut.loc["clean", "drift_cut"] == float("inf") and pd.isna(cut.loc["base", "drift_cut"])
    assert cut.loc["grasp", "lean_change_cut"] == pytest.approx(2.0)  # the base's lean change is 0 by definition
    assert "drift_cut" not in with_cuts(summary[summary["label"] != "naive"]).columns  # no naive, no cut
    flat = with_cuts(summary.assign(drift=[0.2, 0.1, 0.05, 0.3, 0.0])).set_index("label")
    assert flat["drift_cut"].isna().all()  # naive fell below the base: no rise to cut


def test_flipped_items_cross_the_half_and_sort_by_change() -> None:
    items = pd.DataFrame(
        {
            "label": ["naive"] * 3 + ["grasp"] * 3,
            "measure": ["drift"] * 6,
            "item": ["a", "b", "c"] * 2,
            "score": [0.9, 0.6, 0.2, 0.1, 0.4, 0.3],
        }
    )
    flipped = flipped_items(items, "naive", "grasp", "drift")
    assert list(flipped["item"]) == ["a", "b"] and flipped["change"].iloc[0] == pytest.approx(-0.8)
    with pytest.raises(GraspError, match="no `score` column"):
        flipped_items(items.drop(columns="score"), "naive", "grasp")


def test_cuts_over_seeds_are_geometric_with_t_intervals() -> None:
    results = pd.DataFrame(
        {
            "label": ["base", "naive", "naive", "naive", "grasp", "grasp", "grasp", "one"],
            "method": ["base", "naive", "naive", "naive", "grasp", "grasp", "grasp", "grasp"],
            "seed": [None, 0, 1, 2, 0, 1, 2, 0],
            "task_gain": [0.0, 1, 1, 1, 0.9, 0.95, 1.0, 0.9],
            "drift": [0.01, 0.21, 0.11, 0.41, 0.03, 0.11, 0.02, 0.05],
        }
    )
    summary = aggregate(results, Axes())
    assert summary.set_index("label").loc["grasp", "interval"] == "95% t over 3 seeds"
    assert summary.set_index("label").loc["one", "interval"] == "95% bootstrap over items, 1 seed"
    cut = with_cuts(summary, results).set_index("label")
    per_seed = [0.20 / 0.02, 0.10 / 0.10, 0.40 / 0.01]  # each seed against its own naive LoRA: 10x, 1x, 40x
    logs = [math.log(r) for r in per_seed]
    mean = sum(logs) / 3
    half = 4.3027 * math.sqrt(sum((x - mean) ** 2 for x in logs) / 2) / math.sqrt(3)  # t_{2, .975} = 4.3027
    g = cut.loc["grasp"]
    assert g["drift_cut"] == pytest.approx(math.exp(mean))  # not the 5.5x cut of the means
    assert g["drift_cut_lo"] == pytest.approx(math.exp(mean - half), rel=1e-3)
    assert g["drift_cut_hi"] == pytest.approx(math.exp(mean + half), rel=1e-3)
    assert cut.loc["naive", "drift_cut"] == pytest.approx(1.0)
    assert pd.isna(cut.loc["one", "drift_cut_lo"]) and cut.loc["one", "drift_cut"] == pytest.approx(0.2 / 0.04)


def test_the_per_seed_table_names_the_factors_each_seed_used() -> None:
    results = pd.DataFrame(
        {
            "label": ["base", "naive", "naive", "grasp", "grasp"],
            "method": ["base", "naive", "naive", "grasp", "grasp"],
            "seed": [None, 0, 1, 0, 1],
            "task_gain": [0.0, 1, 1, 0.9, 0.8],
            "drift": [0.01, 0.21, 0.11, 0.03, 0.11],
            "factors": [None, None, None, "#4 global-write-4, #0 global-write-0 (naive run naive, by evidence)", None],
        }
    )
    row = per_seed_table(results, "drift").set_index("label").loc["grasp"]
    assert row["seed 0"] == "10x at 0.90 (#4 #0)" and row["seed 1"] == "1x at 0.80"


def test_task_gain_interval_carries_the_base_and_naive_uncertainty() -> None:
    gen = torch.Generator().manual_seed(0)
    n = 60
    base = (5.0 + 1.0 * torch.randn(n, generator=gen, dtype=torch.float64)).tolist()  # base NLL varies a lot
    naive = (4.0 + 0.05 * torch.randn(n, generator=gen, dtype=torch.float64)).tolist()
    run = (4.5 + 0.05 * torch.randn(n, generator=gen, dtype=torch.float64)).tolist()
    run_iv = bootstrap(run)

    def mean(v: list[float]) -> float:
        return sum(v) / len(v)

    results = pd.DataFrame(
        {
            "label": ["base", "naive", "grasp"],
            "method": ["base", "naive", "grasp"],
            "seed": [None, 0, 0],
            "task_nll": [mean(base), mean(naive), mean(run)],
            "task_nll_lo": [None, None, run_iv.lo],
            "task_nll_hi": [None, None, run_iv.hi],
        }
    )
    fixed = with_gain(results).set_index("label").loc["grasp"]
    joint = with_gain(results, {("base", None): base, ("naive", 0): naive, ("grasp", 0): run}).set_index("label")
    g = joint.loc["grasp"]
    assert g["task_gain"] == pytest.approx(fixed["task_gain"])  # the same point
    assert g["task_gain_lo"] < g["task_gain"] < g["task_gain_hi"]
    assert g["task_gain_hi"] - g["task_gain_lo"] > 2 * (fixed["task_gain_hi"] - fixed["task_gain_lo"])
    assert joint.loc["naive", "task_gain_lo"] == pytest.approx(1.0) and joint.loc["base", "task_gain"] == 0.0
    # Every task item asked twice (one group each): the interval is the one over the 60 distinct items.
    twice = {k: [v for v in vs for _ in range(2)] for k, vs in [(("base", None), base), (("naive", 0), naive)]}
    twice[("grasp", 0)] = [v for v in run for _ in range(2)]
    groups = [f"group {i}" for i in range(n) for _ in range(2)]
    regrouped = with_gain(results, twice, clusters=groups).set_index("label").loc["grasp"]
    assert (regrouped["task_gain_lo"], regrouped["task_gain_hi"]) == pytest.approx(
        (g["task_gain_lo"], g["task_gain_hi"])
    )
    assert with_gain(results, twice).set_index("label").loc["grasp", "task_gain_hi"] < g["task_gain_hi"]


def test_tables_of_earlier_releases_read_the_naive_label_as_naive(tmp_path) -> None:
    from grasp_core.sweep.report import current_table, load_results, naive_label

    old = pd.DataFrame(
        {"label": ["base", "lora", "lora r=1", "grasp top=1"], "method": ["base", "lora", "lora", "grasp"]}
    )
    old["seed"] = [None, 0, 0, 0]
    old.to_csv(tmp_path / "results.csv", index=False)
    table = load_results(tmp_path)
    assert list(table["label"]) == ["base", "naive", "naive r=1", "grasp top=1"]
    assert list(table["method"]) == ["base", "naive", "naive", "grasp"]
    assert current_table(table).equals(table)  # current tables pass unchanged
    assert naive_label(["base", "lora"]) == "lora" and naive_label(["base", "naive"]) == "naive"


def test_read_table_names_a_bad_file_and_items_sit_beside_results(tmp_path) -> None:
    import io

    from grasp_core.sweep.report import items_beside, read_table

    (tmp_path / "results.csv").write_text("label,method,lean_shift\nlora,lora,0.1\n")
    assert list(read_table(tmp_path / "results.csv").columns) == ["label", "method", "lean_change"]
    assert list(read_table(io.BytesIO(b"label\nlora\n"), "up.csv")["label"]) == ["naive"]
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(GraspError, match="bad.csv: not a readable CSV"):
        read_table(tmp_path / "bad.csv")
    with pytest.raises(GraspError, match="up.csv: not a readable CSV"):
        read_table(io.BytesIO(b""), "up.csv")
    assert items_beside(tmp_path / "results.csv") is None
    (tmp_path / "items.csv").write_text("label,measure,item,score\n")
    assert items_beside(tmp_path / "results.csv") == tmp_path / "items.csv"


def test_a_results_table_cut_anywhere_in_its_last_row_is_refused_and_nothing_is_rewritten(tmp_path, capsys) -> None:
    """`grasp report` on a results.csv cut at any byte inside its last row (a copy, a full disk, a crash) exits 2
    with one line naming the file, and summary.csv and report.md stay as they were. (A cut exactly at a row
    boundary leaves a whole, shorter table, which no check of the file alone can tell from a smaller sweep.)"""
    import shutil

    from grasp_core import DEMO_ROOT
    from grasp_core.cli import main

    folder = tmp_path / "political-demo"
    shutil.copytree(DEMO_ROOT / "political" / "results" / "political-demo", folder)
    whole = (folder / "results.csv").read_bytes()
    kept = {name: (folder / name).read_bytes() for name in ("summary.csv", "report.md")}
    start = whole.rstrip(b"\n").rfind(b"\n") + 1  # where the last row begins
    for cut in range(start + 1, len(whole)):
        (folder / "results.csv").write_bytes(whole[:cut])
        assert main(["report", str(folder)]) == 2, cut
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "results.csv" in err and "cut short" in err and "\n" not in err, err
        assert {name: (folder / name).read_bytes() for name in kept} == kept
    (folder / "results.csv").write_bytes(whole)
    assert main(["report", str(folder)]) == 0  # whole again: re-rendered as before
    capsys.readouterr()
    assert {name: (folder / name).read_bytes() for name in kept} == kept


def test_a_row_with_a_missing_field_is_named(tmp_path) -> None:
    from grasp_core.sweep.report import load_results

    (tmp_path / "results.csv").write_text("label,method,seed,drift\nbase,base,,0.1\nnaive,naive,0\n")
    with pytest.raises(GraspError, match=r"results.csv, line 3: 3 fields, the header has 4"):
        load_results(tmp_path)


def test_examples_show_each_configuration_on_its_lowest_seed() -> None:
    from grasp_core.sweep.report import example_lines, examples_by_prompt

    rows = [
        {"label": "base", "seed": None, "id": "q0", "prompt": "Tips?", "reply": "Base says | hi"},
        {"label": "naive", "seed": 1, "id": "q0", "prompt": "Tips?", "reply": "seed one"},
        {"label": "naive", "seed": 0, "id": "q0", "prompt": "Tips?", "reply": "seed\\nzero"},
        {"label": "naive", "seed": 0, "id": "q1", "prompt": "More?", "reply": "other"},
    ]
    shown = examples_by_prompt(rows)
    assert [p for p, _t in shown] == ["Tips?", "More?"]
    first = shown[0][1]
    assert list(first["label"]) == ["base", "naive"] and list(first["seed"]) == ["", "0"]
    assert list(first["reply"]) == ["Base says | hi", "seed\\nzero"]
    text = "\n".join(example_lines(rows))
    assert "## What the models say" in text and "Base says \\| hi" in text and "seed one" not in text
    assert example_lines([]) == []
