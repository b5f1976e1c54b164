"""The run queue as real OS processes on a tiny random llama: queue limit, SIGKILL, cancel, resume, reaping dead
workers, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from run_fixtures import adapter_weights, poll
from train_fixtures import tiny_config

from grasp_core.cli import main
from grasp_core.errors import GraspError
from grasp_core.procs import this_host
from grasp_core.runs.queue import cancel, max_running, reap_dead, refresh, resume, submit, wait
from grasp_core.runs.registry import STALE_S, create_run, get_run, list_runs, read_status, update_status
from grasp_core.runs.worker import run_foreground
from grasp_core.training.config import TrainConfig

pytestmark = pytest.mark.slow


def test_queue_runs_one_at_a_time_and_each_ends_with_a_loadable_adapter(tiny, tmp_path, monkeypatch, capsys):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    root = tmp_path / "runs"
    assert (
        main(
            [
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
                "--background",
            ]
        )
        == 0
    )
    first = capsys.readouterr().out.strip()
    second = submit(tiny_config(tiny, seed=1), root).id
    assert get_run(second, root).status.state == "queued"  # the first one holds the only slot
    most = 0

    def ended() -> bool:
        nonlocal most
        states = [r.status.state for r in list_runs(root)]
        most = max(most, states.count("running"))
        return all(s in ("done", "failed", "cancelled") for s in states)

    poll(root, ended)
    a, b = get_run(first, root).status, get_run(second, root).status
    assert a.state == b.state == "done", (a.error, b.error, a.log_tail, b.log_tail)
    assert most == 1 and b.started >= a.finished  # never two at once: the second started when the first ended
    assert a.step == a.total == 2 and a.loss is not None and a.pid != b.pid != os.getpid()
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny["base"]), a.adapter)
    assert any(float(v.abs().max()) > 0 for k, v in model.state_dict().items() if "lora_B" in k)
    assert len((root / first / "metrics.jsonl").read_text().splitlines()) == 2
    assert main(["logs", first, "--follow"]) == 0
    out = capsys.readouterr().out
    assert "step 2/2" in out and f"run {first}: done" in out


def test_a_killed_worker_is_reported_failed_and_the_queue_moves_on(tiny, tmp_path):
    root = tmp_path / "runs"
    victim = submit(tiny_config(tiny, epochs=50), root)
    queued = submit(tiny_config(tiny, seed=1), root)
    poll(root, lambda: read_status(victim.dir).listening)  # the worker is up and has written its status
    os.kill(read_status(victim.dir).pid, signal.SIGKILL)
    poll(root, lambda: read_status(victim.dir).pid is None or not _alive(read_status(victim.dir).pid))
    listed = {r.id: r.status for r in list_runs(root)}  # a listing only reports the dead worker ...
    assert listed[victim.id].state == "running" and listed[victim.id].worker_gone() == "exited"
    assert listed[queued.id].state == "queued"
    assert reap_dead(root) == 1  # ... reap_dead marks it failed and gives its slot to the queued run
    runs = {r.id: r.status for r in list_runs(root)}
    assert set(runs) == {victim.id, queued.id}
    assert runs[victim.id].state == "failed" and "killed or crashed" in runs[victim.id].error
    assert any(victim.id in line for line in runs[victim.id].log_tail)
    assert runs[queued.id].state == "running"
    assert cancel(queued.id, root, wait_s=60).status.state == "cancelled"


def _alive(pid: int) -> bool:
    from grasp_core.procs import pid_alive

    return pid_alive(pid)


def test_cancel_checkpoints_and_resume_reaches_the_uninterrupted_adapter(tiny, tmp_path):
    root = tmp_path / "runs"
    cfg = tiny_config(tiny, batch_size=2, epochs=2)  # 8 steps
    reference = run_foreground(cfg, root)  # in this process, recorded like any run
    assert reference.status.state == "done" and reference.status.step == 8
    run = submit(cfg, root)
    poll(root, lambda: read_status(run.dir).step >= 1)
    stopped = cancel(run.id, root, wait_s=60).status
    assert stopped.state == "cancelled" and 1 <= stopped.step < 8, stopped
    ckpt = run.dir / "checkpoint"
    state = torch.load(ckpt / "state.pt", weights_only=True)
    assert (
        state["step"] == stopped.step
        and adapter_weights(ckpt).keys() == adapter_weights(reference.dir / "adapter").keys()
    )
    assert not (run.dir / "adapter").exists()
    resumed = resume(run.id, root)
    assert resumed.status.resume and resumed.status.state in ("queued", "running")
    done = wait(run.id, root, timeout_s=90).status
    assert done.state == "done" and done.step == 8, done.log_tail
    a, b = adapter_weights(reference.dir / "adapter"), adapter_weights(run.dir / "adapter")
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-5
    assert len((run.dir / "metrics.jsonl").read_text().splitlines()) == 8


def test_two_refreshes_at_once_start_a_queued_run_only_once(tiny, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "runs"
    run = create_run(tiny_config(tiny, base=str(tmp_path / "no-such-base")), root)  # its worker fails fast
    with ThreadPoolExecutor(4) as pool:
        started = [i for ids in pool.map(lambda _: refresh(root, limit=4), range(4)) for i in ids]
    assert started == [run.id]
    ended = wait(run.id, root, timeout_s=90).status
    assert ended.state == "failed" and "no-such-base" in ended.error, ended


def test_a_dead_worker_is_marked_failed_with_its_last_log_lines(tmp_path, data):
    root = tmp_path / "runs"
    dead = create_run(TrainConfig(data=str(data)), root)
    (dead.dir / "log.txt").write_text("loading\nstep 3/9 loss 2.0\r step 4/9 loss 1.9\nTraceback: boom\n")
    update_status(dead.dir, state="running", pid=_dead_pid(), heartbeat=time.time())
    stale = create_run(TrainConfig(data=str(data), seed=1), root)  # alive pid, but silent for too long
    update_status(stale.dir, state="running", pid=os.getpid(), heartbeat=time.time() - STALE_S - 5)
    asked = create_run(TrainConfig(data=str(data), seed=2), root)  # died after a cancel was asked for
    (asked.dir / "cancel").touch()
    update_status(asked.dir, state="running", pid=_dead_pid(), heartbeat=time.time())
    # Listing is a query: it reports why a worker looks dead but marks nothing.
    listed = {r.id: r.status for r in list_runs(root)}
    assert [listed[r.id].state for r in (dead, stale, asked)] == ["running"] * 3
    assert listed[dead.id].worker_gone() == "exited" and "no heartbeat" in (listed[stale.id].worker_gone() or "")
    by_id = {r.id: r for r in list_runs(root)}  # with the run folder: a live pid that holds no lease is not the worker
    assert "holds no lease" in (by_id[stale.id].worker_gone() or "")
    assert read_status(dead.dir).state == "running"
    assert reap_dead(root) == 3  # the explicit action marks them
    runs = {r.id: r.status for r in list_runs(root)}
    assert runs[dead.id].state == "failed" and "exited" in runs[dead.id].error
    assert runs[dead.id].log_tail == ["loading", " step 4/9 loss 1.9", "Traceback: boom"]
    assert runs[stale.id].state == "failed" and "holds no lease" in runs[stale.id].error
    assert runs[asked.id].state == "cancelled"
    assert read_status(dead.dir).state == "failed"  # written back, not only reported


def test_a_worker_on_another_host_is_judged_by_its_heartbeat_alone(tmp_path, data):
    # A GRASP_HOME shared by cluster nodes: a pid written on another node means nothing here (this one is dead on
    # this machine), so a sweep job or a login-node driver must not mark that run failed while it beats.
    root = tmp_path / "runs"
    beating = create_run(TrainConfig(data=str(data)), root)
    update_status(beating.dir, state="running", pid=_dead_pid(), host="node-17", heartbeat=time.time())
    silent = create_run(TrainConfig(data=str(data), seed=1), root)
    update_status(silent.dir, state="running", pid=_dead_pid(), host="node-18", heartbeat=time.time() - STALE_S - 5)
    starting = create_run(TrainConfig(data=str(data), seed=2), root)  # no heartbeat yet: judged by its start
    update_status(starting.dir, state="running", pid=_dead_pid(), host="node-19", heartbeat=None, started=time.time())
    here = create_run(TrainConfig(data=str(data), seed=3), root)  # this host's name: the pid decides, as before
    update_status(here.dir, state="running", pid=_dead_pid(), host=this_host(), heartbeat=time.time())
    by_id = {r.id: r for r in list_runs(root)}
    assert by_id[beating.id].worker_gone() is None and by_id[starting.id].worker_gone() is None
    assert "on node-18, sent no heartbeat" in (by_id[silent.id].worker_gone() or "")
    assert by_id[here.id].worker_gone() == "exited"
    assert reap_dead(root) == 2
    states = {r.id: r.status.state for r in list_runs(root)}
    assert states[beating.id] == states[starting.id] == "running"
    assert states[silent.id] == states[here.id] == "failed"
    # Cancelling it leaves the marker its worker reads at every step, and signals no process of this machine that
    # happens to have the remote worker's pid.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        update_status(beating.dir, pid=bystander.pid, listening=True)
        cancel(beating.id, root)
        time.sleep(0.5)
        assert bystander.poll() is None and (beating.dir / "cancel").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_cancel_a_queued_run_and_refuse_finished_ones(tmp_path, data):
    root = tmp_path / "runs"
    run = create_run(TrainConfig(data=str(data)), root)
    assert cancel(run.id, root).status.state == "cancelled"
    with pytest.raises(GraspError, match="already cancelled"):
        cancel(run.id, root)


def test_max_running_reads_the_environment(monkeypatch):
    monkeypatch.delenv("GRASP_MAX_JOBS", raising=False)
    monkeypatch.setenv("GRASP_MAX_RUNS", "3")
    assert max_running() == 3
    monkeypatch.setenv("GRASP_MAX_RUNS", "zero")
    with pytest.raises(GraspError, match="GRASP_MAX_RUNS"):
        max_running()
    monkeypatch.delenv("GRASP_MAX_RUNS")
    monkeypatch.setenv("GRASP_MAX_JOBS", "2")  # the name of earlier releases
    with pytest.warns(UserWarning, match=r"\$GRASP_MAX_JOBS is now \$GRASP_MAX_RUNS"):
        assert max_running() == 2


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
