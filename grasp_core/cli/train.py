"""Training verbs over the run registry: train (foreground or background), runs, cancel, logs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Any

from ..errors import GraspError
from ..identification.factorsets import saved_set_size
from ..runs.queue import cancel, reap, reap_dead, resume, submit
from ..runs.registry import ACTIVE, LOG_FILE, find_by_key, format_eta, get_run, read_registry, registry_lock
from ..runs.worker import run_foreground
from ..training.config import TrainConfig
from .common import command, print_json

# ---------------------------------------------------------------- train, runs, cancel, logs (run registry)


def _train_args(p: argparse.ArgumentParser) -> None:
    TrainConfig.add_arguments(p)
    p.add_argument("--background", action="store_true", help="queue the run as a detached process and print its id")
    p.add_argument("--resume", metavar="RUN", default=None, help="continue a cancelled/failed run from its checkpoint")
    p.add_argument("--skip-existing", action="store_true", help="print the finished run of the same config, if any")
    p.add_argument(
        "--allow-changed-data",
        action="store_true",
        help="with --resume: continue although the training file changed since the run started",
    )


def _run_line(run: Any) -> str:
    s = run.status
    where = f"adapter {s.adapter}" if s.state == "done" else f"step {s.step}/{s.total or '?'}"
    return f"run {run.id}: {s.state} ({where})" + (f": {s.error}" if s.error else "")


def _whole_saved_set(ns: argparse.Namespace) -> None:
    """A factor set saved by hand is trained on whole where neither --top nor --select says otherwise (the method's
    default `top` is for a file of every candidate, largest sigma first)."""
    if ns.factors is None or ns.top is not None or ns.select is not None:
        return
    n = saved_set_size(ns.factors)
    if n is not None:
        ns.top = n
        print(
            f"factor set {ns.factors}: all {n} factors (picked by hand; --top or --select takes fewer)", file=sys.stderr
        )


@command("train", "Fine-tune a LoRA (any method) in the foreground or as a background run.", _train_args)
def run_train(ns: argparse.Namespace) -> int:
    if ns.resume:
        given = [f.name for f in dataclasses.fields(TrainConfig) if getattr(ns, f.name, None) is not None]
        if given:
            flags = ", ".join("--" + n.replace("_", "-") for n in given)
            raise GraspError(f"--resume continues the run's saved config; drop {flags}")
        if ns.background:
            run = resume(ns.resume, allow_changed_data=ns.allow_changed_data)
            print(run.id)
            return 0
        run = run_foreground(ns.resume, allow_changed_data=ns.allow_changed_data)
    else:
        if ns.allow_changed_data:
            raise GraspError("--allow-changed-data goes with --resume RUN")
        _whole_saved_set(ns)
        config = TrainConfig.from_args(ns)
        if ns.skip_existing:
            found = find_by_key(config)
            if found is not None:
                print(f"run {found.id} already trained this config: {found.status.adapter}")
                return 0
        if ns.background:
            run = submit(config)
            print(run.id)
            return 0
        run = run_foreground(config)
    s = run.status
    if s.state == "done":
        print(s.adapter)
        return 0
    if s.state == "cancelled":
        print(f"{_run_line(run)}; continue with: grasp train --resume {run.id}", file=sys.stderr)
        return 130
    raise GraspError(_run_line(run) + f"; see grasp logs {run.id}")


def _runs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


@command("runs", "List the runs of the registry: id, method, state, progress, ETA, loss.", _runs_args)
def run_runs(ns: argparse.Namespace) -> int:
    try:
        reap_dead()  # a user looking at the queue: runs whose worker died are marked, their slots used again
    except (OSError, GraspError):
        pass  # a read-only workspace: list the runs as they are (a dead worker's run still reads `running`)
    runs, damaged = read_registry()
    if ns.json:
        print_json(
            [r.summary() for r in runs] + [{"id": d.name, "state": "damaged", "error": why} for d, why in damaged]
        )
        return 0
    if not runs and not damaged:
        print("no runs yet: start one with grasp train --data chats.jsonl [--background]")
        return 0
    print(f"{'id':<34} {'method':<8} {'state':<10} {'progress':>14} {'eta':>7} {'loss':>8}")
    for r in runs:
        s = r.status
        progress = f"{s.step}/{s.total} {100 * (s.progress or 0):3.0f}%" if s.total else "-"
        loss = f"{s.loss:.4f}" if s.loss is not None else "-"
        eta = format_eta(s.eta_s) if s.state == "running" else "-"
        print(f"{r.id:<34} {r.config.method:<8} {s.state:<10} {progress:>14} {eta:>7} {loss:>8}")
    for d, why in damaged:
        print(f"{d.name:<34} {'?':<8} {'damaged':<10} {why}")
    return 0


def _cancel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (see grasp runs)")
    p.add_argument("--wait", type=float, default=0.0, metavar="S", help="wait up to S seconds for it to stop")


@command("cancel", "Cancel a queued or running run (a running one checkpoints first, to resume).", _cancel_args)
def run_cancel(ns: argparse.Namespace) -> int:
    run = cancel(ns.run, wait_s=ns.wait)
    if run.status.state == "running":
        print(f"run {run.id}: cancel requested; it stops after its current step")
    else:
        print(_run_line(run))
    return 0


def _logs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (see grasp runs)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the run ends")


@command("logs", "Print a run's log (worker output, progress lines, errors).", _logs_args)
def run_logs(ns: argparse.Namespace) -> int:
    run = get_run(ns.run)
    path = run.dir / LOG_FILE
    pos = 0
    while True:
        if path.is_file():
            with path.open("rb") as f:
                f.seek(pos)
                chunk = f.read()
            pos += len(chunk)
            sys.stdout.write(chunk.decode("utf-8", errors="replace"))
            sys.stdout.flush()
        if not ns.follow:
            return 0
        try:
            with registry_lock(run.root):
                run = get_run(run.id, run.root)
                reap(run)
        except OSError:  # a read-only workspace: follow what the files say, mark nothing
            run = get_run(run.id, run.root)
        if run.status.state not in ACTIVE:
            if path.is_file() and path.stat().st_size > pos:
                continue  # print what the worker wrote last, then stop
            print(f"[{_run_line(run)}]")
            return 0
        time.sleep(0.5)
