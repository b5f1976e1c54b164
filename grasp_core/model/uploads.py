"""Uploaded adapter archives: a .zip of a PEFT folder, checked and extracted inside the workspace.

Bounds (README, "Guarantees"): the compressed upload (MAX_ZIP_BYTES), the bytes actually written while extracting
(MAX_UNPACKED_BYTES, counted as they stream, so a header that lies about sizes cannot get past it), the number of
members (MAX_MEMBERS) and the unpacked / compressed ratio (MAX_RATIO). Extraction goes to a temporary folder that
replaces the target only when every member is in; uploads older than UPLOAD_MAX_AGE_S are removed on the next one.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..errors import GraspError
from ..io import grasp_home
from .adapters import ADAPTER_CONFIG

MAX_ZIP_BYTES = 200 * 1024 * 1024  # compressed upload; a rank-64 adapter on a 7B base is ~160 MB
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # bytes written while extracting, all members together
MAX_MEMBERS = 64  # an adapter folder holds a handful of files (config, weights, README, tokenizer files)
MAX_RATIO = 50.0  # unpacked / compressed; float weights compress ~1.1x, a zip bomb 1000x and more
UPLOAD_MAX_AGE_S = 7 * 24 * 3600  # extracted uploads older than a week are removed
_CHUNK = 1 << 20


def uploads_root() -> Path:
    """Where uploaded adapters are extracted: $GRASP_HOME/uploads."""
    path = grasp_home() / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def extract_adapter_zip(
    data: bytes,
    filename: str,
    root: str | Path | None = None,
    max_bytes: int = MAX_ZIP_BYTES,
    max_unpacked: int = MAX_UNPACKED_BYTES,
) -> Path:
    """Check an uploaded .zip and extract it to root/<content hash>/; return the folder holding adapter_config.json.

    Refuses non-zips, archives over `max_bytes`, more than MAX_MEMBERS members, members whose paths escape the
    folder, links, more than `max_unpacked` bytes written or MAX_RATIO times the upload, and damaged archives.
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
    remove_old_uploads(base)
    target = base / hashlib.sha256(data).hexdigest()[:16]  # same upload, same folder: no re-extraction
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            _check_members(members, filename)
            config = next(
                PurePosixPath(m.filename) for m in members if PurePosixPath(m.filename).name == ADAPTER_CONFIG
            )
            if (target / str(config.parent) / ADAPTER_CONFIG).is_file():
                os.utime(target)  # in use again: not old
            else:
                limit = min(max_unpacked, int(MAX_RATIO * max(len(data), 1)))
                _extract(zf, members, base, target, limit, filename)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as e:
        raise GraspError(f"upload {filename}: damaged or unsupported zip archive ({e})") from None
    return target / str(config.parent)


def _check_members(members: list[zipfile.ZipInfo], filename: str) -> None:
    if len(members) > MAX_MEMBERS:
        raise GraspError(f"upload {filename}: {len(members)} files, over the {MAX_MEMBERS} an adapter folder needs")
    for m in members:
        p = PurePosixPath(m.filename.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
            raise GraspError(f"upload {filename}: member {m.filename!r} escapes the archive folder; refused")
        if (m.external_attr >> 16) & 0o170000 == 0o120000:
            raise GraspError(f"upload {filename}: member {m.filename!r} is a symbolic link; refused")
    configs = [m for m in members if PurePosixPath(m.filename).name == ADAPTER_CONFIG]
    if not configs:
        raise GraspError(f"upload {filename}: no {ADAPTER_CONFIG} in the archive; zip the adapter folder itself")
    if len(configs) > 1:
        raise GraspError(f"upload {filename}: {len(configs)} adapter folders in one archive; upload one at a time")


def _extract(
    zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], base: Path, target: Path, limit: int, filename: str
) -> None:
    """Stream every member into a temporary folder, counting the bytes written against `limit` (not the sizes the
    archive declares), then put the folder in place of `target`."""
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".upload.", dir=base))
    written = 0
    try:
        for m in members:
            dest = tmp / m.filename.replace("\\", "/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, dest.open("wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > limit:
                        raise GraspError(
                            f"upload {filename}: unpacks to more than {limit / 2**20:.0f} MB (the limit is "
                            f"{MAX_UNPACKED_BYTES / 2**20:.0f} MB and {MAX_RATIO:g}x the upload); refused"
                        )
                    out.write(chunk)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def remove_old_uploads(root: Path, max_age_s: float = UPLOAD_MAX_AGE_S, now: float | None = None) -> list[Path]:
    """Remove extracted uploads (and leftover temporary folders) under `root` older than `max_age_s`; returns them."""
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    gone = []
    for p in root.iterdir():
        try:
            old = p.is_dir() and not p.is_symlink() and now - p.stat().st_mtime > max_age_s
        except OSError:
            continue
        if old:
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone
