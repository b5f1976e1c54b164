"""Workspace paths, atomic writes and line-numbered JSONL reading: the only file I/O helpers in grasp_core."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .errors import GraspError


def grasp_home() -> Path:
    """The workspace and cache root: $GRASP_HOME, else ~/.cache/grasp (made when missing)."""
    root = Path(os.environ.get("GRASP_HOME", Path.home() / ".cache" / "grasp")).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GraspError(
            f"GRASP_HOME {root} cannot be made ({e.strerror or e}): set GRASP_HOME to a folder you can write"
        ) from None
    return root


def check_writable(folder: Path, what: str) -> None:
    """Refuse, in one line naming it, a folder this process cannot write into: tried by writing a file there, since
    mode bits do not tell (root ignores them; a read-only mount does not show in them)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as e:
        raise GraspError(
            f"{what} {folder} is not writable ({e.strerror or e}): set GRASP_HOME to a folder you can write"
        ) from None


def inside(root: Path, user_path: str | Path) -> Path:
    """Resolve a user-named path and refuse it unless it stays inside `root`."""
    root = Path(root).resolve()
    path = (root / user_path).resolve()
    if path != root and root not in path.parents:
        raise GraspError(f"path {user_path!s} escapes the workspace {root}")
    return path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically (temp file + os.replace)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically, indented with sorted keys (as PEFT writes its configs)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_jsonl_atomic(path: str | Path, rows: list[Any]) -> None:
    """Write JSON lines atomically (a whole file at once, unlike append_jsonl)."""
    write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def read_text(path: str | Path, what: str = "file") -> str:
    """A text file's contents as UTF-8, naming the file, line and byte where it is not UTF-8 text."""
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise GraspError(_not_utf8(path, what, data[: e.start].count(b"\n") + 1, data[e.start])) from None


def _not_utf8(path: Path, what: str, lineno: int, byte: int) -> str:
    return f"{what} {path}, line {lineno}: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"


def read_json(path: str | Path, what: str = "JSON file") -> dict[str, Any]:
    """Read a JSON object, naming the file (and line) when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise GraspError(f"{what} {path} not found")
    try:
        obj = json.loads(read_text(path, what))
    except json.JSONDecodeError as e:
        raise GraspError(f"{what} {path}: malformed JSON at line {e.lineno}: {e.msg}") from None
    if not isinstance(obj, dict):
        raise GraspError(f"{what} {path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def read_yaml(path: str | Path, what: str = "YAML file") -> Any:
    """Parse a YAML file (anchors allowed), naming the file when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise GraspError(f"{what} {path} not found")
    try:
        return yaml.safe_load(read_text(path, what))
    except yaml.YAMLError as e:
        raise GraspError(f"{path}: malformed YAML ({e})") from None


def read_jsonl(path: str | Path, nonempty: str | None = None) -> list[tuple[int, Any]]:
    """Read a JSONL file as (line number, value) pairs; blank lines are skipped, bad ones named. With `nonempty`
    (what the lines are, e.g. "examples"), a file without any is an error."""
    path = Path(path)
    if not path.is_file():
        raise GraspError(f"{path}: file not found")
    rows: list[tuple[int, Any]] = []
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise GraspError(_not_utf8(path, "file", lineno, raw[e.start])) from None
            if not line.strip():
                continue
            try:
                rows.append((lineno, json.loads(line)))
            except json.JSONDecodeError as e:
                raise GraspError(f"{path}, line {lineno}: malformed JSON ({e.msg})") from None
    if nonempty is not None and not rows:
        raise GraspError(f"{path}: empty file, no {nonempty}")
    return rows


def read_jsonl_objects(path: str | Path, nonempty: str | None = None) -> list[tuple[int, str, dict[str, Any]]]:
    """read_jsonl where every line must be a JSON object: (line number, "PATH, line N" to name it by, object)."""
    rows = []
    for lineno, obj in read_jsonl(path, nonempty):
        where = f"{path}, line {lineno}"
        if not isinstance(obj, dict):
            raise GraspError(f"{where}: expected a JSON object")
        rows.append((lineno, where, obj))
    return rows


def tail_lines(path: str | Path, n: int, max_bytes: int = 1 << 18) -> list[str]:
    """The last `n` non-blank lines of a log file ([] when it is missing) among its last `max_bytes`, tqdm
    carriage returns folded to their last frame."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open("rb") as f:  # only the end: a long sweep's log grows to megabytes
        f.seek(max(0, path.stat().st_size - max_bytes))
        text = f.read().decode("utf-8", errors="replace")  # keep \r: tqdm redraws end with it
    lines = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n")]
    return [line for line in lines if line.strip()][-n:]


def append_jsonl(path: str | Path, obj: Any) -> None:
    """Append one JSON line and flush it to disk (metrics logs)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())


def modified_time(path: str | Path) -> float:
    """When a file last changed (its mtime; 0.0 where it cannot be read), for cache keys that follow a file."""
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def file_hash(*paths: str | Path, length: int = 16) -> str:
    """A short sha256 over the contents of the given files, for cache keys and provenance."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:length]


def text_hash(*parts: str, length: int = 16) -> str:
    """A short sha256 of strings, for cache keys."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:length]
