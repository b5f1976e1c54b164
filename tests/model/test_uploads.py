"""Uploaded adapter zips: extracted inside the workspace, loadable; non-zips, big ones and escaping paths refused."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from app_fixtures import make_tiny_base, plant_adapter

from grasp_core.errors import GraspError
from grasp_core.model.adapters import load_adapter
from grasp_core.model.uploads import UPLOAD_MAX_AGE_S, extract_adapter_zip, remove_old_uploads


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_adapter_zip_roundtrip(tmp_path: Path) -> None:
    base = make_tiny_base(tmp_path / "base", layers=2, hidden=32)
    adapter = plant_adapter(str(base), tmp_path / "my-adapter")
    data = _zip({f"my-adapter/{p.name}": p.read_bytes() for p in adapter.iterdir() if p.is_file()})
    folder = extract_adapter_zip(data, "my-adapter.zip", root=tmp_path / "uploads")
    assert (tmp_path / "uploads").resolve() in folder.resolve().parents
    assert load_adapter(folder).hash == load_adapter(adapter).hash
    assert extract_adapter_zip(data, "again.zip", root=tmp_path / "uploads") == folder  # same content, same folder


def test_refusals(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    with pytest.raises(GraspError, match="only .zip"):
        extract_adapter_zip(b"x", "adapter.tar.gz", root=root)
    with pytest.raises(GraspError, match="not a zip archive"):
        extract_adapter_zip(b"not a zip at all", "a.zip", root=root)
    with pytest.raises(GraspError, match="over the 0 MB limit"):
        extract_adapter_zip(_zip({"adapter_config.json": b"{}"}), "a.zip", root=root, max_bytes=10)
    with pytest.raises(GraspError, match="escapes the archive"):
        extract_adapter_zip(_zip({"../evil/adapter_config.json": b"{}"}), "a.zip", root=root)
    with pytest.raises(GraspError, match="escapes the archive"):
        extract_adapter_zip(_zip({"/abs/adapter_config.json": b"{}"}), "a.zip", root=root)
    with pytest.raises(GraspError, match="no adapter_config.json"):
        extract_adapter_zip(_zip({"readme.txt": b"hi"}), "a.zip", root=root)
    assert not (tmp_path / "evil").exists()


def test_bombs_floods_and_damaged_archives_are_refused_whole(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    config = {"x/adapter_config.json": b'{"r": 4}'}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x/adapter_config.json", b'{"r": 4}')
        zf.writestr("x/adapter_model.safetensors", bytes(20 * 2**20))  # 20 MB of zeros: ~20 KB compressed
    bomb = buf.getvalue()
    assert len(bomb) < 2**20
    with pytest.raises(GraspError, match="unpacks to more than"):
        extract_adapter_zip(bomb, "bomb.zip", root=root)
    with pytest.raises(GraspError, match="unpacks to more than 1 MB"):
        extract_adapter_zip(bomb, "bomb.zip", root=root, max_unpacked=2**20)
    with pytest.raises(GraspError, match="100001 files"):
        extract_adapter_zip(_zip({**config, **{f"x/{i}": b"" for i in range(100_000)}}), "flood.zip", root=root)
    deflated = io.BytesIO()
    with zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x/adapter_config.json", b'{"r": 4}')
        zf.writestr("x/adapter_model.safetensors", bytes(range(256)) * 4096)
    damaged = bytearray(deflated.getvalue())
    mid = len(damaged) // 3
    damaged[mid : mid + 64] = bytes(64)  # the compressed stream no longer matches its CRC / sizes
    with pytest.raises(GraspError, match="damaged or unsupported zip archive"):
        extract_adapter_zip(bytes(damaged), "damaged.zip", root=root)
    assert not root.exists() or not any(root.iterdir())  # nothing half-written is left behind


def test_old_uploads_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    (root / "old").mkdir(parents=True)
    (root / "new").mkdir()
    os.utime(root / "old", (1.0e9, 1.0e9))
    assert remove_old_uploads(root, now=1.0e9 + UPLOAD_MAX_AGE_S + 1) == [root / "old"]
    assert [p.name for p in root.iterdir()] == ["new"]
