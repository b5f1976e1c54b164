"""The run registry without training: folders, ids, keys, status, stale workers, bad ids and the CLI's messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grasp_core.cli import main
from grasp_core.errors import GraspError
from grasp_core.jobs import cancel, max_jobs
from grasp_core.runs import (
    STALE_S,
    config_key,
    create_run,
    find_by_key,
    get_run,
    list_runs,
    read_status,
    update_status,
)
from grasp_core.trainconfig import TrainConfig


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    path = tmp_path / "chats.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
    )
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_create_and_get_a_run(tmp_path, data):
    root = tmp_path / "runs"
    run = create_run(TrainConfig(data=str(data), lr=1e-3), root)
    assert run.dir.parent == root.resolve() and run.id.split("-")[2] == "lora"
    on_disk = json.loads((run.dir / "config.json").read_text())
    assert on_disk["lr"] == 1e-3 and on_disk["data"] == str(data.resolve())
    assert (run.dir / "log.txt").is_file() and read_status(run.dir).state == "queued"
    again = get_run(run.id, root)
    assert again.config == run.config and again.key == run.key == config_key(run.config)


def test_key_follows_config_and_data_and_finds_finished_runs(tmp_path, data):
    root = tmp_path / "runs"
    cfg = TrainConfig(data=str(data))
    assert config_key(cfg) == config_key(TrainConfig(data=str(data), device="cpu"))  # device does not count
    assert config_key(cfg) != config_key(TrainConfig(data=str(data), lr=1e-3))
    before = config_key(cfg)
    run = create_run(cfg, root)
    assert find_by_key(cfg, root) is None  # queued is not finished
    update_status(run.dir, state="done", adapter=str(run.dir / "adapter"))
    assert find_by_key(cfg, root).id == run.id and find_by_key(run.key, root).id == run.id
    data.write_text(data.read_text() + "\n" + data.read_text())  # new content: no longer the same run
    assert config_key(cfg) != before and find_by_key(cfg, root) is None


@pytest.mark.parametrize("bad", ["../outside", "a/b", ".hidden", "", "x" * 200, "..", "/etc"])
def test_bad_run_ids_are_refused_before_any_path_is_built(tmp_path, bad):
    with pytest.raises(GraspError, match="is not valid"):
        get_run(bad, tmp_path)


def test_folders_that_are_not_runs_get_clear_messages(tmp_path, data):
    root = tmp_path / "runs"
    run = create_run(TrainConfig(data=str(data)), root)
    with pytest.raises(GraspError, match="no such run"):
        get_run("20990101-000000-lora-abcdef", root)
    (root / "junk").mkdir()
    with pytest.raises(GraspError, match=r"not a run folder: config.json is missing"):
        get_run("junk", root)
    (root / "junk" / "config.json").write_text("{}")
    with pytest.raises(GraspError, match=r"status.json is missing"):
        get_run("junk", root)
    (root / "junk" / "status.json").write_text("{\n  oops")
    with pytest.raises(GraspError, match=r"junk/config.json: train config: missing required field\(s\) data"):
        get_run("junk", root)
    (root / "junk" / "config.json").write_text(json.dumps({"data": str(data)}))
    with pytest.raises(GraspError, match="malformed JSON at line 2"):
        get_run("junk", root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(GraspError, match="escapes the workspace"):
        get_run("link", root)
    assert [r.id for r in list_runs(root)] == [run.id]  # the junk is skipped, the real run listed


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
    runs = {r.id: r.status for r in list_runs(root, reap=True)}
    assert runs[dead.id].state == "failed" and "exited" in runs[dead.id].error
    assert runs[dead.id].log_tail == ["loading", " step 4/9 loss 1.9", "Traceback: boom"]
    assert runs[stale.id].state == "failed" and "no heartbeat" in runs[stale.id].error
    assert runs[asked.id].state == "cancelled"
    assert read_status(dead.dir).state == "failed"  # written back, not only reported


def test_cancel_a_queued_run_and_refuse_finished_ones(tmp_path, data):
    root = tmp_path / "runs"
    run = create_run(TrainConfig(data=str(data)), root)
    assert cancel(run.id, root).status.state == "cancelled"
    with pytest.raises(GraspError, match="already cancelled"):
        cancel(run.id, root)


def test_max_jobs_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GRASP_MAX_JOBS", "3")
    assert max_jobs() == 3
    monkeypatch.setenv("GRASP_MAX_JOBS", "zero")
    with pytest.raises(GraspError, match="GRASP_MAX_JOBS"):
        max_jobs()


def test_cli_bad_input_exits_non_zero_with_one_line(tmp_path, monkeypatch, capsys, data):
    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    assert main(["cancel", "../../etc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not valid" in err and "Traceback" not in err
    assert main(["logs", "20990101-000000-lora-abcdef"]) == 2
    assert "no such run" in capsys.readouterr().err
    assert main(["train", "--lr", "0.1"]) == 2  # no --data
    assert "missing required field(s) data" in capsys.readouterr().err
    assert main(["train", "--resume", "x", "--lr", "0.1"]) == 2
    assert "drop --lr" in capsys.readouterr().err
    run = create_run(TrainConfig(data=str(data)), tmp_path / "runs")
    assert main(["runs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [run.id] and rows[0]["state"] == "queued"
    assert main(["runs"]) == 0 and run.id in capsys.readouterr().out


def test_cli_as_a_process_prints_one_line_and_no_traceback(tmp_path):
    env = {**os.environ, "GRASP_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "grasp_core", "logs", "../x"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("error: run id '../x' is not valid")
