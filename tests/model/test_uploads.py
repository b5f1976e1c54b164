"""Uploaded adapter zips: extracted inside the workspace, loadable; non-zips, big ones and escaping paths refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from app_fixtures import make_tiny_base, plant_adapter

from grasp_core.errors import GraspError
from grasp_core.model.adapters import load_adapter
from grasp_core.model.uploads import extract_adapter_zip


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
