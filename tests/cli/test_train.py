"""The training verbs' messages: one line and exit 2 for bad input, in process and as a process."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import torch

from grasp_core.cli import main
from grasp_core.identification.factors import Factor
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


def test_a_set_saved_by_hand_is_trained_whole_unless_top_or_select_say_otherwise(tmp_path, monkeypatch, capsys):
    from grasp_core.cli.train import _train_args, _whole_saved_set
    from grasp_core.identification.factors import FactorSet, save_factors
    from grasp_core.identification.factorsets import FactorSetSpec, save_factor_set
    from grasp_core.training.methods import METHODS

    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    vectors = torch.linalg.qr(torch.randn(16, 6, generator=torch.Generator().manual_seed(0)))[0].T  # (6, 16)
    factors = [
        Factor(id=f"global-write-{i}", scope="global", side="write", sigma=6.0 - i, energy=0.1, vector=v, index=i)
        for i, v in enumerate(vectors)
    ]
    every = FactorSet(factors=factors, base="b", adapter="a", adapter_hash="h", d_model=16, n_layers=2)
    candidates = save_factors(every, tmp_path / "factors.safetensors")  # identify's output: the default `top`
    picked = save_factor_set(FactorSetSpec("pick", ["global-write-3", "global-write-1"]), every).path
    p = argparse.ArgumentParser()
    _train_args(p)

    def top(*flags: str) -> int | None:
        ns = p.parse_args(["--data", "d.jsonl", "--method", "grasp", *flags])
        _whole_saved_set(ns)
        return TrainConfig.from_args(ns).top

    assert top("--factors", str(picked)) == 2 and "all 2 factors" in capsys.readouterr().err
    assert top("--factors", str(picked), "--top", "1") == 1
    assert top("--factors", str(picked), "--select", "0") is None
    assert top("--factors", str(candidates)) == METHODS["grasp"].default_top
