"""The process that trains one registry run: status.json with progress, ETA and heartbeat, then done/failed/cancelled.

`python -m grasp_core.runs RUN_DIR` (runs/__main__.py) is what queue.py starts in the background; `grasp train`
without --background trains in its own process (`run_foreground`). SIGTERM (and Ctrl-C in the foreground) asks
training to stop: it checkpoints after the current step and the run ends cancelled, ready for `resume`.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..procs import this_host, try_lease
from ..training.config import TrainConfig
from ..training.loop import TrainHooks, check_inputs
from ..training.run import train
from .queue import claim, refresh
from .registry import (
    CANCEL_FILE,
    HEARTBEAT_S,
    LEASE_FILE,
    LOG_FILE,
    Run,
    RunStatus,
    create_run,
    format_eta,
    load_run,
    log_tail,
    read_status,
    registry_lock,
    write_status,
)

PRINT_EVERY_S = 5.0  # progress lines in log.txt at most this often (tqdm is off when output is a file)


class _Progress:
    """The worker's view of status.json: it is the only writer while the run is `running`, under a thread lock."""

    def __init__(self, run: Run, status: RunStatus) -> None:
        self.run = run
        self.status = status
        self.lock = threading.Lock()
        self.stop = threading.Event()  # training asked to stop (SIGTERM, Ctrl-C, cancel marker)
        self.ended = threading.Event()  # the heartbeat thread ends
        self._anchor: tuple[float, int] | None = None  # (time, step) of the first step of this process
        self._printed = 0.0

    def write(self, **changes: Any) -> None:
        with self.lock:
            self.status = dataclasses.replace(self.status, heartbeat=time.time(), **changes)
            write_status(self.run.dir, self.status)

    def beat(self) -> None:
        while not self.ended.wait(HEARTBEAT_S):
            self.write()

    def on_step(self, step: int, total: int, metrics: dict[str, Any]) -> None:
        now = time.time()
        if self._anchor is None:
            self._anchor = (now, step)
        t0, s0 = self._anchor
        # The rate from this process's own steps: resumed runs and model loading do not skew it.
        eta = (now - t0) / (step - s0) * (total - step) if step > s0 else None
        loss = metrics.get("loss")
        self.write(step=step, total=total, eta_s=eta, loss=float(loss) if loss is not None else None)
        if now - self._printed >= PRINT_EVERY_S or step == total:
            self._printed = now
            print(
                f"step {step}/{total}  loss {loss if loss is None else f'{loss:.4f}'}  eta {format_eta(eta)}",
                flush=True,
            )

    def should_stop(self) -> bool:
        return self.stop.is_set() or (self.run.dir / CANCEL_FILE).exists()


