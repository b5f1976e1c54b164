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
from run_fixtures import adapter_weights, poll, train_flags
from train_fixtures import tiny_config

from grasp_core.cli import main
from grasp_core.errors import GraspError
from grasp_core.runs.queue import reap_dead, resume, submit, wait
from grasp_core.runs.registry import STALE_S, create_run, list_runs, read_status, update_status
from grasp_core.runs.worker import execute, run_foreground

pytestmark = pytest.mark.slow


def test_a_suspended_worker_keeps_its_run_and_no_second_worker_starts(tiny, tmp_path):
    root = tmp_path / "runs"
    cfg = tiny_config(tiny, batch_size=2, epochs=2)  # 8 steps
    reference = run_foreground(cfg, root)
    run = submit(cfg, root)
    poll(root, lambda: read_status(run.dir).step >= 1)
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
    a, b = adapter_weights(reference.dir / "adapter"), adapter_weights(run.dir / "adapter")
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-5


def test_a_run_cancelled_before_its_worker_listens_never_trains(tiny, tmp_path):
    root = tmp_path / "runs"
    run = create_run(tiny_config(tiny), root)
    (run.dir / "cancel").touch()  # as `cancel` leaves it when the worker has no signal handler yet
    assert execute(run.dir).status.state == "cancelled"
    assert not (run.dir / "metrics.jsonl").exists()


def test_foreground_train_prints_the_adapter_and_skip_existing_reuses_it(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    flags = train_flags(tiny)
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
            *train_flags(tiny),
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
        poll(root, lambda: any(r.status.step >= 1 for r in list_runs(root)) if root.is_dir() else False)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    (run,) = list_runs(root)
    assert proc.returncode == 130 and f"continue with: grasp train --resume {run.id}" in err
    assert run.status.state == "cancelled" and 1 <= run.status.step < 200 and run.status.resume
    assert torch.load(run.dir / "checkpoint" / "state.pt", weights_only=True)["step"] == run.status.step
