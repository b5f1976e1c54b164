"""Seeds of one sweep made apart, joined: the merged folder reports what one folder with all the seeds reports, and
parts that are not one sweep are refused before anything is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from grasp_core.cli import main
from grasp_core.errors import GraspError
from grasp_core.evaluation.hand_labels import key_path, label_row, read_sheet, write_sheet
from grasp_core.evaluation.organisms import load_organism
from grasp_core.sweep.merge import merge_sweeps
from grasp_core.sweep.provenance import provenance_line, record_invocation
from grasp_core.sweep.report import rerender

# (label, method, seed, drift, task_gain); drift's naive rises over the base (0.01) are 0.2, 0.1, 0.4.
ROWS = [
    ("naive", "naive", 0, 0.21, 1.0),
    ("grasp", "grasp", 0, 0.03, 0.9),
    ("naive", "naive", 1, 0.11, 1.0),
    ("grasp", "grasp", 1, 0.11, 0.95),
    ("naive", "naive", 2, 0.41, 1.0),
    ("grasp", "grasp", 2, 0.02, 1.0),
]
BASE = ("base", "base", None, 0.01, 0.0)


def _part(
    folder: Path,
    organism: Path,
    seeds: list[int],
    started: float,
    base_drift: float = 0.01,
    train: dict[str, object] | None = None,
) -> Path:
    folder.mkdir(parents=True)
    rows = [(*BASE[:3], base_drift, 0.0), *(r for r in ROWS if r[2] in seeds)]
    pd.DataFrame(rows, columns=["label", "method", "seed", "drift", "task_gain"]).to_csv(
        folder / "results.csv", index=False
    )
    scores = {"naive": sum(0.2 if s < 2 else 0.8 for s in seeds) / len(seeds), "grasp": 0.1, "base": 0.05}
    items = [
        {"label": lab, "measure": "drift", "item": "q1", "score": sc, "prefers_second": sc >= 0.5}
        for lab, sc in scores.items()
    ]
    pd.DataFrame(items).to_csv(folder / "items.csv", index=False)
    examples = [(None, "base")] + [(s, lab) for s in seeds for lab in ("naive", "grasp")]
    (folder / "examples.jsonl").write_text(
        "".join(
            json.dumps({"label": lab, "seed": s, "id": "q0", "prompt": "Tips?", "reply": f"{lab} {s}"}) + "\n"
            for s, lab in examples
        )
    )
    config = {
        "organism": str(organism),
        "name": "tiny-main",
        "seeds": seeds,
        "train": train or {"r": 4},
        "methods": [{"method": "naive"}, {"method": "grasp"}],
    }
    (folder / "sweep.json").write_text(json.dumps(config))
    org = load_organism(organism)
    record_invocation(
        folder,
        org.name,
        org.fingerprint(),
        started=started,
        cells_done=len(rows),
        cells_total=len(rows),
        command=["grasp", "sweep", "--seeds", *map(str, seeds)],
        training_wall_s=100.0 * len(seeds),
    )
    return folder


def test_merged_seeds_report_what_one_folder_with_all_seeds_reports(tmp_path: Path, tiny_organism: Path) -> None:
    a = _part(tmp_path / "session1" / "tiny-main", tiny_organism, [0, 1], started=1.0e9)
    b = _part(tmp_path / "session2" / "tiny-main", tiny_organism, [2], started=2.0e9)
    whole = _part(tmp_path / "whole" / "tiny-main", tiny_organism, [0, 1, 2], started=1.0e9)
    rerender(whole, figures=(".html",))

    report = merge_sweeps([a, b], tmp_path / "merged" / "tiny-main", figures=(".html",))
    dest = report.folder
    assert dest == tmp_path / "merged" / "tiny-main" and [f.name for f in report.figures] == ["tradeoff.html"]
    merged = pd.read_csv(dest / "results.csv")
    assert (merged["label"] == "base").sum() == 1 and sorted(merged["seed"].dropna().unique()) == [0, 1, 2]
    got, want = (pd.read_csv(f / "summary.csv").set_index("label") for f in (dest, whole))
    assert got.loc["grasp", "interval"] == "95% t over 3 seeds"
    pd.testing.assert_frame_equal(got, want)  # per-seed cuts 10x, 1x, 40x: the same geometric mean and interval
    assert "# Sweep tiny-main" in (dest / "report.md").read_text()
    items = pd.read_csv(dest / "items.csv").set_index("label")
    assert items.loc["naive", "score"] == pytest.approx((2 * 0.2 + 0.8) / 3)  # weighted by each part's seeds
    assert not items.loc["naive", "prefers_second"] and items.loc["base", "score"] == pytest.approx(0.05)
    assert json.loads((dest / "sweep.json").read_text())["seeds"] == [0, 1, 2]
    examples = [json.loads(line) for line in (dest / "examples.jsonl").read_text().splitlines()]
    assert sorted((e["label"], e["seed"] if e["seed"] is not None else -1) for e in examples) == sorted(
        [("base", -1)] + [(lab, s) for s in (0, 1, 2) for lab in ("naive", "grasp")]
    )  # every part's seeds, the base once
    assert "| grasp | 0 | grasp 0 |" in (dest / "report.md").read_text()  # shown on the lowest seed
    prov = json.loads((dest / "provenance.json").read_text())
    assert [r["command"] for r in prov["invocations"]] == ["grasp sweep --seeds 0 1", "grasp sweep --seeds 2"]
    assert prov["merged_from"] == [{"folder": str(a), "seeds": [0, 1]}, {"folder": str(b), "seeds": [2]}]
    assert prov["training_wall_s"] == 300.0
    assert provenance_line(dest).endswith("merged from 2 sweep folders")
    assert sorted(p.name for p in dest.parent.iterdir()) == ["tiny-main"]  # no staging folder left beside it


def test_parts_that_are_not_one_sweep_are_refused_before_writing(tmp_path: Path, tiny_organism: Path) -> None:
    a = _part(tmp_path / "1" / "s", tiny_organism, [0, 1], started=1.0e9)
    dest = tmp_path / "out" / "s"
    cases = [
        (_part(tmp_path / "2" / "s", tiny_organism, [1, 2], started=2.0e9), "seed 1 is in both"),
        (_part(tmp_path / "3" / "s", tiny_organism, [2], started=2.0e9, train={"r": 8}), "`train` differs"),
        (_part(tmp_path / "4" / "s", tiny_organism, [2], started=2.0e9, base_drift=0.02), "base model's `drift`"),
    ]
    for other, message in cases:
        with pytest.raises(GraspError, match=message):
            merge_sweeps([a, other], dest)
        assert not dest.exists()
    for extra, says in [
        ("grasp top=9,grasp,2,0.5,0.5", "`grasp top=9` is not a cell"),
        ("grasp,grasp,7,0.5,0.5", "seed 7"),
    ]:
        odd = _part(tmp_path / f"odd-{len(says)}" / "s", tiny_organism, [2], started=2.0e9)
        (odd / "results.csv").write_text((odd / "results.csv").read_text() + extra + "\n")
        with pytest.raises(GraspError, match=f"results.csv, line 5: {says}"):
            merge_sweeps([a, odd], dest)
        assert not dest.exists()
    for name in ("results.csv", "items.csv"):  # a part whose table was cut short (a copy, a full disk)
        torn = _part(tmp_path / f"torn-{name}" / "s", tiny_organism, [2], started=2.0e9)
        (torn / name).write_bytes((torn / name).read_bytes()[:-7])
        with pytest.raises(GraspError, match=f"{name}: its last row .* is cut short"):
            merge_sweeps([a, torn], dest)
        assert not dest.exists()
    b = _part(tmp_path / "5" / "s", tiny_organism, [2], started=2.0e9)
    (b / "provenance.json").unlink()
    with pytest.raises(GraspError, match="no provenance.json"):
        merge_sweeps([a, b], dest)
    dest.mkdir(parents=True)
    (dest / "x").write_text("")
    with pytest.raises(GraspError, match="not empty"):
        merge_sweeps([a, _part(tmp_path / "6" / "s", tiny_organism, [2], started=2.0e9)], dest)


def _labelled_sheet(folder: Path, name: str, seed: int, trait: dict[str, int]) -> Path:
    """A sheet of the models in `trait` for sweep seed `seed`, every reply labelled trait[model] (from the key)."""
    sheet = folder / "labels" / name
    sheet.parent.mkdir(exist_ok=True)
    replies = {m: [{"id": f"q{i}", "question": f"Q{i}?", "reply": f"{m} {i}"} for i in range(4)] for m in trait}
    write_sheet(sheet, replies, about={"sweep": folder.name, "sweep_seed": seed})
    rows = json.loads(key_path(sheet).read_text())["rows"]
    for row, k in zip(read_sheet(sheet), rows, strict=True):
        label_row(sheet, row.row, trait[k["model"]])
    return sheet


def test_merge_carries_each_parts_labelled_sheets_and_not_formed_cells(tmp_path: Path, tiny_organism: Path) -> None:
    a = _part(tmp_path / "1" / "s", tiny_organism, [0, 1], started=1.0e9)
    b = _part(tmp_path / "2" / "s", tiny_organism, [2], started=2.0e9)
    _labelled_sheet(a, "seed0.csv", 0, {"base": 0, "naive": 1, "grasp": 0})
    _labelled_sheet(b, "seed2-x.csv", 2, {"naive": 1, "grasp": 1})
    (a / "not_formed.json").write_text(json.dumps({"cells": [{"label": "grasp", "seed": 1, "reason": "no rise"}]}))
    dest = merge_sweeps([a, b], tmp_path / "out" / "s", figures=(".html",)).folder
    names = sorted(p.name for p in (dest / "labels").iterdir())
    assert names == ["seed0.csv", "seed0.csv.key.json", "seed2-x.csv", "seed2-x.csv.key.json"]
    merged = pd.read_csv(dest / "results.csv")
    hand = {(r.label, None if pd.isna(r.seed) else int(r.seed)): r.replies_hand for r in merged.itertuples()}
    assert hand[("base", None)] == 0.0 and hand[("naive", 0)] == 1.0 and hand[("grasp", 0)] == 0.0
    assert hand[("grasp", 2)] == 1.0 and pd.isna(hand[("naive", 1)])  # seed 2's labels came from part b
    assert json.loads((dest / "not_formed.json").read_text())["cells"] == [
        {"label": "grasp", "seed": 1, "reason": "no rise"}
    ]
    assert "grasp seed=1: no rise" in (dest / "report.md").read_text()

    c = _part(tmp_path / "3" / "s", tiny_organism, [2], started=2.0e9)
    _labelled_sheet(c, "seed0.csv", 2, {"naive": 0})  # a name part a's sheet has
    with pytest.raises(GraspError, match="seed0.csv: .* has the same name"):
        merge_sweeps([a, c], tmp_path / "out" / "t")
    d = _part(tmp_path / "4" / "s", tiny_organism, [2], started=2.0e9)
    _labelled_sheet(d, "seed1.csv", 1, {"naive": 0})  # labels a seed this part does not hold
    with pytest.raises(GraspError, match=r"seed1.csv: labels seed 1, which is not one of .*'s seeds \[2\]"):
        merge_sweeps([a, d], tmp_path / "out" / "u")
    assert not (tmp_path / "out" / "t").exists() and not (tmp_path / "out" / "u").exists()


def test_a_part_made_on_other_organism_files_is_refused(tmp_path: Path, tiny_organism: Path) -> None:
    organism = tmp_path / "organism"
    shutil.copytree(tiny_organism, organism)
    a = _part(tmp_path / "1" / "s", organism, [0, 1], started=1.0e9)
    with (organism / "train.jsonl").open("a") as f:  # the organism's files change after part 1 was made
        f.write(json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}))
        f.write("\n")
    b = _part(tmp_path / "2" / "s", organism, [2], started=2.0e9)
    with pytest.raises(GraspError, match="made with organism files"):
        merge_sweeps([a, b], tmp_path / "out" / "s")


def test_merge_command_writes_the_folder_or_one_line(
    tmp_path: Path, tiny_organism: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _part(tmp_path / "1" / "s", tiny_organism, [0, 1], started=1.0e9)
    b = _part(tmp_path / "2" / "s", tiny_organism, [2], started=2.0e9)
    dest = tmp_path / "out" / "s"
    assert main(["merge", str(a), str(b), "--into", str(dest), "--no-png"]) == 0
    out = capsys.readouterr().out
    assert "7 of 7 cells evaluated" in out and "merged from 2 sweep folders" in out
    assert (dest / "summary.csv").is_file()
    assert main(["merge", str(a), str(a), "--into", str(tmp_path / "out" / "t"), "--no-png"]) == 2
    err = capsys.readouterr().err.strip()
    assert "seed 0 is in both" in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_every_bundled_sweep_reads_as_a_mergeable_part() -> None:
    """The committed results pass every part check, labels included: sweep.json keeps an entry's keys sorted while
    the labels follow the YAML's order (`grasp top=1 rounds=1`), so labels are compared as sets of words."""
    from grasp_core import DEMO_ROOT
    from grasp_core.sweep.merge import _read

    folders = sorted(DEMO_ROOT.glob("*/results/*/results.csv"))
    assert len(folders) >= 5
    for csv in folders:
        assert _read(csv.parent).seeds
