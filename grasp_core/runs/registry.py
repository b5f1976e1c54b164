"""The run registry: one folder per fine-tuning run under $GRASP_HOME/runs, with its config, status and outputs.

A run folder holds config.json (the TrainConfig), status.json (state, progress, heartbeat, pid, error),
metrics.jsonl and checkpoint/ and adapter/ (written by grasp_core.training), and log.txt (the worker's output).
This module only reads and writes folders: what starts, stops or marks runs is in queue.py (queries never act).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, GraspError, check_field_types
from ..evaluation.organisms import load_organism
from ..io import file_hash, grasp_home, inside, read_json, read_jsonl, tail_lines, text_hash, write_json
from ..model.adapters import ADAPTER_CONFIG
from ..procs import file_lock, lease_held, pid_alive, this_host
from ..training.config import TrainConfig
from ..training.methods import OLD_METHOD_NAMES

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "log.txt"
CANCEL_FILE = "cancel"  # marker: a cancel was asked for (read by the worker, survives a signal lost at start-up)
LEASE_FILE = "worker.lease"  # fcntl-locked by the live worker for its whole life: one worker per run
LOCK_FILE = ".lock"

STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
HEARTBEAT_S = 2.0  # the worker's heartbeat period
STALE_S = 120.0  # a running run whose heartbeat is older than this is taken for dead (covers a reused pid)
LOG_TAIL = 20  # log lines kept in status.json when a run fails

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def format_eta(seconds: float | None) -> str:
    """A time left as the CLI, the worker's log and the dashboard all print it: 45s, 3m05s, 1h02m; - when unknown."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


@dataclass
class RunStatus:
    """What status.json holds: the state machine queued -> running -> done | failed | cancelled, and progress."""

    state: str = "queued"
    step: int = 0
    total: int | None = None
    eta_s: float | None = None
    loss: float | None = None
    heartbeat: float | None = None  # unix time of the worker's last sign of life
    pid: int | None = None
    host: str | None = None  # the machine `pid` runs on (nodes sharing GRASP_HOME: a pid means nothing elsewhere)
    listening: bool = False  # the worker has its SIGTERM handler in place (before that, cancel relies on the marker)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    resume: bool = False  # the next start continues from checkpoint/
    error: str | None = None
    log_tail: list[str] = field(default_factory=list)
    adapter: str | None = None
    key: str = ""  # config_key of the run's config, for find_by_key

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ConfigError(f"`state` must be one of {', '.join(STATES)}, got {self.state!r}")
        check_field_types(self)  # status.json is read back from disk: a wrong type is named here

    @property
    def progress(self) -> float | None:
        """Share of steps done, in [0, 1], or None before the total is known."""
        return min(1.0, self.step / self.total) if self.total else None

    def worker_gone(self, now: float | None = None, lease: Path | None = None) -> str | None:
        """Why a `running` run's worker is dead, else None. Reading only: queue.refresh() is what marks such a run
        failed. A worker whose pid is gone is dead. With the run's `lease` file, a live pid holding it is alive
        however long it has been silent (a suspended laptop, a SIGSTOP), and a live pid without it, after the
        worker's first heartbeat, is another process (a reused pid). Without it, a heartbeat older than STALE_S
        counts as dead. A worker on another host (a cluster job sharing GRASP_HOME) is judged by its heartbeat
        alone: dead once it is older than STALE_S."""
        if self.state != "running":
            return None
        now = time.time() if now is None else now
        if self.host is not None and self.host != this_host():  # its pid and lease cannot be read from here
            last = self.heartbeat if self.heartbeat is not None else self.started
            if last is not None and now - last > STALE_S:
                return f"on {self.host}, sent no heartbeat for {now - last:.0f} s"
            return None
        if not pid_alive(self.pid):
            return "exited"  # (a process it forked may hold the lease a moment longer: the pid decides)
        if lease is not None and lease_held(lease):
            return None
        if lease is not None and self.heartbeat is not None:
            return "holds no lease on the run (its pid is now another process's)"
        if lease is None and self.heartbeat is not None and now - self.heartbeat > STALE_S:
            return f"sent no heartbeat for {now - self.heartbeat:.0f} s"
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunStatus:
        """Build from status.json, ignoring keys written by newer versions."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Run:
    """One run folder: its id, config, content key and current status."""

    id: str
    dir: Path
    config: TrainConfig
    key: str
    status: RunStatus

    @property
    def root(self) -> Path:
        return self.dir.parent

    def finished_adapter(self) -> Path:
        """The PEFT folder this run trained (status.adapter, else its adapter/), refused in one line where the run is
        not done or the folder has no adapter_config.json."""
        if self.status.state != "done":
            raise GraspError(f"run {self.id} is {self.status.state}, it has no finished adapter yet")
        adapter = Path(self.status.adapter) if self.status.adapter else self.dir / "adapter"
        if not (adapter / ADAPTER_CONFIG).is_file():
            raise GraspError(f"run {self.id} is done but its adapter folder {adapter} is missing")
        return adapter

    def worker_gone(self, now: float | None = None) -> str | None:
        """Why this `running` run's worker is dead, by its lease on the run folder (RunStatus.worker_gone)."""
        return self.status.worker_gone(now, self.dir / LEASE_FILE)

    def summary(self) -> dict[str, Any]:
        """One row of `grasp runs --json`: id, method, state, progress, ETA, loss, adapter, error."""
        s = self.status
        return {
            "id": self.id,
            "method": self.config.method,
            "state": s.state,
            "step": s.step,
            "total": s.total,
            "progress": s.progress,
            "eta_s": s.eta_s,
            "loss": s.loss,
            "key": self.key,
            "created": s.created,
            "started": s.started,
            "finished": s.finished,
            "pid": s.pid,
            "adapter": s.adapter,
            "error": s.error,
            "dir": str(self.dir),
        }


