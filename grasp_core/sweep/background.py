"""Sweeps in the background and on disk: start one as a detached `grasp sweep` process, stop it, and list the sweep
folders with their progress (the dashboard's view). The process trains its cells one after another as foreground
runs of the registry (so they show in the run list) and evaluates them."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import GraspError
from ..evaluation.organisms import load_organism
from ..io import read_json, tail_lines, write_text
from ..procs import file_lock, live_pid, pid_alive, start_detached
from .config import SweepConfig, absolute_sweep
from .folders import sweep_dir, sweeps_root
from .provenance import bundled_results

SWEEP_YAML, SWEEP_LOG, SWEEP_PID = "sweep.yaml", "sweep.log", "sweep.pid"  # a background sweep's files
START_MARK = "=== grasp sweep started"  # the line submit_sweep writes to sweep.log before each start
_CELL = re.compile(r"^\[(\d+)/(\d+)\] ")  # run_sweep's progress line "[i/N] <label> seed=<s> ..."


def submit_sweep(config: SweepConfig, root: str | Path | None = None) -> Path:
    """Start `grasp sweep` on `config` as a detached process (it outlives this one) and return the sweep folder,
    which gets sweep.yaml (what it runs), sweep.log (its output) and sweep.pid; refused while that sweep runs."""
    load_organism(config.organism)  # a bad organism is named here, not only in the log
    config = absolute_sweep(config)
    folder = sweep_dir(config, root)
    # Named after its folder, so the process finds the same folder whatever the YAML round trip does to the hash.
    config = SweepConfig.from_dict({**config.to_dict(), "name": folder.name}, where=config.where)
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / ".lock"):  # two submits of one sweep never both start it
        pid = live_sweep_pid(folder)
        if pid is not None:
            raise GraspError(
                f"sweep {folder.name} is already running (process {pid}, log {folder / SWEEP_LOG}); "
                "wait for it to end, or stop it first"
            )
        plain = json.loads(json.dumps(config.to_dict()))  # tuples as lists: safe_dump writes only plain types
        write_text(folder / SWEEP_YAML, yaml.safe_dump(plain, sort_keys=False))
        cmd = [sys.executable, "-m", "grasp_core", "sweep", str(folder / SWEEP_YAML), "--out", str(folder.parent)]
        with open(folder / SWEEP_LOG, "ab") as log:
            log.write(f"{START_MARK} {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(cmd)}\n".encode())
        start_detached(cmd, folder / SWEEP_LOG, folder / SWEEP_PID)
    return folder


def resume_sweep(folder: str | Path) -> Path:
    """Start a stopped sweep folder again in the background: the config it ran, in the same root, so its finished
    runs and evaluations are reused."""
    folder = Path(folder)
    return submit_sweep(sweep_config_of(folder), root=folder.parent)


def stop_sweep(folder: str | Path, wait_s: float = 0.0) -> None:
    """Stop a background sweep with SIGTERM: a run it is training checkpoints and ends cancelled; submitting the
    sweep again resumes it (finished runs and evaluations are reused). With wait_s > 0, wait for it to exit."""
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


@dataclass
class SweepInfo:
    """A sweep folder as the dashboard lists it: what it runs, how far it got, and its background process."""

    name: str
    folder: Path
    organism: str | None  # the organism's name (its folder's name), None when no config was found
    done: int | None  # cells finished; None when unknown
    total: int | None  # cells of its config (seeds included); None when its config cannot be read
    pid: int | None  # its live background process, None when none runs
    log: list[str]  # the last lines of sweep.log ([] for a sweep run from a terminal)

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def state(self) -> str:
        """running | done (every cell evaluated, results.csv written) | stopped (a background sweep that ended
        early: see the log) | incomplete (run from a terminal, which may still be at it: this process cannot tell)."""
        if self.running:
            return "running"
        if self.total is not None and self.done == self.total:
            return "done"
        return "stopped" if (self.folder / SWEEP_PID).is_file() else "incomplete"


def results_tables(root: str | Path | None = None) -> dict[str, Path]:
    """Every results*.csv under the sweeps root (default GRASP_HOME/sweeps), by its path below that root."""
    base = sweeps_root(root)
    if not base.is_dir():
        return {}
    return {str(p.relative_to(base)): p for p in sorted(base.glob("**/results*.csv"))}


def results_catalog(extra: str | Path | None = None) -> tuple[dict[str, Path], dict[str, str]]:
    """The results tables to choose from, by name: `extra` (a CSV path, when it exists), the bundled results
    (committed with the package, named `<organism>/<sweep> (bundled)`), then every results*.csv under the sweeps
    root; and, by name, why a bundled one is stale."""
    bundled = bundled_results()
    tables = {
        **({str(extra): Path(extra)} if extra and Path(extra).is_file() else {}),
        **{b.name: b.folder / "results.csv" for b in bundled},
        **results_tables(),
    }
    return tables, {b.name: b.stale for b in bundled if b.stale}


def live_sweep_pid(folder: Path) -> int | None:
    """The pid in folder/sweep.pid while that process lives and runs this folder's sweep.yaml (not a reused pid)."""
    return live_pid(folder / SWEEP_PID, str(folder / SWEEP_YAML))


