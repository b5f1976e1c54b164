"""OS helpers: a pid's liveness (a reaped child, a zombie), detached processes with their log, the file lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from grasp_core.procs import file_lock, live_pid, pid_alive, process_cmdline, spawn_detached, start_detached


def test_pid_alive_follows_the_process() -> None:
    assert pid_alive(os.getpid()) and not pid_alive(None) and not pid_alive(0)
    assert "pytest" in " ".join(process_cmdline(os.getpid()) or ["pytest (no /proc)"])
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while pid_alive(child.pid):  # an exited child is a zombie until reaped: pid_alive reaps it and says dead
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_detached_process_outlives_its_session_and_logs(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    pid = spawn_detached([sys.executable, "-c", "import os; print('sid', os.getsid(0) == os.getpid())"], log)
    assert os.getsid(pid) == pid  # its own session: a Ctrl-C or closed terminal here does not reach it
    deadline = time.monotonic() + 30
    while "sid True" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.05)


def test_file_lock_is_exclusive(tmp_path: Path) -> None:
    order: list[str] = []
    held = threading.Event()

    def other() -> None:
        held.wait()
        with file_lock(tmp_path / ".lock"):
            order.append("other")

    t = threading.Thread(target=other)
    t.start()
    with file_lock(tmp_path / ".lock"):
        held.set()
        time.sleep(0.3)  # the other thread waits for us here
        order.append("first")
    t.join(timeout=10)
    assert order == ["first", "other"]


def test_live_pid_knows_its_process_and_not_a_reused_pid(tmp_path: Path) -> None:
    marker = str(tmp_path / "job.yaml")
    pid_file = tmp_path / "job.pid"
    pid = start_detached([sys.executable, "-c", "import time; time.sleep(30)", marker], tmp_path / "log", pid_file)
    try:
        assert pid_file.read_text().strip() == str(pid)
        assert live_pid(pid_file, marker) == pid
        # The same pid read for another job (as when the OS hands a dead job's pid to a new process): not it.
        assert live_pid(pid_file, str(tmp_path / "other.yaml")) is None
    finally:
        os.killpg(pid, 15)
    deadline = time.monotonic() + 10
    while live_pid(pid_file, marker) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert live_pid(tmp_path / "missing.pid", marker) is None


def test_live_pid_trusts_a_process_caught_just_after_its_start(tmp_path: Path, monkeypatch) -> None:
    """/proc/<pid>/cmdline reads empty for a moment after the fork (how often: bench/start_race.py): such a live
    process is not gone (the dashboard had shown a just-started evidence process as
    failed, and stopped polling it). The read is what the kernel gave then: an empty command line."""
    from grasp_core import procs

    marker = str(tmp_path / "out.json")
    pid = start_detached(
        [sys.executable, "-c", "import time; time.sleep(30)", marker], tmp_path / "log", tmp_path / "p"
    )
    try:
        monkeypatch.setattr(procs, "process_cmdline", lambda pid: [""])
        assert live_pid(tmp_path / "p", marker) == pid
        monkeypatch.setattr(procs, "process_cmdline", lambda pid: ["python", "another-job.yaml"])
        assert live_pid(tmp_path / "p", marker) is None  # a reused pid still is not taken for it
    finally:
        os.killpg(pid, 15)
