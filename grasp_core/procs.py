"""OS processes and file locks: is a pid alive, start a detached process, hold an fcntl lock on a file."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def this_host() -> str:
    """This machine's name, recorded beside a pid: a pid means something only on the host that wrote it."""
    return socket.gethostname()


def pid_alive(pid: int | None) -> bool:
    """True while process `pid` exists and is not a zombie (reaped here when it is our own child)."""
    if not pid:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: its parent (or init) reaps it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie still answers kill(0); Linux shows it as state Z
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_cmdline(pid: int) -> list[str] | None:
    """The command line of a live process, or None where /proc is not there (macOS)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None


def spawn_detached(cmd: list[str], log: Path, cwd: Path | None = None) -> int:
    """Start `cmd` in its own session (it outlives this process), stdout and stderr appended to `log`; its pid."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    return proc.pid


def start_detached(cmd: list[str], log: Path, pid_file: Path, cwd: Path | None = None) -> int:
    """spawn_detached, then its pid written to `pid_file` (whole, by rename) for live_pid to find; the pid."""
    pid = spawn_detached(cmd, log, cwd)
    tmp = pid_file.with_name(f".{pid_file.name}.tmp")
    tmp.write_text(f"{pid}\n", encoding="utf-8")
    os.replace(tmp, pid_file)
    return pid


def live_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in `pid_file` while that process lives and its command line holds `marker` (a path only it was
    started with), so a pid the OS has since given to another process is not taken for it; None otherwise."""
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    if not pid_alive(pid):
        return None
    cmdline = process_cmdline(pid)
    if cmdline is None or not any(cmdline):
        # No /proc (macOS), or a process caught starting: its command line reads empty for a moment after the
        # fork, so it cannot be judged yet; trust the live pid.
        return pid
    return pid if marker in cmdline else None


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive fcntl lock on `path` (created when missing), released when the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def try_lease(path: Path) -> int | None:
    """Take an exclusive fcntl lock on `path` without waiting and keep it: the open descriptor, to be held for as
    long as the lease should last (closing it, or the process ending in any way, releases it); None when another
    open file holds it. A stopped (SIGSTOP) process keeps its lease."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def lease_held(path: Path) -> bool:
    """Whether some open file (any process, this one included) holds the lease on `path` now."""
    if not path.is_file():
        return False
    fd = try_lease(path)
    if fd is None:
        return True
    os.close(fd)
    return False
