"""Uploaded adapter archives: a .zip of a PEFT folder, checked and extracted inside the workspace."""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import GraspError
from ..io import grasp_home
from .adapters import ADAPTER_CONFIG

MAX_ZIP_BYTES = 200 * 1024 * 1024  # compressed upload; a rank-64 adapter on a 7B base is ~160 MB
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # guards against zip bombs


def uploads_root() -> Path:
    """Where uploaded adapters are extracted: $GRASP_HOME/uploads."""
    path = grasp_home() / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def extract_adapter_zip(
    data: bytes, filename: str, root: str | Path | None = None, max_bytes: int = MAX_ZIP_BYTES
) -> Path:
    """Check an uploaded .zip and extract it to root/<content hash>/; return the folder holding adapter_config.json.

    Refuses non-zips, archives over `max_bytes`, members whose paths escape the folder, and links.
    """
    if not filename.lower().endswith(".zip"):
        raise GraspError(f"upload {filename}: only .zip archives of an adapter folder are accepted")
    if len(data) > max_bytes:
        raise GraspError(
            f"upload {filename}: {len(data) / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit; "
            "give the adapter as a local folder instead"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise GraspError(f"upload {filename}: not a zip archive")
    base = Path(root) if root is not None else uploads_root()
    target = base / hashlib.sha256(data).hexdigest()[:16]  # same upload, same folder: no re-extraction
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = zf.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_UNPACKED_BYTES:
            raise GraspError(
                f"upload {filename}: unpacks to {total / 2**20:.0f} MB, over the {MAX_UNPACKED_BYTES / 2**20:.0f} MB limit"
            )
        for m in members:
            p = PurePosixPath(m.filename.replace("\\", "/"))
            if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
                raise GraspError(f"upload {filename}: member {m.filename!r} escapes the archive folder; refused")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise GraspError(f"upload {filename}: member {m.filename!r} is a symbolic link; refused")
        configs = [PurePosixPath(m.filename) for m in members if PurePosixPath(m.filename).name == ADAPTER_CONFIG]
        if not configs:
            raise GraspError(f"upload {filename}: no {ADAPTER_CONFIG} in the archive; zip the adapter folder itself")
        if len(configs) > 1:
            raise GraspError(f"upload {filename}: {len(configs)} adapter folders in one archive; upload one at a time")
        if not (target / str(configs[0].parent) / ADAPTER_CONFIG).is_file():
            base.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".upload.", dir=base))
            try:
                zf.extractall(tmp)
                if target.exists():
                    shutil.rmtree(target)
                tmp.rename(target)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp)
    return target / str(configs[0].parent)
