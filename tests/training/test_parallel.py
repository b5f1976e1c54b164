"""Data parallelism under torchrun with gloo (2 processes on the CPU): the result matches one process, every tensor a
collective sees is on the model's device, and GRASP's rounds read only what rank 0 finished writing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_fixtures import make_tiny_base, tiny_config, write_chats, write_factors

from grasp_core.training.config import TrainConfig
from grasp_core.training.run import train

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {"base": make_tiny_base(root / "base"), "data": write_chats(root / "data.jsonl"), "root": root}


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "adapter_model.safetensors"))


def _torchrun(cfg: TrainConfig, tmp: Path, out: Path, port: int, script: list[str]) -> subprocess.CompletedProcess:
    (tmp / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(port),
        *script,
        str(tmp / "cfg.json"),
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent.parent)}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _close(a: Path, b: Path) -> float:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    return max(float((wa[k] - wb[k]).abs().max()) for k in wa)


def test_two_processes_match_one_and_every_collective_is_on_the_model_device(tiny, tmp_path):
    cfg = tiny_config(tiny, grad_accum=2, epochs=1, warmup_ratio=0.2)
    single = train(cfg, tmp_path / "single")
    # Every all-reduce checked (tests/training/ddp_checked.py): on the model's device and made with a device named.
    proc = _torchrun(cfg, tmp_path, tmp_path / "ddp", 29531, [str(HERE / "ddp_checked.py")])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _close(single.adapter, tmp_path / "ddp" / "adapter") <= 1e-4
    assert max(float(v.abs().max()) for k, v in _weights(single.adapter).items() if "lora_B" in k) > 1e-3  # it moved


def test_grasp_rounds_under_two_processes_match_one(tiny, tmp_path):
    """Round 1's factors come from round 0's adapter, which only rank 0 writes: the other rank must wait for it."""
    factors = write_factors(
        tmp_path / "f.safetensors", torch.randn(1, 32, generator=torch.Generator().manual_seed(0)), str(tiny["base"])
    )
    cfg = tiny_config(tiny, method="grasp", factors=str(factors), rounds=2, epochs=1)
    single = train(cfg, tmp_path / "single")
    proc = _torchrun(cfg, tmp_path, tmp_path / "ddp", 29533, ["-m", "grasp_core.train"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    ddp = json.loads((tmp_path / "ddp" / "train_result.json").read_text())
    assert [r["n_factors"] for r in ddp["rounds"]] == [r["n_factors"] for r in single.rounds] == [1, 2]
    assert _close(single.adapter, tmp_path / "ddp" / "adapter") <= 1e-4
