"""Files written whole or not at all, read back with the file, line and field named, and hashed for cache keys."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from grasp_core.errors import GraspError
from grasp_core.io import (
    append_jsonl,
    atomic_path,
    file_hash,
    inside,
    modified_time,
    read_json,
    read_jsonl,
    read_jsonl_objects,
    tail_lines,
    text_hash,
    write_json,
)


def test_an_atomic_write_that_fails_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    write_json(path, {"b": 1, "a": 2})
    assert path.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'  # sorted keys, indented (as PEFT writes)
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert read_json(path) == {"a": 2, "b": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp file left


def test_readers_name_the_file_line_and_byte(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"a": 1}\n{"b": \xff}\n')
    with pytest.raises(GraspError, match=r"bad.jsonl, line 2.*not UTF-8"):
        read_jsonl(bad)
    bad.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(GraspError, match=r"bad.jsonl, line 2: malformed JSON"):
        read_jsonl(bad)
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(GraspError, match="list.json"):
        read_json(tmp_path / "list.json")
    with pytest.raises(GraspError, match="empty.jsonl: empty file, no items"):
        read_jsonl(_empty(tmp_path), nonempty="items")


def _empty(tmp_path: Path) -> Path:
    (tmp_path / "empty.jsonl").write_text("")
    return tmp_path / "empty.jsonl"


def test_user_paths_stay_inside_their_root(tmp_path: Path) -> None:
    assert inside(tmp_path, "a/b") == tmp_path / "a" / "b"
    for escape in ("../x", "/etc/passwd", "a/../../x"):
        with pytest.raises(GraspError):
            inside(tmp_path, escape)


def test_hashes_follow_content_and_times_follow_changes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("same")
    b.write_text("same")
    assert file_hash(a) == file_hash(b) != file_hash(a, b)
    assert text_hash("x", "y") != text_hash("xy") and len(text_hash("x", length=8)) == 8
    before = modified_time(a)
    os.utime(a, (time.time() + 5, time.time() + 5))
    assert modified_time(a) > before > 0
    assert modified_time(tmp_path / "missing") == 0.0


def test_tail_and_append(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert tail_lines(log, 2) == ["line 98", "line 99"]
    append_jsonl(tmp_path / "m.jsonl", {"step": 1})
    append_jsonl(tmp_path / "m.jsonl", {"step": 2})
    assert [o["step"] for _n, o in read_jsonl(tmp_path / "m.jsonl")] == [1, 2]


def test_check_writable_tries_by_writing(tmp_path: Path) -> None:
    from grasp_core.io import check_writable

    check_writable(tmp_path, "GRASP_HOME")  # a folder one can write: nothing left behind
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(GraspError, match=r"GRASP_HOME .*missing is not writable"):
        check_writable(tmp_path / "missing", "GRASP_HOME")


def test_jsonl_objects_come_with_the_line_that_names_them(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n{"b": 2}\n')
    assert read_jsonl_objects(path) == [(1, f"{path}, line 1", {"a": 1}), (3, f"{path}, line 3", {"b": 2})]
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(GraspError, match=r"rows.jsonl, line 2: expected a JSON object"):
        read_jsonl_objects(path)