def sweep_config_of(folder: str | Path) -> SweepConfig:
    """The config a sweep folder ran: its sweep.yaml (a background sweep), else the sweep.json `grasp sweep` wrote,
    named after the folder so running it again resumes this sweep."""
    folder = Path(folder)
    if (folder / SWEEP_YAML).is_file():
        cfg = SweepConfig.from_yaml(folder / SWEEP_YAML)
    else:
        cfg = SweepConfig.from_dict(read_json(folder / "sweep.json", what="sweep config"), where=str(folder))
    return SweepConfig.from_dict({**cfg.to_dict(), "name": folder.name}, where=cfg.where)


def list_sweeps(root: str | Path | None = None) -> list[SweepInfo]:
    """Every sweep folder under the sweeps root (default GRASP_HOME/sweeps), most recently changed first."""
    base = sweeps_root(root)
    if not base.is_dir():
        return []
    folders = [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")]
    return [_sweep_info(d) for d in sorted(folders, key=lambda d: d.stat().st_mtime, reverse=True)]


def _sweep_info(folder: Path) -> SweepInfo:
    data: Any = None
    if (folder / SWEEP_YAML).is_file():  # what the background process was asked to run
        try:
            data = yaml.safe_load((folder / SWEEP_YAML).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            data = None
    if not isinstance(data, dict) and (folder / "sweep.json").is_file():  # what `grasp sweep` last ran here
        try:
            data = read_json(folder / "sweep.json")
        except GraspError:
            data = None
    organism, total = None, None
    if isinstance(data, dict):
        organism = Path(str(data.get("organism", ""))).name or None
        try:
            total = len(SweepConfig.from_dict(data, where=str(folder)).cells())
        except (GraspError, TypeError, ValueError):
            total = None  # e.g. a factors file it names was deleted since
    pid = live_sweep_pid(folder)
    lines = tail_lines(folder / SWEEP_LOG, 4000)
    at = None  # the cell the latest start last began, from its "[i/N]" lines
    for line in lines:
        if line.startswith(START_MARK):
            at = None
        elif m := _CELL.match(line):
            at = int(m.group(1))
    done = at - 1 if at is not None else (0 if pid is not None else None)
    results = folder / "results.csv"
    pid_file = folder / SWEEP_PID
    fresh = results.is_file() and (not pid_file.is_file() or results.stat().st_mtime >= pid_file.stat().st_mtime)
    if pid is None and fresh:  # written when a sweep ends: one row per cell plus the base row
        try:
            done = max(0, len(pd.read_csv(results)) - 1)
        except (OSError, ValueError):
            pass  # unreadable: keep what the log says
    return SweepInfo(folder.name, folder, organism, done, total, pid, lines[-40:])
