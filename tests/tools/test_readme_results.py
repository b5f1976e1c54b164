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