def _install_signals(progress: _Progress, foreground: bool) -> dict[int, Any]:
    """SIGTERM (and SIGINT in the foreground) set the stop flag; a second Ctrl-C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        return {}  # signal handlers can only be set from the main thread; cancel then goes by the marker file

    def ask_stop(signum: int, _frame: Any) -> None:
        if signum == signal.SIGINT and progress.stop.is_set():
            raise KeyboardInterrupt
        progress.stop.set()
        print(f"worker: got signal {signum}, stopping after this step (checkpoint, then cancelled)", flush=True)

    signums = [signal.SIGTERM] + ([signal.SIGINT] if foreground else [])
    return {s: signal.signal(s, ask_stop) for s in signums}


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def execute(run_dir: str | Path, foreground: bool = False) -> Run:
    """Train the run in this process, keeping status.json current; return the run in its final state.

    The worker first takes the run's lease (an fcntl lock on worker.lease, held until it ends): a second worker for
    the same run finds it held and exits without writing anything, and the queue counts a worker alive while it
    holds it, however long it is suspended. Exceptions from training end the run `failed` (message and last log
    lines in status.json), not raised.
    """
    run_dir = Path(run_dir).resolve()
    lease = try_lease(run_dir / LEASE_FILE)
    if lease is None:
        print(
            f"worker {os.getpid()}: run {run_dir.name} already has a live worker (its lease is held); "
            "this one exits without writing",
            file=sys.stderr,
            flush=True,
        )
        return load_run(run_dir)
    try:
        return _execute(run_dir, foreground)
    finally:
        os.close(lease)


def _execute(run_dir: Path, foreground: bool) -> Run:
    run = load_run(run_dir)
    progress = _Progress(run, run.status)
    # Handlers first, then `listening` under the lock: a cancel either sees listening and signals, or left the marker.
    previous = _install_signals(progress, foreground)
    with registry_lock(run_dir.parent):  # waits until queue.refresh (or queue.claim) has recorded our pid
        status = read_status(run_dir)
        if status.state == "done" or (run_dir / CANCEL_FILE).exists():
            if status.state != "done":  # cancelled before it started: nothing to checkpoint
                status = dataclasses.replace(status, state="cancelled", finished=time.time(), pid=None)
                write_status(run_dir, status)
            run.status = status
            _restore_signals(previous)
            return run
        status = dataclasses.replace(
            status,
            state="running",
            pid=os.getpid(),
            host=this_host(),
            heartbeat=time.time(),
            started=status.started or time.time(),
            error=None,
            log_tail=[],
            finished=None,
            listening=bool(previous),
        )
        write_status(run_dir, status)
    progress.status = status
    beat = threading.Thread(target=progress.beat, name="grasp-heartbeat", daemon=True)
    beat.start()
    print(f"worker: run {run.id} pid {os.getpid()} method {run.config.method} resume {status.resume}", flush=True)
    final: dict[str, Any]
    try:
        hooks = TrainHooks(on_step=progress.on_step, should_stop=progress.should_stop)
        result = train(run.config, run_dir, hooks, resume=status.resume)
        final = {"state": result.status, "step": result.steps, "total": result.total_steps}
        if result.final_loss is not None:
            final["loss"] = result.final_loss
        if result.adapter is not None:
            final["adapter"] = str(result.adapter)
        # After a cancel the next start continues from checkpoint/; after done there is nothing to continue.
        final["resume"] = result.status == "cancelled"
        print(f"worker: run {run.id} {result.status} after {result.steps}/{result.total_steps} steps", flush=True)
    except BaseException as e:
        if isinstance(e, GraspError):
            message = str(e)
        elif isinstance(e, KeyboardInterrupt):
            message = "interrupted"
        else:
            message = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        print(f"worker: run {run.id} failed: {message}", file=sys.stderr, flush=True)
        sys.stderr.flush()
        final = {"state": "failed", "error": message, "log_tail": log_tail(run_dir), "resume": True}
        if not isinstance(e, Exception):
            progress.ended.set()
            progress.write(finished=time.time(), eta_s=None, **final)
            raise
    finally:
        progress.ended.set()
        beat.join(timeout=HEARTBEAT_S + 1)
        _restore_signals(previous)
    progress.write(finished=time.time(), eta_s=None, listening=False, **final)
    run.status = progress.status
    return run


def run_foreground(
    config_or_run: TrainConfig | str, root: str | Path | None = None, allow_changed_data: bool = False
) -> Run:
    """Train a new config (or resume a run id) in this process, recorded in the registry like any run.

    Ctrl-C stops after the current step with a checkpoint (state cancelled); `resume` continues it later.
    """
    if isinstance(config_or_run, TrainConfig):
        check_inputs(config_or_run)  # a bad data or factors file is named before a run folder exists
        now = time.time()
        # No heartbeat until execute holds the lease: a reaper in between sees a worker still starting.
        run = create_run(
            config_or_run, root, state="running", pid=os.getpid(), host=this_host(), heartbeat=None, started=now
        )
    else:
        run = claim(config_or_run, root, allow_changed_data)
    with open(run.dir / LOG_FILE, "a", encoding="utf-8") as log:
        log.write(f"foreground run in process {os.getpid()}: its output went to that terminal\n")
    try:
        return execute(run.dir, foreground=True)
    finally:
        refresh(run.root)  # its slot is free again
