"""Where a sweep's jobs run: in this process (`inline`, the default), as local subprocesses or as SLURM jobs, both
through submitit. A job is a module-level function and its arguments; jobs name the jobs they wait for (a method
cell waits for its seed's naive run). Locally, a job starts once those ended well, at most `parallel` at a time; on
SLURM every job is submitted at once, each held by `--dependency=afterok:` on the ones it waits for.

In a sweep YAML:

    executor: local                       # or {kind: local, parallel: 2}
    executor:
      kind: slurm
      partition: gpu
      gpus_per_job: 1
      cpus_per_job: 8
      mem: 64G
      time: "4:00:00"                     # minutes (240) or [D-]H:MM:SS
      account: my-lab
      sbatch: {qos: high, constraint: a100}   # more `#SBATCH --key=value` lines
      setup: ["module load cuda/12.4"]        # shell lines before the job's command

What each job did (its id, log files, how it ended) is kept in <sweep>/jobs/jobs.json; submitit's own files
(pickled job, sbatch script, logs) are in <sweep>/jobs/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit

from ..errors import ConfigError, GraspError, check_field_types
from ..io import read_json, write_json
from ..procs import pid_alive

EXECUTORS = ("inline", "local", "slurm")
JOBS_FILE = "jobs.json"
LOCAL_TIME_MIN = 7 * 24 * 60  # a local job has no scheduler limit; submitit's own default (2 min) would kill it
POLL_S = 2.0
STOP_WAIT_S = 60.0  # on a stop, how long local jobs get to checkpoint their runs before they are interrupted
SLURM_FIELDS = ("partition", "gpus_per_job", "cpus_per_job", "mem", "time", "account", "sbatch", "setup")


@dataclass(frozen=True)
class ExecutorConfig:
    """Where a sweep's cells run and, on SLURM, what each job asks for (validated at load, before anything runs)."""

    kind: str = "inline"
    parallel: int = 1  # local: jobs at once (each loads its own model; 1 on a small machine)
    partition: str | None = None
    gpus_per_job: int = 1
    cpus_per_job: int | None = None
    mem: str | None = None  # e.g. "64G"
    time: int | str = 240  # minutes, or "[D-]H:MM:SS"
    account: str | None = None
    sbatch: dict[str, Any] = field(default_factory=dict)  # more #SBATCH options: {qos: high} -> --qos=high
    setup: list[str] = field(default_factory=list)  # shell lines run before each job (module load ...)
    where: str = "executor"

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise ConfigError(f"{self.where}: unknown executor {self.kind!r}; known: {', '.join(EXECUTORS)}")
        try:
            check_field_types(self)
        except ConfigError as e:
            raise ConfigError(f"{self.where}: {e}") from None
        if not isinstance(self.time, int | str) or isinstance(self.time, bool):
            raise ConfigError(f"{self.where}: `time` must be minutes or [D-]H:MM:SS, got {self.time!r}")
        self.minutes  # noqa: B018  (parses `time`, naming it when malformed)
        if self.parallel < 1:
            raise ConfigError(f"{self.where}: `parallel` must be >= 1, got {self.parallel}")
        if self.gpus_per_job < 0 or (self.cpus_per_job is not None and self.cpus_per_job < 1):
            raise ConfigError(f"{self.where}: `gpus_per_job` must be >= 0 and `cpus_per_job` >= 1")
        if not isinstance(self.sbatch, dict) or not all(
            isinstance(k, str)
            and re.fullmatch(r"[a-z][a-z0-9-]*", k)
            and isinstance(v, str | int)
            and "\n" not in str(v)
            for k, v in self.sbatch.items()
        ):
            raise ConfigError(
                f"{self.where}: `sbatch` must map sbatch option names to values, like {{qos: high}}, "
                f"got {self.sbatch!r}"
            )
        if any("\n" in line for line in self.setup):
            raise ConfigError(f"{self.where}: `setup` must list one shell line per entry")
        if self.kind != "slurm":
            defaults = {
                f.name: f.default_factory() if callable(f.default_factory) else f.default
                for f in dataclasses.fields(self)
            }
            given = [name for name in SLURM_FIELDS if getattr(self, name) != defaults[name]]
            if given:
                raise ConfigError(f"{self.where}: `{given[0]}` is a SLURM field, but the executor is {self.kind}")

    @property
    def minutes(self) -> int:
        """`time` in minutes."""
        if isinstance(self.time, int):
            if self.time < 1:
                raise ConfigError(f"{self.where}: `time` must be at least 1 minute, got {self.time}")
            return self.time
        m = re.fullmatch(r"(?:(\d+)-)?(\d+):(\d{2})(?::(\d{2}))?", self.time.strip())
        if m is None:
            raise ConfigError(f"{self.where}: `time` must be minutes or [D-]H:MM:SS, got {self.time!r}")
        days, hours, mins, secs = (int(g) if g else 0 for g in m.groups())
        return max(1, days * 1440 + hours * 60 + mins + (1 if secs else 0))

    @classmethod
    def from_value(cls, value: Any, where: str = "executor") -> ExecutorConfig:
        """`local`, or a mapping with `kind` and the fields above."""
        if isinstance(value, ExecutorConfig):
            return value
        if isinstance(value, str):
            return cls(kind=value, where=where)
        if not isinstance(value, dict):
            raise ConfigError(
                f"{where}: `executor` must be one of {', '.join(EXECUTORS)} or a mapping with `kind`, got {value!r}"
            )
        known = {f.name for f in dataclasses.fields(cls)} - {"where"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ConfigError(
                f"{where}: unknown executor field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**{**value, "where": where})

    def to_value(self) -> str | dict[str, Any]:
        d = {k: v for k, v in dataclasses.asdict(self).items() if k != "where"}
        default = {k: v for k, v in dataclasses.asdict(ExecutorConfig()).items() if k != "where"}
        d = {k: v for k, v in d.items() if k == "kind" or v != default[k]}
        return self.kind if len(d) == 1 else d


@dataclass(frozen=True)
class Job:
    """One unit of a sweep: `fn(*args)` in its own process, after the jobs named in `after` ended well."""

    key: str  # unique within the sweep, stable across invocations
    label: str  # what a person reads ("naive run naive seed=0", "grasp top=4 seed=1")
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    after: tuple[str, ...] = ()


@dataclass
class JobRecord:
    """What jobs.json keeps of a submitted job."""

    label: str
    kind: str
    job_id: str
    stdout: str
    stderr: str
    submitted: float
    state: str = "submitted"  # submitted | done | failed | not run (a job it waited for failed)
    error: str | None = None


def check_available(config: ExecutorConfig) -> None:
    """Raise GraspError when the executor cannot submit from here (SLURM without `sbatch` on PATH)."""
    missing = [c for c in ("sbatch", "srun") if shutil.which(c) is None] if config.kind == "slurm" else []
    if missing:
        raise GraspError(
            f"executor slurm: `{missing[0]}` is not on PATH (submit from a SLURM login node, or use --executor local)"
        )


def make_executor(config: ExecutorConfig, folder: Path) -> Any:
    """The submitit executor of `config` writing its files under `folder` (checked: SLURM needs sbatch here)."""
    check_available(config)
    ex: Any
    if config.kind == "local":
        ex = submitit.LocalExecutor(folder=str(folder))
        ex.update_parameters(timeout_min=LOCAL_TIME_MIN)
        return ex
    if config.kind == "slurm":
        ex = submitit.SlurmExecutor(folder=str(folder))
        params: dict[str, Any] = {"time": config.minutes, "job_name": "grasp-sweep", "stderr_to_stdout": False}
        if config.partition:
            params["partition"] = config.partition
        if config.gpus_per_job:
            params["gres"] = f"gpu:{config.gpus_per_job}"
        if config.cpus_per_job:
            params["cpus_per_task"] = config.cpus_per_job
        if config.mem:
            params["mem"] = config.mem
        if config.account:
            params["account"] = config.account
        if config.sbatch:
            params["additional_parameters"] = {k.replace("-", "_"): v for k, v in config.sbatch.items()}
        if config.setup:
            params["setup"] = list(config.setup)
        ex.update_parameters(**params)
        return ex
    raise GraspError(f"executor {config.kind}: runs in this process, not through submitit")


def submit_all(jobs: list[Job], config: ExecutorConfig, folder: Path) -> dict[str, Any]:
    """SLURM: submit every job now, each held on the ones it waits for (afterok); their submitit jobs by key."""
    ex = make_executor(config, folder)
    submitted: dict[str, Any] = {}
    records = read_records(folder)
    extra = {k.replace("-", "_"): v for k, v in config.sbatch.items()}
    for job in jobs:
        deps = [submitted[k].job_id for k in job.after if k in submitted]
        # A job whose naive run failed is dropped by SLURM (kill_on_invalid_dep), not left pending for ever.
        ex.update_parameters(
            dependency=f"afterok:{':'.join(deps)}" if deps else None,
            additional_parameters={**extra, "kill_on_invalid_dep": "yes"} if deps else extra,
        )
        sj = ex.submit(job.fn, *job.args)
        submitted[job.key] = sj
        records[job.key] = _record(job, config.kind, sj)
        write_records(folder, records)
    return submitted


def run_jobs(
    jobs: list[Job],
    config: ExecutorConfig,
    folder: Path,
    say: Callable[[str], None],
    on_finish: Callable[[], None] | None = None,
) -> None:
    """Run `jobs` through the executor and wait for all of them; raise GraspError naming every job that failed
    (with its log file) once the others have ended. `on_finish` is called after jobs end, once the jobs that may
    start in their place have started (not after the last). Stopped (Ctrl-C, or SIGTERM to this process alone), it
    stops the local jobs still running as the inline path stops: a run being trained checkpoints and ends cancelled,
    and the next pass resumes it."""
    if not jobs:
        return
    folder.mkdir(parents=True, exist_ok=True)
    if config.kind == "slurm":
        running = submit_all(jobs, config, folder)
        for key, sj in running.items():
            say(f"  submitted {_label(jobs, key)}: SLURM job {sj.job_id}, log {sj.paths.stdout}")
        pending: list[Job] = []
    else:
        ex = make_executor(config, folder)
        running, pending = {}, list(jobs)
    records = read_records(folder)
    failed: list[str] = []
    ended: dict[str, str] = {}  # key -> done | failed | not run
    ends = 0  # jobs ended since on_finish was last called
    previous = _interrupt_on_sigterm() if config.kind == "local" else None
    try:
        while running or pending:
            for job in list(pending):  # local: start what may start
                if any(ended.get(k) in ("failed", "not run") for k in job.after):
                    pending.remove(job)
                    ended[job.key] = "not run"
                    records[job.key] = JobRecord(
                        job.label, config.kind, "", "", "", time.time(), "not run", "a job it waits for failed"
                    )
                    continue
                if len(running) >= config.parallel or any(
                    k in running or k in _pending_keys(pending) for k in job.after
                ):
                    continue
                sj = ex.submit(job.fn, *job.args)
                running[job.key] = sj
                pending.remove(job)
                records[job.key] = _record(job, config.kind, sj)
                say(f"  started {job.label}: job {sj.job_id}, log {sj.paths.stderr}")
            write_records(folder, records)
            if ends and on_finish is not None:  # after the freed slots are filled again
                on_finish()
            ends = 0
            for key, sj in list(running.items()):
                if not sj.done():
                    continue
                del running[key]
                label = _label(jobs, key)
                try:
                    sj.result()
                    ended[key], records[key].state = "done", "done"
                    say(f"  finished {label}")
                except Exception as e:  # submitit's FailedJobError / UncompletedJobError: the job's own error
                    ended[key], records[key].state = "failed", "failed"
                    records[key].error = _last_line(str(e))
                    failed.append(f"{label}: {records[key].error} (log {sj.paths.stderr})")
                    say(f"  FAILED {label}: see {sj.paths.stderr}")
                ends += 1
            write_records(folder, records)
            if running or pending:
                time.sleep(POLL_S)
    except BaseException:
        if config.kind == "local":
            _stop_local(running, say)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if failed:
        raise GraspError(
            f"{len(failed)} of {len(jobs)} jobs failed; rerun the sweep to retry them:\n  " + "\n  ".join(failed)
        )


def _interrupt_on_sigterm() -> Any:
    """Make SIGTERM raise KeyboardInterrupt here, as Ctrl-C does, so a stopped driver stops its jobs before it exits
    (Python's default SIGTERM ends the process at once and would orphan them); the handler it replaced, or None off
    the main thread (where no handler can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    return signal.signal(signal.SIGTERM, interrupt)


def _stop_local(running: dict[str, Any], say: Callable[[str], None]) -> None:
    """Stop the local jobs still running: SIGTERM to each job's submitit controller, which passes it to the job, whose
    run (if one is training) checkpoints and ends cancelled; a job still alive after STOP_WAIT_S (one evaluating,
    where submitit's job ignores SIGTERM) or a second interrupt is cancelled (SIGINT, then killed)."""
    if not running:
        return
    say(f"  stopping {len(running)} running job(s): a run being trained checkpoints first")
    for sj in running.values():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(sj.job_id), signal.SIGTERM)
    try:
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline and not all(sj.done() for sj in running.values()):
            time.sleep(0.2)
    finally:
        for sj in running.values():
            if not sj.done():
                sj.cancel(check=False)


def read_records(folder: Path) -> dict[str, JobRecord]:
    """jobs.json of a jobs folder ({} when there is none or it is unreadable)."""
    path = folder / JOBS_FILE
    if not path.is_file():
        return {}
    try:
        return {k: JobRecord(**v) for k, v in read_json(path, what="jobs file").items()}
    except (GraspError, TypeError):
        return {}


def write_records(folder: Path, records: dict[str, JobRecord]) -> None:
    write_json(folder / JOBS_FILE, {k: dataclasses.asdict(r) for k, r in records.items()})


def live_state(record: JobRecord, folder: Path) -> str:
    """A submitted job's state now: `running` while its local process lives, SLURM's own state (sacct), else what
    jobs.json last recorded."""
    if record.state != "submitted":
        return record.state
    if record.kind == "local":
        return "running" if record.job_id.isdigit() and pid_alive(int(record.job_id)) else "ended (driver gone)"
    if record.kind == "slurm" and shutil.which("sacct"):
        return str(submitit.SlurmJob(folder=str(folder), job_id=record.job_id).state).lower()
    return record.state


def _record(job: Job, kind: str, sj: Any) -> JobRecord:
    return JobRecord(job.label, kind, str(sj.job_id), str(sj.paths.stdout), str(sj.paths.stderr), time.time())


def _label(jobs: list[Job], key: str) -> str:
    return next((j.label for j in jobs if j.key == key), key)


def _pending_keys(pending: list[Job]) -> set[str]:
    return {j.key for j in pending}


def _last_line(text: str) -> str:
    """The job's own exception line out of submitit's failure message (its traceback, then log paths)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b:?", line)]
    line = raised[-1] if raised else (lines[0] if lines else "failed")
    return re.sub(r"^(?:[A-Za-z_]\w*\.)+(?=\w+(Error|Exception|Exit|Interrupt))", "", line)[:300]
