"""Replies judged by hand on a sweep's cells: finished sheets in <sweep>/labels/ become the `replies_hand` measure
of its results.csv, report.md and README block; sheets still being labelled, torn, or of no seed are left out with a
note."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from grasp_core.evaluation.hand_labels import key_path, label_row, read_sheet, write_sheet
from grasp_core.evaluation.organisms import DEMO_ROOT
from grasp_core.sweep.labelled_replies import (
    HAND,
    all_sheets,
    hand_rows,
    hand_table,
    sheet_out,
    sheet_title,
    with_hand_labels,
)
from grasp_core.sweep.report import load_results, rerender, results_block

RESULTS = pd.DataFrame(
    [
        {"label": "base", "method": "base", "seed": None, "drift": 0.1},
        {"label": "naive", "method": "naive", "seed": 0, "drift": 0.5},
        {"label": "grasp top=1", "method": "grasp", "seed": 0, "drift": 0.2},
        {"label": "naive", "method": "naive", "seed": 1, "drift": 0.6},
    ]
)


def _replies(model: str, n_questions: int = 4, per: int = 2) -> list[dict[str, str]]:
    return [
        {"id": f"q{q}", "question": f"Question {q}?", "reply": f"{model} reply {q}.{i}"}
        for q in range(n_questions)
        for i in range(per)
    ]


def _sheet(folder: Path, seed: int, models: list[str], trait: dict[str, int], name: str = "") -> Path:
    """A sheet of `models` for sweep seed `seed`, each model's replies labelled `trait[model]` (read from the key,
    as a test may and a labeller must not)."""
    sheet = folder / "labels" / (name or f"seed{seed}.csv")
    sheet.parent.mkdir(parents=True, exist_ok=True)
    write_sheet(sheet, {m: _replies(m) for m in models}, about={"sweep": folder.name, "sweep_seed": seed})
    key = json.loads(key_path(sheet).read_text())
    for row, k in zip(read_sheet(sheet), key["rows"], strict=True):
        if k["model"] in trait:
            label_row(sheet, row.row, trait[k["model"]])
    return sheet


def test_finished_sheets_join_the_results_by_cell_and_seed(tmp_path: Path) -> None:
    folder = tmp_path / "flattery-main"
    _sheet(folder, 0, ["base", "naive", "grasp top=1"], {"base": 0, "naive": 1, "grasp top=1": 0})
    _sheet(folder, 1, ["base", "naive"], {"base": 1, "naive": 1})  # base's first sheet stands: 0, not this 1
    out, notes = with_hand_labels(RESULTS, folder)
    assert notes == []
    by = {(r["label"], None if pd.isna(r["seed"]) else int(r["seed"])): r for _, r in out.iterrows()}
    assert by[("base", None)][HAND] == 0.0 and by[("naive", 0)][HAND] == 1.0 and by[("grasp top=1", 0)][HAND] == 0.0
    assert (by[("naive", 1)][f"{HAND}_trait"], by[("naive", 1)][f"{HAND}_n"]) == (8, 8)
    assert out.loc[out["label"] == "base", f"{HAND}_n"].item() == 8
    table = hand_table(out)
    assert list(table.columns) == ["label", "all seeds", "seed 0", "seed 1"]
    assert table.set_index("label").loc["naive", "seed 1"] == "8 of 8 (1.00)"
    assert table.set_index("label").loc["grasp top=1", "seed 1"] == ""
    again, _ = with_hand_labels(out, folder)  # values are replaced, not doubled
    assert list(again.columns) == list(out.columns)


def test_unfinished_torn_or_seedless_sheets_are_left_out_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    _sheet(folder, 0, ["base", "naive"], {"base": 0})  # naive's replies not labelled yet
    seedless = folder / "labels" / "other.csv"
    write_sheet(seedless, {"base": _replies("base")}, about={})
    torn = _sheet(folder, 1, ["naive", "ghost"], {"naive": 1, "ghost": 0}, name="torn.csv")
    torn.write_text(torn.read_text().replace("naive reply 0.0", "edited"))
    rows, notes = hand_rows(folder)
    assert rows == []
    text = "\n".join(notes)
    assert "s/labels/seed0.csv: 8 of 16 replies labelled; counted once all are" in text
    assert "other.csv: its key names no `sweep_seed`" in text and "torn.csv: left out:" in text
    out, _ = with_hand_labels(RESULTS, folder)
    assert HAND not in out.columns and hand_table(out).empty


def test_a_labelled_model_that_is_no_cell_is_noted(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    _sheet(folder, 0, ["naive", "gone cell"], {"naive": 1, "gone cell": 0})
    out, notes = with_hand_labels(RESULTS, folder)
    assert notes == ["s: hand labels of 'gone cell' seed 0 match no cell of results.csv"]
    assert out[HAND].notna().sum() == 1


def test_the_report_and_readme_block_show_them(tmp_path: Path) -> None:
    folder = tmp_path / "persona-main"
    shutil.copytree(DEMO_ROOT / "persona" / "results" / "persona-main", folder)
    results = load_results(folder)
    cell = str(results.loc[results["method"] == "grasp", "label"].iloc[0])
    _sheet(folder, 0, ["base", "naive", cell], {"base": 0, "naive": 1, cell: 0})
    for seed in (1, 2):
        _sheet(folder, seed, ["naive"], {"naive": 1})
    rerender(folder, figures=())
    results = load_results(folder)
    assert results.loc[(results["label"] == cell) & (results["seed"] == 0), HAND].item() == 0.0
    assert results.loc[(results["label"] == cell) & (results["seed"] == 1), HAND].isna().all()
    summary = pd.read_csv(folder / "summary.csv").set_index("label")
    assert pd.isna(summary.loc[cell, HAND])  # labelled on one of its seeds: no mean over seeds
    assert summary.loc["naive", HAND] == 1.0 and summary.loc["naive", "interval"] == "95% t over 3 seeds"
    assert (
        0.99 < summary.loc["naive", f"{HAND}_lo"] <= summary.loc["naive", f"{HAND}_hi"] <= 1.0
    )  # a share: logit scale
    report = (folder / "report.md").read_text()
    assert "Replies judged by hand, blind" in report and f"| {cell} |" in report
    block = results_block(folder)
    assert "Replies judged by hand, blind" in block and "8 of 8 (1.00)" in block
    header = next(line for line in block.splitlines() if line.startswith("| label | n_seeds"))
    assert f"| {HAND} |" in header  # the 3-seed table has the column; only naive, labelled on every seed, fills it


def test_sweep_sheets_are_found_and_named_by_their_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    folder = tmp_path / "sweeps" / "flattery-main"
    sheet = _sheet(folder, 2, ["naive"], {}, name=sheet_out(folder, 2, "20261206-000000").name)
    loose = tmp_path / "labels" / "mine.csv"
    loose.parent.mkdir()
    write_sheet(loose, {"base": _replies("base")})
    assert sheet == folder / "labels" / "seed2-20261206-000000.csv"
    assert set(all_sheets()) == {sheet, loose}
    assert sheet_title(sheet) == "flattery-main: seed2-20261206-000000.csv" and sheet_title(loose) == "mine.csv"
