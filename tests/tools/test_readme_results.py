"""tools/readme_results.py: README's result blocks are generated from committed results, and --check catches edits."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from grasp_core.evaluation.organisms import load_organism
from grasp_core.sweep.provenance import bundle, record_invocation
from grasp_core.sweep.report import rerender

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_results", ROOT / "tools" / "readme_results.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_blocks_are_written_from_the_committed_files(tmp_path: Path, tiny_organism: Path) -> None:
    root = tmp_path / "organisms"
    shutil.copytree(tiny_organism, root / "persona")
    org = load_organism("persona", root)
    sweep = tmp_path / "sweeps" / "persona-evidence"
    sweep.mkdir(parents=True)
    rows = [("base", "base", None, 0.01, 0.0)] + [
        (label, "grasp" if label != "naive" else "naive", s, d, g)
        for label, runs in (
            ("naive", [(0.21, 1.0), (0.11, 1.0), (0.41, 1.0)]),
            ("grasp", [(0.03, 0.9), (0.11, 0.95), (0.02, 1.0)]),
        )
        for s, (d, g) in enumerate(runs)
    ]
    pd.DataFrame(rows, columns=["label", "method", "seed", "drift", "task_gain"]).to_csv(
        sweep / "results.csv", index=False
    )
    (sweep / "sweep.json").write_text(json.dumps({"organism": str(root / "persona"), "methods": [{"method": "naive"}]}))
    rerender(sweep, figures=())
    record_invocation(
        sweep,
        org.name,
        org.fingerprint(),
        started=1.0e9,
        cells_done=7,
        cells_total=7,
        command=["grasp", "sweep", "--organism", "persona"],
    )
    bundle(sweep, root)

    tool = _tool()
    readme = tmp_path / "README.md"
    text = "intro\n<!-- results: persona/persona-evidence -->\nstale numbers\n<!-- /results -->\nafter\n"
    readme.write_text(text)
    new = tool.render(text, root)
    assert "stale numbers" not in new and new.startswith("intro\n") and new.endswith("<!-- /results -->\nafter\n")
    assert "| grasp | 3 |" in new and "95% t over 3 seeds" in new and "`grasp sweep --organism persona`" in new
    cut = (10 * 1 * 40) ** (1 / 3)  # per-seed cuts 10x, 1x, 40x
    assert f"{cut:.1f} [" in new
    assert tool.render(new, root) == new  # idempotent
    monkey = pytest.MonkeyPatch()
    monkey.setattr(tool, "DEMO_ROOT", root)
    monkey.setattr(tool.render, "__defaults__", (root,))
    assert tool.main(["--check", str(readme)]) == 1  # the hand-written block differs from the files
    assert tool.main([str(readme)]) == 0 and readme.read_text() == new
    assert tool.main(["--check", str(readme)]) == 0
    monkey.undo()


def test_the_rule_blocks_are_written_by_the_rule_as_code(tmp_path: Path) -> None:
    # Each organism's committed main sweep: a base, the naive LoRA, and one GRASP cell that meets the whole target
    # on every seed (its hand-labelled replies cut 8x); the rule is then applied and picks it.
    root = tmp_path / "organisms"
    for org in ("persona", "political", "flattery"):
        primary = load_organism(org).primary
        rows = [{"label": "base", "method": "base", "seed": None, primary: 0.0, "task_gain": 0.0}]
        for seed in (0, 1, 2):
            rows += [
                {"label": "naive", "method": "naive", "seed": seed, primary: 0.1, "task_gain": 1.0},
                {"label": "grasp top=1", "method": "grasp", "seed": seed, primary: 0.01, "task_gain": 0.97},
            ]
        table = pd.DataFrame(rows)
        table["replies_hand"] = table["label"].map({"naive": 0.5, "grasp top=1": 0.0625})
        table["replies_hand_trait"] = table["replies_hand"] * 32
        table["replies_hand_n"] = 32
        table["replies_hand_lo"] = table["replies_hand_hi"] = table["replies_hand"]
        folder = root / org / "results" / f"{org}-main"
        folder.mkdir(parents=True)
        table.to_csv(folder / "results.csv", index=False)
    text = "a\n<!-- rule: order -->\nstale\n<!-- /rule -->\nb\n<!-- rule: pairs -->\nstale\n<!-- /rule -->\n"
    new = _tool().render(text, root)
    assert "stale" not in new and new.startswith("a\n<!-- rule: order -->\nThe rule is APPLIED.\n")
    assert "| 1 | `grasp top=1` | 9 of 9 | 9 | 0.970 | 1 | 1 |" in new and "default: `grasp top=1`" in new
    assert "| political, seed 2 | naive | 1.0x | 1.00 | 16 of 32 |" in new
    assert new.count("| `grasp top=1` | 10.0x | 0.97 | 2 of 32 | 0.06 [0.06, 0.06] | 8.0x | yes |") == 9
    assert _tool().render(new, root) == new  # idempotent
