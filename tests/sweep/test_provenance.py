"""Provenance of a sweep (each invocation appended) and bundled results (committed, checked against their organism)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grasp_core.errors import GraspError
from grasp_core.evaluation.hand_labels import write_sheet
from grasp_core.evaluation.organisms import load_organism
from grasp_core.sweep import provenance
from grasp_core.sweep.provenance import (
    PROVENANCE,
    bundle,
    bundled_results,
    check_bundle,
    provenance_line,
    record_invocation,
)


def _sweep(folder: Path, organism_dir: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "results.csv").write_text("label,method,seed,drift,task_gain\nbase,base,,0.01,0.0\n")
    (folder / "report.md").write_text("# report\n")
    (folder / "sweep.json").write_text(json.dumps({"organism": str(organism_dir), "methods": [{"method": "naive"}]}))
    return folder


def test_invocations_are_appended_with_command_commit_and_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    record_invocation(folder, "persona", "abc", started=1.0e9, cells_done=3, cells_total=9, command=["grasp", "a"])
    rec = record_invocation(
        folder, "persona", "abc", started=1.0e9, cells_done=9, cells_total=9, command=["grasp", "b"]
    )
    assert [r["command"] for r in rec["invocations"]] == ["grasp a", "grasp b"]
    assert rec["wall_s_total"] == pytest.approx(sum(r["wall_s"] for r in rec["invocations"]))
    assert all("core" in r["machine"] and "torch" in r["machine"] and r["commit"] for r in rec["invocations"])
    line = provenance_line(folder)
    assert line.startswith("`grasp b` at commit") and "2 recorded invocation(s)" in line
    assert "no provenance.json" in provenance_line(tmp_path)
    record_invocation(folder, "persona", "abc", started=1.0e9, cells_done=9, cells_total=9, training_wall_s=5400.0)
    assert provenance_line(folder).endswith("1.5 h of training in its runs")
    (folder / "results.csv").write_text("label\n")
    assert provenance_line(folder / "results.csv") == provenance_line(folder)  # a file in the folder names it too
    # The same invocation (start time and command) recording again updates its entry; training time is kept.
    rec = record_invocation(folder, "persona", "abc", started=2.0e9, cells_done=1, cells_total=9, command=["c"])
    monkeypatch.setattr(provenance, "commit", lambda: "moved-on")  # the checkout changes under a running sweep
    rec = record_invocation(folder, "persona", "abc", started=2.0e9, cells_done=5, cells_total=9, command=["c"])
    assert [r["cells_done"] for r in rec["invocations"]] == [3, 9, 9, 5]
    assert rec["training_wall_s"] == 5400.0
    assert rec["invocations"][-1]["commit"] == rec["invocations"][0]["commit"] != "moved-on"
    (folder / PROVENANCE).write_text(json.dumps({"invocations": "x"}))
    with pytest.raises(GraspError, match="invocations"):
        provenance_line(folder)


def test_bundled_results_are_listed_and_go_stale_when_the_organism_changes(tmp_path: Path, tiny_organism: Path) -> None:
    root = tmp_path / "organisms"
    org_dir = root / "persona"
    shutil.copytree(tiny_organism, org_dir)
    org = load_organism("persona", root)
    sweep = _sweep(tmp_path / "sweeps" / "persona-evidence", org_dir)
    with pytest.raises(GraspError, match="no provenance.json"):
        check_bundle(sweep, root)  # nothing ties these numbers to a commit or the organism's files
    record_invocation(sweep, org.name, org.fingerprint(), started=1.0e9, cells_done=1, cells_total=1)
    (sweep / "labels").mkdir()  # a labelling sheet with its key goes along; a stray file does not
    sheet = sweep / "labels" / "seed0.csv"
    write_sheet(sheet, {"base": [{"id": "q0", "question": "Q?", "reply": "hi"}]}, about={"sweep_seed": 0})
    (sweep / "labels" / "notes.txt").write_text("x")
    (sweep / "examples.jsonl").write_text('{"label": "base", "seed": null, "prompt": "Q?", "reply": "A."}\n')
    dest = bundle(sweep, root)
    assert dest == org_dir / "results" / "persona-evidence"
    names = sorted(p.name for p in dest.iterdir())
    assert names == ["examples.jsonl", "labels", PROVENANCE, "report.md", "results.csv", "sweep.json"]
    assert sorted(p.name for p in (dest / "labels").iterdir()) == ["seed0.csv", "seed0.csv.key.json"]
    (found,) = bundled_results(root)
    assert found.name == "persona/persona-evidence (bundled)" and found.stale is None
    assert bundle(sweep, root) == dest and len(bundled_results(root)) == 1  # replaced, not doubled
    with (org_dir / "train.jsonl").open("a") as f:
        f.write(json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}))
        f.write("\n")
    (found,) = bundled_results(root)
    assert found.stale is not None and "provenance.json" in found.stale and "rerun the sweep" in found.stale
    with pytest.raises(GraspError, match="rerun the sweep"):
        bundle(sweep, root)
