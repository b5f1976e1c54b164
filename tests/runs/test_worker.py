"""The worker of one registry run, as a real OS process: it holds a lease on its run (a suspended worker keeps it,
a second worker writes nothing), honours a cancel asked before it listens, and in the foreground prints the adapter,
reuses a finished config and turns Ctrl-C into a checkpoint and exit 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_fixtures import make_tiny_base, write_chats

from grasp_core.cli import main
from grasp_core.errors import GraspError
from grasp_core.runs.queue import reap_dead, resume, submit, wait
from grasp_core.runs.registry import STALE_S, create_run, list_runs, read_status, update_status
from grasp_core.runs.worker import execute, run_foreground
from grasp_core.training.config import TrainConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {"base": make_tiny_base(root / "base"), "data": write_chats(root / "data.jsonl", n=8)}


@pytest.fixture(autouse=True)
def one_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRASP_MAX_RUNS", "1")  # workers inherit it: they start the next run when they end


def _cfg(tiny: dict[str, Path], **kw) -> TrainConfig:
    args = dict(
        data=str(tiny["data"]),
        base=str(tiny["base"]),
        r=4,
        batch_size=4,
        epochs=1,
        lr=1e-2,
        warmup_ratio=0.0,
        max_length=64,
        device="cpu",
    )
    return TrainConfig(**{**args, **kw})


def _poll(root: Path, until, timeout_s: float = 90.0, every_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, f"timed out; runs: {[r.summary() for r in list_runs(root)]}"
        time.sleep(every_s)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "adapter_model.safetensors"))


def test_a_suspended_worker_keeps_its_run_and_no_second_worker_starts(tiny, tmp_path):
    root = tmp_path / "runs"
    cfg = _cfg(tiny, batch_size=2, epochs=2)  # 8 steps
    reference = run_foreground(cfg, root)
    run = submit(cfg, root)
    _poll(root, lambda: read_status(run.dir).step >= 1)
    pid = read_status(run.dir).pid
    os.kill(pid, signal.SIGSTOP)  # a laptop lid: silent for longer than any heartbeat window
    try:
        update_status(run.dir, heartbeat=time.time() - STALE_S - 60)
        assert reap_dead(root) == 0 and read_status(run.dir).state == "running"  # it holds its lease: alive
        with pytest.raises(GraspError, match="only cancelled or failed runs can be resumed"):
            resume(run.id, root)
        with pytest.raises(GraspError, match="only a queued, cancelled or failed run"):
            run_foreground(run.id, root)
        before = (run.dir / "status.json").read_bytes()
        execute(run.dir)  # a second worker started by hand finds the lease held and writes nothing
        assert (run.dir / "status.json").read_bytes() == before
    finally:
        os.kill(pid, signal.SIGCONT)
    done = wait(run.id, root, timeout_s=120).status
    assert done.state == "done" and done.step == 8 and done.pid == pid, done.log_tail
    steps = [json.loads(line)["step"] for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))  # every step once
    a, b = _weights(reference.dir / "adapter"), _weights(run.dir / "adapter")
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-5


def test_a_run_cancelled_before_its_worker_listens_never_trains(tiny, tmp_path):
    root = tmp_path / "runs"
    run = create_run(_cfg(tiny), root)
    (run.dir / "cancel").touch()  # as `cancel` leaves it when the worker has no signal handler yet
    assert execute(run.dir).status.state == "cancelled"
    assert not (run.dir / "metrics.jsonl").exists()


def test_foreground_train_prints_the_adapter_and_skip_existing_reuses_it(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    flags = [
        "train",
        "--data",
        str(tiny["data"]),
        "--base",
        str(tiny["base"]),
        "--r",
        "4",
        "--batch-size",
        "4",
        "--max-length",
        "64",
        "--device",
        "cpu",
    ]
    assert main(flags) == 0
    adapter = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert (adapter / "adapter_config.json").is_file() and adapter.parent.parent == tmp_path / "runs"
    assert [r.status.state for r in list_runs(tmp_path / "runs")] == ["done"]
    assert main([*flags, "--skip-existing"]) == 0
    assert f"already trained this config: {adapter}" in capsys.readouterr().out
    assert len(list_runs(tmp_path / "runs")) == 1


def test_ctrl_c_in_a_foreground_train_checkpoints_and_exits_130(tiny, tmp_path):
    env = {**os.environ, "GRASP_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grasp_core",
            "train",
            "--data",
            str(tiny["data"]),
            "--base",
            str(tiny["base"]),
            "--r",
            "4",
            "--batch-size",
            "4",
            "--max-length",
            "64",
            "--device",
            "cpu",
            "--epochs",
            "100",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = tmp_path / "runs"
    try:
        _poll(root, lambda: any(r.status.step >= 1 for r in list_runs(root)) if root.is_dir() else False)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    (run,) = list_runs(root)
    assert proc.returncode == 130 and f"continue with: grasp train --resume {run.id}" in err
    assert run.status.state == "cancelled" and 1 <= run.status.step < 200 and run.status.resume
    assert torch.load(run.dir / "checkpoint" / "state.pt", weights_only=True)["step"] == run.status.step
