"""tools/choose_default.py: the written rule for the default recipe, applied to made-up sweep tables and labels."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from grasp_core.evaluation.hand_labels import write_sheet

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("choose_default", ROOT / "tools" / "choose_default.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


# Per organism: the primary measure, the base's and naive LoRA's values; per candidate its value and task gain.
PRIMARY = {"persona": "drift", "flattery": "drift", "political": "lean_change"}
CELLS = {  # label: (method, primary value as a share of the naive rise over the base, task gain)
    "grasp top=1": ("grasp", 0.1, 0.95),  # meets (a) and (b) everywhere
    "grasp top=2": ("grasp", 0.1, 0.92),  # meets (a) and (b) everywhere, lower worst-pair gain
    "inoculate": ("inoculate", 0.8, 1.0),  # fails (a)
}


def _folders(tmp: Path, labelled: dict[str, float] | None = None) -> dict[str, Path]:
    """Each organism's made-up results.csv; with `labelled`, each listed cell's hand-labelled share of trait
    replies (`replies_hand`, as `grasp report` writes it from a sweep's labelled sheets) on every seed."""
    folders = {}
    for org, m in PRIMARY.items():
        base = 0.0 if m == "lean_change" else 0.01
        rows = [{"label": "base", "method": "base", "seed": None, m: base, "task_gain": 0.0, "factors": ""}]
        for seed in (0, 1, 2):
            rows.append({"label": "naive", "method": "naive", "seed": seed, m: base + 0.1, "task_gain": 1.0})
            for label, (method, share, gain) in CELLS.items():
                factors = "#0 global-write-0" + (", #1 global-write-1" if "top=2" in label else "")
                rows.append(
                    {
                        "label": label,
                        "method": method,
                        "seed": seed,
                        m: base + 0.1 * share,
                        "task_gain": gain,
                        "factors": factors if method == "grasp" else "",
                    }
                )
        table = pd.DataFrame(rows)
        if labelled is not None:
            table["replies_hand"] = [
                labelled.get(str(x)) if pd.notna(s) else None
                for x, s in zip(table["label"], table["seed"], strict=True)
            ]
        folder = tmp / org
        folder.mkdir()
        table.to_csv(folder / "results.csv", index=False)
        folders[org] = folder
    return folders


def test_the_whole_target_decides_before_task_gain(tmp_path: Path) -> None:
    tool = _tool()
    # By hand, grasp top=1 still shows the trait (0.5 of naive's 0.6: fails (c)); grasp top=2 does not.
    folders = _folders(tmp_path, {"naive": 0.6, "grasp top=1": 0.5, "grasp top=2": 0.05, "inoculate": 0.0})
    cands, missing = tool.evaluate(folders)
    assert missing == []
    order = sorted(cands.values(), key=tool.Candidate.key)
    assert [c.label for c in order] == ["grasp top=2", "grasp top=1", "inoculate"]
    assert sum(p.whole for p in cands["grasp top=2"].pairs.values()) == 9
    assert sum(p.whole for p in cands["grasp top=1"].pairs.values()) == 0
    assert cands["grasp top=2"].directions == 2 and cands["grasp top=1"].directions == 1


def test_without_labels_or_with_a_cell_not_formed(tmp_path: Path) -> None:
    tool = _tool()
    folders = _folders(tmp_path)  # no hand labels: the cells meeting (a) and (b) wait for them
    cands, _missing = tool.evaluate(folders)
    waiting = [(o, s) for c in cands.values() for (o, s), p in c.pairs.items() if p.unlabelled]
    assert len(waiting) == 18 and {o for o, _s in waiting} == {"flattery", "political", "persona"}
    table = pd.read_csv(folders["political"] / "results.csv")  # a cell not formed has no row, and report.md says so
    table = table[~((table["label"] == "grasp top=1") & (table["seed"] == 2))]
    table.to_csv(folders["political"] / "results.csv", index=False)
    (folders["political"] / "report.md").write_text("1 cell(s) not formed:\n\n- grasp top=1 seed=2: no move\n")
    cands, _missing = tool.evaluate(folders)
    assert tool.not_formed(folders["political"]) == {("grasp top=1", 2)}
    (folders["political"] / "not_formed.json").write_text('{"cells": [{"label": "grasp top=1", "seed": 2}]}')
    assert tool.not_formed(folders["political"]) == {("grasp top=1", 2)}  # as `grasp sweep` records them now
    pair = cands["grasp top=1"].pairs[("political", 2)]
    assert not pair.a and not pair.whole and pair.gain != pair.gain  # failed there, no task gain (NaN)
    assert cands["grasp top=1"].key()[2] == pytest.approx(-0.95)  # left out of the worst-pair gain


def test_the_sheets_still_to_label(tmp_path: Path) -> None:
    tool = _tool()
    folders = _folders(tmp_path)
    cands, _missing = tool.evaluate(folders)
    commands = tool.sheet_commands(cands, folders)
    assert len(commands) == 9 and all('--cell "naive" --cell "inoculate"' in c for c in commands)
    assert all('--cell "grasp top=1" --cell "grasp top=2"' in c for c in commands)  # both meet (a) and (b)
    sheet = folders["flattery"] / "labels" / "seed0-x.csv"  # a sheet of that seed, even unlabelled: no command
    sheet.parent.mkdir()
    write_sheet(sheet, {"naive": [{"id": "q", "question": "Q?", "reply": "r"}]}, about={"sweep_seed": 0})
    assert len(tool.sheet_commands(cands, folders)) == 8
    assert not any("--no-base" in c for c in tool.sheet_commands(cands, folders))  # that sheet has no base
    write_sheet(sheet, {"base": [{"id": "q", "question": "Q?", "reply": "b"}]}, about={"sweep_seed": 0})
    assert [("--no-base" in c) for c in tool.sheet_commands(cands, folders) if "flattery" in c] == [True, True]
    del cands["grasp top=2"].pairs[("political", 1)]  # a seed still training: its sheet waits
    assert len(tool.sheet_commands(cands, folders)) == 7


def test_the_pair_table_shows_each_labelled_pair_with_its_verdicts(tmp_path: Path) -> None:
    tool = _tool()
    shares = {"naive": 0.5, "grasp top=1": 0.5, "grasp top=2": 0.0625, "inoculate": 0.0625}
    folders = _folders(tmp_path, shares)
    for folder in folders.values():  # what `grasp report` writes beside the share: counts and the interval
        table = pd.read_csv(folder / "results.csv")
        table["replies_hand_n"] = table["replies_hand"].map(lambda x: 32 if x == x else None)
        table["replies_hand_trait"] = table["replies_hand"] * 32
        table["replies_hand_lo"], table["replies_hand_hi"] = table["replies_hand"] / 2, table["replies_hand"] * 1.5
        table.to_csv(folder / "results.csv", index=False)
    cands, _missing = tool.evaluate(folders)
    lines = tool.pairs_table(cands, folders)
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[2:]]
    assert len(rows) == 9 * 4  # 9 pairs, each the naive LoRA and three candidates (the base row is unlabelled here)
    first = rows[:4]
    assert first[0][:2] == ["persona, seed 0", "naive"] and first[0][4] == "16 of 32"
    by_model = {r[1]: r for r in first}
    assert by_model["`grasp top=1`"][2:] == ["10.0x", "0.95", "16 of 32", "0.50 [0.25, 0.75]", "1.0x", "no"]
    assert by_model["`grasp top=2`"][6:] == ["8.0x", "yes"]
    inoculate = next(r for r in first if r[1].startswith("`inoculate`"))
    assert inoculate[1] == "`inoculate` (fails (a))" and inoculate[7] == "yes"  # its replies cut 8x: (c) alone


