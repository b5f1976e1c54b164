"""The training verbs' messages: one line and exit 2 for bad input, in process and as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from grasp_core.cli import main
from grasp_core.runs.registry import (
    create_run,
)
from grasp_core.training.config import TrainConfig


def test_cli_bad_input_exits_non_zero_with_one_line(tmp_path, monkeypatch, capsys, data):
    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    assert main(["cancel", "../../etc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not valid" in err and "Traceback" not in err
    assert main(["logs", "20990101-000000-lora-abcdef"]) == 2
    assert "no such run" in capsys.readouterr().err
    assert main(["train", "--lr", "0.1"]) == 2  # no --data
    assert "missing required field(s) data" in capsys.readouterr().err
    assert main(["train", "--resume", "x", "--lr", "0.1"]) == 2
    assert "drop --lr" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--method", "inoculate"]) == 2  # the prompt it trains with is missing
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`system_prompt` is required by method `inoculate`" in err
    assert not [p for p in (tmp_path / "runs").glob("*") if p.is_dir()]  # no run folder made
    run = create_run(TrainConfig(data=str(data)), tmp_path / "runs")
    assert main(["runs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [run.id] and rows[0]["state"] == "queued"
    assert main(["runs"]) == 0 and run.id in capsys.readouterr().out


def test_cli_as_a_process_prints_one_line_and_no_traceback(tmp_path):
    env = {**os.environ, "GRASP_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "grasp_core", "logs", "../x"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("error: run id '../x' is not valid")
