"""A whole sweep as a detached process: it finishes, and a second start of the same sweep is refused."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest
import yaml

from grasp_core.errors import GraspError
from grasp_core.runs.registry import list_runs
from grasp_core.sweep.background import list_sweeps, live_sweep_pid, submit_sweep
from grasp_core.sweep.config import SweepConfig


def test_submit_sweep_finishes_a_tiny_sweep_in_the_background_and_refuses_a_second_start(
    tmp_path, monkeypatch, tiny_organism, tiny_llama_dir
):
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    train = {"r": 2, "lora_alpha": 4, "lr": 1e-3, "batch_size": 4, "epochs": 1, "max_length": 96, "device": "cpu"}
    cfg = SweepConfig.from_dict(
        {
            "organism": str(tiny_organism),
            "base": str(tiny_llama_dir),
            "seeds": [0],
            "train": train,
            "methods": [{"method": "naive"}],
        }
    )
    folder = submit_sweep(cfg)
    assert folder.parent == tmp_path / "home" / "sweeps"
    assert yaml.safe_load((folder / "sweep.yaml").read_text())["name"] == folder.name  # the process finds this folder
    with pytest.raises(GraspError, match=f"sweep {folder.name} is already running"):
        submit_sweep(cfg)
    (info,) = list_sweeps()
    assert info.state == "running" and info.pid != os.getpid() and info.total == 1
    assert info.organism == tiny_organism.name
    deadline = time.monotonic() + 180
    while live_sweep_pid(folder) is not None:
        assert time.monotonic() < deadline, (folder / "sweep.log").read_text()[-2000:]
        time.sleep(0.2)
    (info,) = list_sweeps()
    assert info.state == "done" and info.done == info.total == 1, info.log
    assert any(line.startswith("[1/1] naive seed=0") for line in info.log)
    assert list(pd.read_csv(folder / "results.csv")["label"]) == ["base", "naive"]
    (run,) = list_runs(tmp_path / "home" / "runs")  # its run went through the registry, like any other
    assert run.status.state == "done" and run.config.method == "naive"


def test_the_results_catalog_lists_the_extra_table_then_bundled_then_sweeps(tmp_path, monkeypatch) -> None:
    from grasp_core.sweep.background import results_catalog

    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    mine = tmp_path / "home" / "sweeps" / "mine" / "results.csv"
    mine.parent.mkdir(parents=True)
    mine.write_text("label\n")
    extra = tmp_path / "extra.csv"
    extra.write_text("label\n")
    tables, stale = results_catalog(extra)
    names = list(tables)
    assert names[0] == str(extra) and names[-1] == "mine/results.csv" and tables["mine/results.csv"] == mine
    bundled = [n for n in names if n.endswith("(bundled)")]
    assert "persona/persona-main (bundled)" in bundled and names[1 : 1 + len(bundled)] == bundled
    assert not stale  # the committed results were made on the organisms' current files
    assert list(results_catalog(tmp_path / "missing.csv")[0])[0] != str(tmp_path / "missing.csv")
