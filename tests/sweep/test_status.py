"""A sweep folder's cells by state, read from its markers and job records; nothing is started or marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from grasp_core.errors import GraspError
from grasp_core.io import write_json
from grasp_core.sweep.config import SweepConfig
from grasp_core.sweep.run import SweepWork
from grasp_core.sweep.status import sweep_status


def test_cells_are_not_started_then_done_as_their_markers_appear(tmp_path: Path, tiny_organism: Path) -> None:
    with pytest.raises(GraspError, match="no sweep.json"):
        sweep_status(tmp_path)
    cfg = SweepConfig.from_dict(
        {"name": "s", "organism": str(tiny_organism), "seeds": [0, 1], "methods": [{"method": "naive"}]}
    )
    folder = tmp_path / "s"
    folder.mkdir()
    write_json(folder / "sweep.json", cfg.to_dict())
    table = sweep_status(folder)
    assert list(table["state"]) == ["not started", "not started"] and list(table["seed"]) == ["0", "1"]
    work = SweepWork(cfg, tmp_path, None, lambda msg: None)
    work.mark_done(work.cells[1], "run-1")
    assert list(sweep_status(folder)["state"]) == ["not started", "done"]
    assert sorted(p.name for p in folder.iterdir()) == ["cells", "sweep.json"]  # reading wrote nothing else


def test_a_merged_sweep_reads_its_cells_from_its_results(tmp_path: Path, tiny_organism: Path) -> None:
    """A merged (or bundled) folder has rows but no cell markers: its tabled cells are done, not `not started`."""
    cfg = SweepConfig.from_dict(
        {
            "name": "m",
            "organism": str(tiny_organism),
            "seeds": [0, 1],
            "methods": [{"method": "naive"}, {"method": "grasp", "top": 1, "rounds": 2}],
        }
    )
    folder = tmp_path / "m"
    folder.mkdir()
    write_json(folder / "sweep.json", cfg.to_dict())  # keys sorted; the labels stay `top=1 rounds=2` (canonical)
    rows = "base,base,,0.1\nnaive,naive,0,0.3\ngrasp top=1 rounds=2,grasp,1,0.1\n"
    (folder / "results.csv").write_text("label,method,seed,drift\n" + rows)
    table = sweep_status(folder).set_index(["label", "seed"])["state"]
    assert table[("naive", "0")] == "done" and table[("naive", "1")] == "not started"
    assert table[table.index.get_level_values("seed") == "1"].tolist() == ["not started", "done"]
    (folder / "results.csv").write_text("label,method,seed,drift\nbase,base,,0.1\nnaive,naive,0,0.")
    with pytest.raises(GraspError, match="cut short"):
        sweep_status(folder)  # a torn table is named, not read