def runs_root(root: str | Path | None = None) -> Path:
    """The registry folder: `root` when given, else $GRASP_HOME/runs."""
    path = Path(root) if root is not None else grasp_home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def absolute_config(config: TrainConfig) -> TrainConfig:
    """The config with data, factors and a folder base made absolute, so a worker started anywhere finds them."""
    changes: dict[str, Any] = {"data": str(Path(config.data).expanduser().resolve())}
    if config.factors:
        changes["factors"] = str(Path(config.factors).expanduser().resolve())
    if Path(config.base).expanduser().exists():
        changes["base"] = str(Path(config.base).expanduser().resolve())
    if config.round_probes and Path(config.round_probes).expanduser().exists():
        changes["round_probes"] = str(Path(config.round_probes).expanduser().resolve())
    return dataclasses.replace(config, **changes)


def config_key(config: TrainConfig, rounds: bool = True) -> str:
    """A hash of everything that decides a run's result: the config (less `device`) and the data file's content
    (without `rounds`, the same for runs that differ only in how many rounds they train)."""
    d = config.to_dict()
    d.pop("device", None)  # where it runs does not change what it learns
    if not rounds:
        d.pop("rounds", None)
    for name, unset in (
        ("system_prompt", None),
        ("mid_block", False),
        ("round_select", "sigma"),
        ("round_probes", None),
    ):
        if d.get(name) == unset:  # hashed as before the field existed, so older runs are still found
            d.pop(name, None)
    if config.round_probes is not None:  # a rebuilt probe ranks the rounds again: a new run
        try:
            d["round_probes"] = load_organism(config.round_probes).probes_fingerprint()
        except GraspError:  # gone since: the run is still listed, under its folder's name
            pass
    # Hashed under the method's spelling before `lora` became `naive`, so runs trained then are still found.
    d["method"] = {new: old for old, new in OLD_METHOD_NAMES.items()}.get(d["method"], d["method"])
    data = Path(config.data)
    d["data_hash"] = file_hash(data) if data.is_file() else None
    return text_hash(json.dumps(d, sort_keys=True, default=str))


def new_run_id(config: TrainConfig, key: str) -> str:
    """`YYYYmmdd-HHMMSS-<method>-<6 hex>`: sortable by time, readable, unique (the hash mixes in time and pid)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    salt = text_hash(key, str(time.time_ns()), str(os.getpid()), length=6)
    return f"{stamp}-{config.method}-{salt}"


def validate_run_id(run_id: str) -> str:
    """Refuse ids that are not plain folder names (no separators, no leading dot), before any path is built."""
    if not isinstance(run_id, str) or not _ID.match(run_id) or run_id in (".", ".."):
        raise GraspError(
            f"run id {run_id!r} is not valid: ids are letters, digits, '.', '_' and '-' (see `grasp runs`)"
        )
    return run_id


def read_status(run_dir: Path) -> RunStatus:
    """Read a run's status.json, naming the file when it is missing or malformed."""
    d = read_json(run_dir / STATUS_FILE, what=f"run status {STATUS_FILE}")
    try:
        return RunStatus.from_dict(d)
    except (TypeError, ValueError) as e:
        raise GraspError(f"run status {run_dir / STATUS_FILE}: {e}") from None


