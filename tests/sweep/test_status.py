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
