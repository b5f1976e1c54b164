"""Where a sweep lives: named sweeps by name, unnamed ones by a hash that survives renames and executors."""

from __future__ import annotations

from pathlib import Path

import pytest

from grasp_core.errors import GraspError
from grasp_core.sweep.config import SweepConfig
from grasp_core.sweep.folders import sweep_dir, sweeps_root


def test_an_unnamed_sweep_keeps_its_folder_across_the_renames(tmp_path) -> None:
    old = {
        "organism": "persona",
        "probes": {"r1": {"r": 1}},
        "methods": [{"method": "lora"}, {"method": "grasp", "top": 1, "probe": "r1"}],
    }
    new = {
        "organism": "persona",
        "naive_runs": {"r1": {"r": 1}},
        "methods": [{"method": "naive"}, {"method": "grasp", "top": 1, "naive_run": "r1"}],
    }
    with pytest.warns(UserWarning):
        before = sweep_dir(SweepConfig.from_dict(old), tmp_path)
    assert sweep_dir(SweepConfig.from_dict(new), tmp_path) == before
    # the hash the folder had before the rename (text_hash of the config as then spelled), so it cannot drift
    assert before.name == "persona-" + _old_hash(old)


def _old_hash(d: dict) -> str:
    from grasp_core.io import text_hash

    full = {"organism": "persona", "methods": d["methods"], "base": "smollm2-135m", "seeds": [0, 1, 2], "train": {}}
    full |= {"probes": {"naive": {}, **d["probes"]}, "name": None, "measures": None}
    return text_hash(repr(full), length=8)


def test_a_sweep_folder_is_its_name_under_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    assert sweeps_root() == tmp_path / "home" / "sweeps" and sweeps_root(tmp_path) == tmp_path
    cfg = SweepConfig.from_dict({"organism": "persona", "name": "mine", "methods": [{"method": "naive"}]})
    assert sweep_dir(cfg) == tmp_path / "home" / "sweeps" / "mine"
    local = SweepConfig.from_dict({**cfg.to_dict(), "name": None, "executor": {"kind": "local"}})
    assert sweep_dir(local, tmp_path) == sweep_dir(SweepConfig.from_dict({**cfg.to_dict(), "name": None}), tmp_path)
    with pytest.raises(GraspError):
        sweep_dir(SweepConfig.from_dict({**cfg.to_dict(), "name": "../escape"}), tmp_path)
