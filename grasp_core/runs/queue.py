"""The queue of background runs: each run is its own detached OS process (runs/__main__.py), started from a queue with a
concurrency limit.

Whoever changes the queue (submit, resume, cancel, a worker finishing) calls `refresh`, which marks runs whose
worker died, then starts queued runs oldest first while fewer than the limit are running; a user looking at the
queue calls `reap_dead`, which starts runs only in slots a dead worker freed. The registry lock
(fcntl) makes two callers never start the same run. Cancel asks a running worker to stop with SIGTERM: its
should_stop hook turns True, it checkpoints and marks itself cancelled.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import warnings
from pathlib import Path

from ..errors import GraspError
from ..procs import spawn_detached, this_host
from ..training.config import TrainConfig
from ..training.loop import check_inputs
from .registry import (
    ACTIVE,
    CANCEL_FILE,
    LOG_FILE,
    Run,
    config_key,
    create_run,
    get_run,
    list_runs,
    load_run,
    log_tail,
    registry_lock,
    runs_root,
    update_status,
)

MAX_RUNNING_ENV = "GRASP_MAX_RUNS"
OLD_MAX_RUNNING_ENV = "GRASP_MAX_JOBS"  # its name in earlier releases, read with a warning
WORKER_MODULE = "grasp_core.runs"  # `python -m grasp_core.runs RUN_DIR`: the background worker (runs/__main__.py)


def max_running() -> int:
    """How many runs may train at once: $GRASP_MAX_RUNS, default 1 (two CPU trainings only slow each other)."""
    name = MAX_RUNNING_ENV
    if name not in os.environ and OLD_MAX_RUNNING_ENV in os.environ:
        name = OLD_MAX_RUNNING_ENV
        warnings.warn(f"${OLD_MAX_RUNNING_ENV} is now ${MAX_RUNNING_ENV}; the old name is read for now", stacklevel=2)
    raw = os.environ.get(name, "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise GraspError(f"environment variable {name} must be a whole number >= 1, got {raw!r}")
    return n


def reap(run: Run, now: float | None = None) -> bool:
    """Mark a `running` run whose worker is gone (or heartbeat stale) failed, with its last log lines.

    A run whose cancel was asked for is marked cancelled instead. Returns True when the status changed.
    Call it under registry_lock so two callers never both rewrite the same status.
    """
    why = run.worker_gone(now)
    if why is None:
        return False
    now = time.time() if now is None else now
    if (run.dir / CANCEL_FILE).exists():
        state, error = "cancelled", None
    else:
        state, error = "failed", f"worker process {run.status.pid} {why} without finishing (killed or crashed)"
    run.status = update_status(run.dir, state=state, error=error, finished=now, eta_s=None, log_tail=log_tail(run.dir))
    return True


def reap_dead(root: str | Path | None = None) -> int:
    """Mark every `running` run whose worker is gone failed (or cancelled), then give the slots they freed to queued
    runs (refresh); return how many were marked. What a user looking at the queue, or a sweep about to train,
    calls: it starts nothing unless a dead worker freed a slot."""
    with registry_lock(root) as base:
        marked = sum(reap(run) for run in list_runs(base))
    if marked:
        refresh(base)
    return marked


def _spawn(run: Run) -> int:
    """Start the worker of `run` as its own session (it outlives this process), output appended to log.txt."""
    return spawn_detached([sys.executable, "-m", WORKER_MODULE, str(run.dir)], run.dir / LOG_FILE, cwd=run.dir)


def refresh(root: str | Path | None = None, limit: int | None = None) -> list[str]:
    """Mark runs whose worker died failed (or cancelled), then start queued runs (oldest first) while fewer than
    `limit` (default max_running()) run; return the ids started. Called where work should start: after a submit,
    resume or cancel, when a worker ends, and by reap_dead when a dead worker freed a slot; never by a read."""
    limit = max_running() if limit is None else limit
    started: list[str] = []
    with registry_lock(root) as base:
        runs = list_runs(base)
        for run in runs:
            reap(run)  # updates run.status in place when it marks the run
        running = sum(r.status.state == "running" for r in runs)
        for run in sorted((r for r in runs if r.status.state == "queued"), key=lambda r: (r.status.created, r.id)):
            if running >= limit:
                break
            pid = _spawn(run)
            # Written while we hold the lock; the worker takes the same lock before its first status write.
            # heartbeat None until the worker's first own write: a slow start-up is not taken for a hung worker.
            update_status(
                run.dir,
                state="running",
                pid=pid,
                host=this_host(),
                listening=False,
                heartbeat=None,
                started=time.time(),
            )
            running += 1
            started.append(run.id)
    return started


def submit(config: TrainConfig, root: str | Path | None = None) -> Run:
    """Queue a new run for `config` and refresh the queue; return it (running if a slot was free, else queued).
    The queue's settings and the training data are checked first, so a bad one leaves no run behind."""
    max_running()
    check_inputs(config)
    run = create_run(config, root)
    refresh(root)
    return load_run(run.dir)