def write_status(run_dir: Path, status: RunStatus) -> None:
    """Write status.json atomically."""
    write_json(run_dir / STATUS_FILE, status.to_dict())


def update_status(run_dir: Path, **changes: Any) -> RunStatus:
    """Read status.json, apply `changes`, write it back atomically; return the new status."""
    status = dataclasses.replace(read_status(run_dir), **changes)
    write_status(run_dir, status)
    return status


def load_run(run_dir: Path) -> Run:
    """Read one run folder (config.json + status.json); GraspError names the folder and what is missing."""
    if not run_dir.is_dir():
        raise GraspError(f"run {run_dir.name!r}: no such run in {run_dir.parent} (see `grasp runs`)")
    for name in (CONFIG_FILE, STATUS_FILE):
        if not (run_dir / name).is_file():
            raise GraspError(f"{run_dir} is not a run folder: {name} is missing")
    try:
        config = TrainConfig.from_dict(read_json(run_dir / CONFIG_FILE, what=f"run config {CONFIG_FILE}"))
    except GraspError as e:
        raise GraspError(f"{run_dir / CONFIG_FILE}: {e}") from None
    status = read_status(run_dir)
    return Run(run_dir.name, run_dir, config, status.key or config_key(config), status)


def get_run(run_id: str, root: str | Path | None = None) -> Run:
    """The run with this id, after checking the id is a plain name inside the registry."""
    base = runs_root(root)
    return load_run(inside(base, validate_run_id(run_id)))


def create_run(config: TrainConfig, root: str | Path | None = None, **status: Any) -> Run:
    """Make a new run folder with config.json, status.json (state queued unless `status` says otherwise), log.txt."""
    base = runs_root(root)
    config = absolute_config(config)
    key = config_key(config)
    run_dir = base / new_run_id(config, key)
    run_dir.mkdir()
    write_json(run_dir / CONFIG_FILE, config.to_dict())
    try:
        first = RunStatus(key=key, **status)
    except (TypeError, ValueError) as e:
        raise GraspError(f"run status: {e}") from None
    write_status(run_dir, first)
    (run_dir / LOG_FILE).touch()
    return Run(run_dir.name, run_dir, config, key, first)


def iter_run_dirs(root: str | Path | None = None) -> Iterator[Path]:
    """The folders of the registry that look like runs (a status.json inside), oldest id first."""
    base = runs_root(root)
    for d in sorted(base.iterdir()):
        if d.is_dir() and _ID.match(d.name) and (d / STATUS_FILE).is_file():
            yield d


def log_tail(run_dir: Path, n: int = LOG_TAIL) -> list[str]:
    """The last `n` lines of the run's log.txt (tqdm carriage returns folded to their last frame)."""
    return tail_lines(run_dir / LOG_FILE, n)


@contextmanager
def registry_lock(root: str | Path | None = None) -> Iterator[Path]:
    """An exclusive fcntl lock on the registry, so two dispatchers never start (or mark) the same run."""
    base = runs_root(root)
    with file_lock(base / LOCK_FILE):
        yield base


def read_registry(root: str | Path | None = None) -> tuple[list[Run], list[tuple[Path, str]]]:
    """One pass over the registry: every readable run (oldest first) and every folder that is not a readable run,
    with the reason (a half-written or foreign folder, a damaged status.json)."""
    runs: list[Run] = []
    damaged: list[tuple[Path, str]] = []
    for d in iter_run_dirs(root):
        try:
            runs.append(load_run(d))
        except GraspError as e:
            damaged.append((d, str(e)))
    return runs, damaged


def list_runs(root: str | Path | None = None) -> list[Run]:
    """Every readable run in the registry, oldest first, as its folder says (it changes nothing: a run whose
    worker died still reads `running` until queue.refresh() marks it). Unreadable folders are left out here
    (`read_registry` names them), so `grasp runs` still lists the others."""
    return read_registry(root)[0]


def find_by_key(key_or_config: str | TrainConfig, root: str | Path | None = None, state: str = "done") -> Run | None:
    """The newest run with this config key (or config) in `state` (default done), else None: sweeps skip it."""
    key = key_or_config if isinstance(key_or_config, str) else config_key(absolute_config(key_or_config))
    found = [r for r in list_runs(root) if r.key == key and r.status.state == state]
    return found[-1] if found else None


def read_metrics(run: Run) -> list[dict[str, Any]]:
    """The run's metrics.jsonl rows (one per step, as grasp_core.training logs them), [] before the first step."""
    path = run.dir / METRICS_FILE
    return [row for _, row in read_jsonl(path)] if path.is_file() else []
