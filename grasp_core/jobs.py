"""Background jobs: each run is its own detached OS process, started from a queue with a concurrency limit.

Whoever changes the queue (submit, resume, a worker finishing, a listing that finds a dead worker) calls
`dispatch`, which starts queued runs oldest first while fewer than the limit are running. The registry lock
(fcntl) makes two dispatchers never start the same run. Cancel asks a running worker to stop with SIGTERM: its
should_stop hook turns True, it checkpoints and marks itself cancelled.

A whole sweep can run in the background too (`submit_sweep`): one detached `grasp sweep` process, which trains
its cells one after another as foreground runs of the registry (so they show in the run list) and evaluates them.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import GraspError
from .io import write_text
from .runs import (
    ACTIVE,
    CANCEL_FILE,
    LOG_FILE,
    Run,
    create_run,
    get_run,
    iter_run_dirs,
    load_run,
    reap_stale,
    registry_lock,
    runs_root,
    update_status,
)
from .trainconfig import TrainConfig

if TYPE_CHECKING:
    from .sweepconfig import SweepConfig

MAX_JOBS_ENV = "GRASP_MAX_JOBS"


def max_jobs() -> int:
    """How many runs may train at once: $GRASP_MAX_JOBS, default 1 (two CPU trainings only slow each other)."""
    raw = os.environ.get(MAX_JOBS_ENV, "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise GraspError(f"environment variable {MAX_JOBS_ENV} must be a whole number >= 1, got {raw!r}")
    return n


def _spawn(run: Run) -> int:
    """Start the worker of `run` as its own session (it outlives this process), output appended to log.txt."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(run.dir / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "grasp_core.worker", str(run.dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=run.dir,
            env=env,
            start_new_session=True,
        )
    return proc.pid


def dispatch(root: str | Path | None = None, limit: int | None = None) -> list[str]:
    """Start queued runs (oldest first) while fewer than `limit` (default max_jobs()) run; return the started ids."""
    limit = max_jobs() if limit is None else limit
    started: list[str] = []
    with registry_lock(root) as base:
        runs = []
        for d in iter_run_dirs(base):
            try:
                run = load_run(d)
            except GraspError:
                continue
            reap_stale(run)
            runs.append(run)
        running = sum(r.status.state == "running" for r in runs)
        for run in sorted((r for r in runs if r.status.state == "queued"), key=lambda r: (r.status.created, r.id)):
            if running >= limit:
                break
            pid = _spawn(run)
            # Written while we hold the lock; the worker takes the same lock before its first status write.
            # heartbeat None until the worker's first own write: a slow start-up is not taken for a hung worker.
            update_status(run.dir, state="running", pid=pid, listening=False, heartbeat=None, started=time.time())
            running += 1
            started.append(run.id)
    return started


def submit(config: TrainConfig, root: str | Path | None = None) -> Run:
    """Queue a new run for `config` and dispatch; return it (running if a slot was free, else queued)."""
    run = create_run(config, root)
    dispatch(root)
    return load_run(run.dir)


def cancel(run_id: str, root: str | Path | None = None, wait_s: float = 0.0) -> Run:
    """Cancel a run: a queued one at once; a running one by SIGTERM (it checkpoints, then marks itself cancelled).

    With wait_s > 0, wait up to that long for the running worker to finish stopping.
    """
    with registry_lock(root) as base:
        run = get_run(run_id, base)
        reap_stale(run)
        state = run.status.state
        if state not in ACTIVE:
            raise GraspError(f"run {run.id} is already {state}; only queued or running runs can be cancelled")
        (run.dir / CANCEL_FILE).touch()
        if state == "queued":
            run.status = update_status(run.dir, state="cancelled", finished=time.time())
        elif run.status.pid and run.status.listening:  # else the worker finds the marker when it starts
            try:
                os.kill(run.status.pid, signal.SIGTERM)
            except ProcessLookupError:
                reap_stale(run)
    if wait_s > 0 and run.status.state == "running":
        return wait(run.id, root, timeout_s=wait_s)
    return load_run(run.dir)


def resume(run_id: str, root: str | Path | None = None) -> Run:
    """Queue a cancelled or failed run again; it continues from its last checkpoint (or from the start without one)."""
    with registry_lock(root) as base:
        run = get_run(run_id, base)
        reap_stale(run)
        if run.status.state not in ("cancelled", "failed"):
            raise GraspError(f"run {run.id} is {run.status.state}; only cancelled or failed runs can be resumed")
        (run.dir / CANCEL_FILE).unlink(missing_ok=True)
        update_status(
            run.dir, state="queued", resume=True, created=time.time(), pid=None, error=None, log_tail=[],
            finished=None, eta_s=None,
        )  # fmt: skip
    dispatch(root)
    return load_run(run.dir)