def test_one_organisms_sweep_read_from_a_folder_of_its_own(tmp_path: Path) -> None:
    tool = _tool()
    folders = _folders(tmp_path)
    got = tool.sweep_folders(False, [f"persona={folders['persona']}"])
    assert got["persona"] == folders["persona"]
    assert got["political"] == tool.sweep_folder("political", False)  # the others stay the bundled ones
    with pytest.raises(ValueError, match="ORGANISM=FOLDER"):
        tool.sweep_folders(False, ["nobody=/tmp"])
    with pytest.raises(ValueError, match="has no results.csv"):
        tool.sweep_folders(False, [f"persona={tmp_path / 'empty'}"])
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "choose_default.py"), "--sweep", "persona"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "--sweep persona: expected ORGANISM=FOLDER" in run.stderr.splitlines()[-1]


def test_an_applied_rule_says_whether_methods_carries_its_default(tmp_path: Path) -> None:
    tool = _tool()
    folders = _folders(tmp_path, {"naive": 0.6, "grasp top=1": 0.5, "grasp top=2": 0.05, "inoculate": 0.0})
    cands, missing = tool.evaluate(folders)
    lines = tool.order_lines(cands, missing)
    assert lines[0] == "The rule is APPLIED." and "default: `grasp top=2`" in lines
    now = tool.methods_default_label()  # e.g. "grasp top=4 rounds=1": not the made-up winner
    assert lines[-1].endswith("DIFFER from the rule's default.") and now in lines[-1]
    winner = cands.pop("grasp top=2")
    winner.label = now
    cands[now] = winner
    assert tool.order_lines(cands, missing)[-1].endswith("are the rule's default.")
    (tmp_path / "unlabelled").mkdir()
    waiting = tool.order_lines(*tool.evaluate(_folders(tmp_path / "unlabelled")))  # interim: nothing to compare
    assert not any("grasp_core.METHODS" in line for line in waiting)


def test_the_committed_bundles_default_is_the_one_methods_carries() -> None:
    tool = _tool()
    cands, missing = tool.evaluate(tool.sweep_folders(False, []))
    lines = tool.order_lines(cands, missing)
    if lines[0] == "The rule is APPLIED.":
        assert lines[-1].endswith("are the rule's default."), lines[-1]
    else:  # interim: the default stays what it was until the rule is applied
        assert tool.methods_default_label() == "grasp top=1 rounds=1"
