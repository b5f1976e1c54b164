"""Sweeps through submitit: the local executor (real subprocesses) matches the in-process path and resumes after a
kill without resubmitting finished cells; the SLURM path's sbatch scripts; bad executor settings."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from grasp_core.errors import ConfigError, GraspError
from grasp_core.sweep.config import SweepConfig
from grasp_core.sweep.executor import ExecutorConfig, Job, submit_all
from grasp_core.sweep.folders import sweep_dir
from grasp_core.sweep.report import load_results
from grasp_core.sweep.run import SweepWork, run_sweep
from grasp_core.sweep.status import sweep_status

TINY_TRAIN = {"r": 2, "lora_alpha": 4, "lr": 1e-3, "batch_size": 4, "epochs": 1, "max_length": 96}
METHODS = [{"method": "naive"}, {"method": "grasp", "top": 1}, {"method": "ablate", "top": 1}]


def _yaml(tmp: Path, organism: Path, base: Path, methods: list[dict], **extra) -> Path:
    path = tmp / "sweep.yaml"
    cfg = {
        "name": "t",
        "organism": str(organism),
        "base": str(base),
        "seeds": [0],
        "train": TINY_TRAIN,
        "methods": methods,
        **extra,
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["run"]).set_index(["label", "seed"], drop=True)


@pytest.mark.slow
def test_local_executor_gives_the_same_table_as_the_inline_path(tmp_path, tiny_organism, tiny_llama_dir):
    cfg = SweepConfig.from_yaml(_yaml(tmp_path, tiny_organism, tiny_llama_dir, METHODS))
    inline = run_sweep(cfg, root=tmp_path / "a", runs_root=tmp_path / "a-runs", figures=(".html",))
    local = run_sweep(
        cfg,
        root=tmp_path / "b",
        runs_root=tmp_path / "b-runs",
        figures=(".html",),
        executor=ExecutorConfig(kind="local"),
    )
    a, b = load_results(inline.folder), load_results(local.folder)
    assert list(a["label"]) == list(b["label"]) == ["base", "naive", "grasp top=1", "ablate top=1"]
    pd.testing.assert_frame_equal(_numbers(a), _numbers(b), rtol=1e-4, atol=1e-6)
    jobs = json.loads((local.folder / "jobs" / "jobs.json").read_text())
    # base evaluation, the seed's probe, then one job per cell; each a process of its own that ended well
    assert sorted(r["label"] for r in jobs.values()) == sorted(
        ["base model evaluation", "naive run naive seed=0", "naive seed=0", "grasp top=1 seed=0", "ablate top=1 seed=0"]
    )
    assert {r["state"] for r in jobs.values()} == {"done"} and len({r["job_id"] for r in jobs.values()}) == 5
    assert (sweep_status(local.folder)["state"] == "done").all()


@pytest.mark.slow
def test_a_killed_local_sweep_resubmits_only_its_unfinished_cells(tmp_path, tiny_organism, tiny_llama_dir):
    methods = [{"method": "naive"}, {"method": "caft", "top": 1}, {"method": "random", "top": 1}]
    path = _yaml(tmp_path, tiny_organism, tiny_llama_dir, methods)
    env = {**os.environ, "GRASP_HOME": str(tmp_path / "home")}
    folder = sweep_dir(SweepConfig.from_yaml(path), tmp_path / "home" / "sweeps")
    cmd = [sys.executable, "-m", "grasp_core", "sweep", str(path), "--executor", "local"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline, done = time.monotonic() + 300, []
    while time.monotonic() < deadline and proc.poll() is None:
        done = list((folder / "cells").glob("*.json")) if (folder / "cells").is_dir() else []
        if any(p.name != "base.json" for p in done):  # a first cell finished: kill the driver and its jobs
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {json.loads(p.read_text())["label"] for p in folder.glob("cells/*.json") if p.name != "base.json"}
    status = sweep_status(folder)
    cells = status[status["kind"] == "cell"]
    assert set(cells[cells["state"] == "done"]["label"]) == finished and len(finished) < 3
    shown = subprocess.run(
        [sys.executable, "-m", "grasp_core", "sweep", "--status", "t"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert f"{len(finished) + 2} done" in shown.stdout.splitlines()[-1]  # the cells, the base and the probe jobs
    assert "ended (driver gone)" in shown.stdout or "not started" in shown.stdout  # what the kill left unfinished

    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
    assert res.returncode == 0, res.stderr[-2000:]
    started = [line for line in res.stderr.splitlines() if line.strip().startswith("started ")]
    assert f"{3 - len(finished)} of 3 cells to run ({len(finished)} done)" in res.stderr
    for label in finished:
        assert not any(line.strip().startswith(f"started {label} seed=0") for line in started)
    runs = tmp_path / "home" / "runs"
    states = [json.loads(p.read_text())["state"] for p in runs.glob("*/status.json")]
    assert states.count("done") == 3  # three configurations, none trained twice
    assert (sweep_status(folder)["state"] == "done").all()


@pytest.mark.slow
def test_a_local_sweep_tables_its_finished_cells_while_it_runs_and_sigterm_stops_its_jobs(
    tmp_path, tiny_organism, tiny_llama_dir
):
    from grasp_core.procs import pid_alive

    # The naive cell is quick; the random cell's run is long enough to be caught training. SIGTERM then goes to the
    # driver alone (not its process group), as `kill PID` does.
    methods = [{"method": "naive"}, {"method": "random", "top": 1, "epochs": 400}]
    path = _yaml(tmp_path, tiny_organism, tiny_llama_dir, methods)
    env = {**os.environ, "GRASP_HOME": str(tmp_path / "home")}
    folder = sweep_dir(SweepConfig.from_yaml(path), tmp_path / "home" / "sweeps")
    cmd = [sys.executable, "-m", "grasp_core", "sweep", str(path), "--executor", "local"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    runs, training = tmp_path / "home" / "runs", None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and training is None:
        for status in runs.glob("*/status.json") if runs.is_dir() else []:
            with contextlib.suppress(ValueError, OSError):
                s = json.loads(status.read_text())
                if s["state"] == "running" and (s.get("step") or 0) >= 2 and (s.get("total") or 0) > 100:
                    training = (status, s["pid"])
        time.sleep(0.2)
    try:
        assert training is not None and proc.poll() is None, "the long run was not caught training"
        time.sleep(1.0)  # the driver writes the table right after it started the long cell's job
        assert list(load_results(folder)["label"]) == ["base", "naive"]  # the finished cells, before the sweep ends
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and "stopping 1 running job(s)" in err, err[-2000:]
    status_file, worker = training
    final = json.loads(status_file.read_text())
    assert final["state"] == "cancelled" and final["resume"], final  # checkpointed, as the inline path stops
    controllers = [int(r["job_id"]) for r in json.loads((folder / "jobs" / "jobs.json").read_text()).values()]
    time.sleep(2.0)  # a controller ends once its job did
    assert not pid_alive(worker) and not any(pid_alive(pid) for pid in controllers)


def _fake_sbatch(tmp_path: Path) -> Path:
    """A stand-in `sbatch` (SLURM cannot run here): it accepts the script and prints a job id, as sbatch does; and
    an `srun` that submitit only looks for (the job scripts call it on the cluster, never here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(
        '#!/bin/sh\nn=$(cat "$(dirname "$0")/next" 2>/dev/null || echo 100)\n'
        'echo $((n + 1)) > "$(dirname "$0")/next"\necho "Submitted batch job $n"\n'
    )
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")
    for tool in ("sbatch", "srun"):
        (bin_dir / tool).chmod((bin_dir / tool).stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_the_sbatch_scripts_of_a_two_cell_slurm_sweep(tmp_path, tiny_organism, tiny_llama_dir, monkeypatch):
    monkeypatch.setenv("PATH", f"{_fake_sbatch(tmp_path)}:{os.environ['PATH']}")
    ex = {
        "kind": "slurm",
        "partition": "gpu",
        "gpus_per_job": 2,
        "cpus_per_job": 8,
        "time": "1:30:00",
        "account": "lab",
        "sbatch": {"qos": "high"},
        "setup": ["module load cuda/12.4"],
    }
    path = _yaml(
        tmp_path, tiny_organism, tiny_llama_dir, [{"method": "naive"}, {"method": "grasp", "top": 1}], executor=ex
    )
    cfg = SweepConfig.from_yaml(path)
    work = SweepWork(cfg, tmp_path / "sweeps", tmp_path / "runs", lambda msg: None)
    jobs = work.jobs()
    assert [j.label for j in jobs] == [
        "base model evaluation",
        "naive run naive seed=0",
        "naive seed=0",
        "grasp top=1 seed=0",
    ]
    submitted = submit_all(jobs, cfg.executor, tmp_path / "jobs")
    ids = {key: sj.job_id for key, sj in submitted.items()}
    assert sorted(ids.values()) == ["100", "101", "102", "103"]
    for job in jobs:
        sj = submitted[job.key]
        text = Path(sj.paths.submission_file).read_text()
        assert "#SBATCH --partition=gpu" in text and "#SBATCH --gres=gpu:2" in text
        assert "#SBATCH --time=90" in text and "#SBATCH --cpus-per-task=8" in text
        assert "#SBATCH --account=lab" in text and "#SBATCH --qos=high" in text
        assert "module load cuda/12.4" in text
        assert f"#SBATCH --output={tmp_path}/jobs/%j_0_log.out" in text
        assert f"#SBATCH --error={tmp_path}/jobs/%j_0_log.err" in text
        assert f"-m submitit.core._submit {tmp_path}/jobs" in text and sys.executable in text
        naive_id = ids["naive:naive:0"]
        if job.label == "grasp top=1 seed=0":  # picks its factors from the naive run: held until it ends well
            assert f"#SBATCH --dependency=afterok:{naive_id}" in text and "#SBATCH --kill-on-invalid-dep=yes" in text
        else:
            assert "--dependency" not in text
    records = json.loads((tmp_path / "jobs" / "jobs.json").read_text())
    assert {r["job_id"] for r in records.values()} == set(ids.values())
    assert all(r["stderr"].endswith("_0_log.err") for r in records.values())


def test_no_sbatch_is_one_line_and_nothing_submitted(tmp_path, tiny_organism, tiny_llama_dir):
    path = _yaml(
        tmp_path, tiny_organism, tiny_llama_dir, [{"method": "naive"}], executor={"kind": "slurm", "partition": "gpu"}
    )
    env = {**os.environ, "GRASP_HOME": str(tmp_path / "home"), "PATH": str(Path(sys.executable).parent)}
    res = subprocess.run(
        [sys.executable, "-m", "grasp_core", "sweep", str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == (
        "error: executor slurm: `sbatch` is not on PATH (submit from a SLURM login node, or use --executor local)"
    )
    assert not (tmp_path / "home" / "sweeps").exists()  # nothing written, nothing submitted


@pytest.mark.parametrize(
    "executor, needle",
    [
        ("lsf", "unknown executor 'lsf'; known: inline, local, slurm"),
        ({"kind": "slurm", "gpus_per_job": "two"}, "`gpus_per_job` must be int, got 'two'"),
        ({"kind": "slurm", "time": "soon"}, "`time` must be minutes or \\[D-\\]H:MM:SS, got 'soon'"),
        ({"kind": "slurm", "sbatch": ["--qos=high"]}, "`sbatch` must map sbatch option names to values"),
        ({"kind": "local", "partition": "gpu"}, "`partition` is a SLURM field, but the executor is local"),
        ({"kind": "slurm", "gpu": 1}, "unknown executor field\\(s\\) gpu"),
    ],
)
def test_bad_executor_settings_are_named_at_load(tmp_path, tiny_organism, tiny_llama_dir, executor, needle):
    path = _yaml(tmp_path, tiny_organism, tiny_llama_dir, [{"method": "naive"}], executor=executor)
    with pytest.raises(ConfigError, match=needle) as e:
        SweepConfig.from_yaml(path)
    assert str(path) in str(e.value)


def test_the_executor_does_not_change_the_sweep_folder(tmp_path, tiny_organism, tiny_llama_dir):
    plain = yaml.safe_load(_yaml(tmp_path, tiny_organism, tiny_llama_dir, METHODS).read_text())
    plain.pop("name")
    a = SweepConfig.from_dict(plain)
    b = SweepConfig.from_dict({**plain, "executor": {"kind": "slurm", "partition": "gpu"}})
    assert sweep_dir(a, tmp_path) == sweep_dir(b, tmp_path)
    assert b.to_dict()["executor"] == {"kind": "slurm", "partition": "gpu"} and "executor" not in a.to_dict()


def test_a_failed_local_job_is_named_with_its_log(tmp_path):
    from grasp_core.sweep.executor import run_jobs

    # int("bad settings") raises in the job's own process; cell b waits for a, so it never runs.
    jobs = [Job("a", "cell a", int, ("bad settings",)), Job("b", "cell b", int, ("7",), after=("a",))]
    with pytest.raises(
        GraspError,
        match=r"1 of 2 jobs failed.*\n  cell a: ValueError: invalid literal .*'bad settings' \(log .*\.err\)",
    ):
        run_jobs(jobs, ExecutorConfig(kind="local"), tmp_path / "jobs", lambda msg: None)
    records = json.loads((tmp_path / "jobs" / "jobs.json").read_text())
    assert records["a"]["state"] == "failed" and records["b"]["state"] == "not run"