def claim(run_id: str, root: str | Path | None = None) -> Run:
    """Take a queued, cancelled or failed run for training in this process (foreground), so no dispatcher starts it."""
    with registry_lock(root) as base:
        run = get_run(run_id, base)
        reap_stale(run)
        state = run.status.state
        if state not in ("queued", "cancelled", "failed"):
            raise GraspError(f"run {run.id} is {state}; only a queued, cancelled or failed run can be started again")
        (run.dir / CANCEL_FILE).unlink(missing_ok=True)
        now = time.time()
        run.status = update_status(
            run.dir, state="running", pid=os.getpid(), listening=False, heartbeat=now, started=now,
            resume=state != "queued",
            error=None, log_tail=[], finished=None, eta_s=None,
        )  # fmt: skip
    return run


def run_foreground(config_or_run: TrainConfig | str, root: str | Path | None = None) -> Run:
    """Train a new config (or resume a run id) in this process, recorded in the registry like any run.

    Ctrl-C stops after the current step with a checkpoint (state cancelled); `resume` continues it later.
    """
    from .worker import execute

    if isinstance(config_or_run, TrainConfig):
        now = time.time()
        run = create_run(config_or_run, root, state="running", pid=os.getpid(), heartbeat=now, started=now)
    else:
        run = claim(config_or_run, root)
    with open(run.dir / LOG_FILE, "a", encoding="utf-8") as log:
        log.write(f"foreground run in process {os.getpid()}: its output went to that terminal\n")
    try:
        return execute(run.dir, foreground=True)
    finally:
        dispatch(run.root)  # its slot is free again


def wait(run_id: str, root: str | Path | None = None, timeout_s: float = 3600.0, poll_s: float = 0.2) -> Run:
    """Block until the run is done, failed or cancelled (noticing a dead worker); GraspError after timeout_s."""
    deadline = time.monotonic() + timeout_s
    base = runs_root(root)
    while True:
        with registry_lock(base):
            run = get_run(run_id, base)
            freed = reap_stale(run)
        if freed:
            dispatch(base)  # the slot the dead worker held is free again
        if run.status.state not in ACTIVE:
            return run
        if time.monotonic() > deadline:
            raise GraspError(f"run {run_id} still {run.status.state} after {timeout_s:.0f} s")
        time.sleep(poll_s)


# ---------------------------------------------------------------- background sweeps


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive fcntl lock on folder/.lock: two submits of one sweep never both start it."""
    with open(folder / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def submit_sweep(config: SweepConfig, root: str | Path | None = None) -> Path:
    """Start `grasp sweep` on `config` as a detached process (it outlives this one) and return the sweep folder,
    which gets sweep.yaml (what it runs), sweep.log (its output) and sweep.pid; refused while that sweep runs."""
    import yaml

    from .organisms import load_organism
    from .sweep import START_MARK, SWEEP_LOG, SWEEP_PID, SWEEP_YAML, live_sweep_pid, sweep_dir
    from .sweepconfig import SweepConfig, absolute_sweep

    load_organism(config.organism)  # a bad organism is named here, not only in the log
    config = absolute_sweep(config)
    folder = sweep_dir(config, root)
    # Named after its folder, so the process finds the same folder whatever the YAML round trip does to the hash.
    config = SweepConfig.from_dict({**config.to_dict(), "name": folder.name}, where=config.where)
    folder.mkdir(parents=True, exist_ok=True)
    with _folder_lock(folder):
        pid = live_sweep_pid(folder)
        if pid is not None:
            raise GraspError(f"sweep {folder.name} is already running (process {pid}, log {folder / SWEEP_LOG}); "
                             "wait for it to end, or stop it first")  # fmt: skip
        plain = json.loads(json.dumps(config.to_dict()))  # tuples as lists: safe_dump writes only plain types
        write_text(folder / SWEEP_YAML, yaml.safe_dump(plain, sort_keys=False))
        cmd = [sys.executable, "-m", "grasp_core", "sweep", str(folder / SWEEP_YAML), "--out", str(folder.parent)]
        with open(folder / SWEEP_LOG, "ab") as log:
            log.write(f"{START_MARK} {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(cmd)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
            )  # fmt: skip
        write_text(folder / SWEEP_PID, f"{proc.pid}\n")
    return folder


def stop_sweep(folder: str | Path, wait_s: float = 0.0) -> None:
    """Stop a background sweep with SIGTERM: a run it is training checkpoints and ends cancelled; submitting the
    sweep again resumes it (finished runs and evaluations are reused). With wait_s > 0, wait for it to exit."""
    from .runs import pid_alive
    from .sweep import live_sweep_pid

    folder = Path(folder)
    pid = live_sweep_pid(folder)
    if pid is None:
        raise GraspError(f"sweep {folder.name} is not running (no live process in {folder})")
    try:
        os.killpg(pid, signal.SIGTERM)  # its own session: the group is the sweep and anything it started
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait_s
    while wait_s > 0 and pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