def cancel(run_id: str, root: str | Path | None = None, wait_s: float = 0.0) -> Run:
    """Cancel a run: a queued one at once; a running one by SIGTERM (it checkpoints, then marks itself cancelled),
    or, on another host, by the cancel marker its worker reads at every step.

    With wait_s > 0, wait up to that long for the running worker to finish stopping.
    """
    with registry_lock(root) as base:
        run = get_run(run_id, base)
        reap(run)
        state = run.status.state
        if state not in ACTIVE:
            raise GraspError(f"run {run.id} is already {state}; only queued or running runs can be cancelled")
        (run.dir / CANCEL_FILE).touch()
        if state == "queued":
            run.status = update_status(run.dir, state="cancelled", finished=time.time())
        elif run.status.pid and run.status.listening and run.status.host in (None, this_host()):
            # (else the worker finds the marker at its next step, or when it starts: a pid on another host is not
            # a process here)
            try:
                os.kill(run.status.pid, signal.SIGTERM)
            except ProcessLookupError:
                reap(run)
    if wait_s > 0 and run.status.state == "running":
        return wait(run.id, root, timeout_s=wait_s)
    return load_run(run.dir)


def _same_data(run: Run, allow_changed_data: bool) -> str:
    """The run's key for its data as the file is now; refuses a training file that changed since the run started
    (its key was made from the file's content) unless `allow_changed_data`, which moves the run to the new data."""
    key = config_key(run.config)
    if key != run.status.key and run.status.key and not allow_changed_data:
        raise GraspError(
            f"run {run.id}: its training data {run.config.data} changed since the run started; resuming "
            "would continue on other data than its first steps. Start a new run, or resume with "
            "--allow-changed-data to continue on the file as it is now"
        )
    return key


def resume(run_id: str, root: str | Path | None = None, allow_changed_data: bool = False) -> Run:
    """Queue a cancelled or failed run again; it continues from its last checkpoint (or from the start without one).
    A run whose training file changed since it started is refused unless `allow_changed_data`."""
    with registry_lock(root) as base:
        run = get_run(run_id, base)
        reap(run)
        if run.status.state not in ("cancelled", "failed"):
            raise GraspError(f"run {run.id} is {run.status.state}; only cancelled or failed runs can be resumed")
        key = _same_data(run, allow_changed_data)
        (run.dir / CANCEL_FILE).unlink(missing_ok=True)
        update_status(
            run.dir,
            state="queued",
            resume=True,
            created=time.time(),
            pid=None,
            error=None,
            log_tail=[],
            finished=None,
            eta_s=None,
            key=key,
        )
    refresh(root)
    return load_run(run.dir)


def claim(run_id: str, root: str | Path | None = None, allow_changed_data: bool = False) -> Run:
    """Take a queued, cancelled or failed run for training in this process (foreground), so no refresh starts it.
    A run whose training file changed since it started is refused unless `allow_changed_data`."""
    with registry_lock(root) as base:
        run = get_run(run_id, base)
        reap(run)
        state = run.status.state
        if state not in ("queued", "cancelled", "failed"):
            raise GraspError(f"run {run.id} is {state}; only a queued, cancelled or failed run can be started again")
        key = _same_data(run, allow_changed_data)
        (run.dir / CANCEL_FILE).unlink(missing_ok=True)
        now = time.time()
        run.status = update_status(
            run.dir,
            state="running",
            pid=os.getpid(),
            host=this_host(),
            listening=False,
            heartbeat=None,
            started=now,
            resume=state != "queued",
            key=key,
            error=None,
            log_tail=[],
            finished=None,
            eta_s=None,
        )
    return run


def wait(run_id: str, root: str | Path | None = None, timeout_s: float = 3600.0, poll_s: float = 0.2) -> Run:
    """Block until the run is done, failed or cancelled (noticing a dead worker); GraspError after timeout_s."""
    deadline = time.monotonic() + timeout_s
    base = runs_root(root)
    while True:
        with registry_lock(base):
            run = get_run(run_id, base)
            freed = reap(run)
        if freed:
            refresh(base)  # the slot the dead worker held is free again
        if run.status.state not in ACTIVE:
            return run
        if time.monotonic() > deadline:
            raise GraspError(f"run {run_id} still {run.status.state} after {timeout_s:.0f} s")
        time.sleep(poll_s)
