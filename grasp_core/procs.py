"""OS processes and file locks: is a pid alive, start a detached process, hold an fcntl lock on a file."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
