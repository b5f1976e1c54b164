"""Named factor sets picked by hand: a subset of an adapter's candidate factors, saved under
$GRASP_HOME/factor_sets/<name>.safetensors (a factors file, so `grasp train --factors` reads it as is).

A set keeps the hash of the adapter it was picked from; when that adapter changes the set is stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, GraspError
from ..io import grasp_home
from ..procs import file_lock
from .factors import FactorSet, cosine_matrix, load_factors, save_factors

SUFFIX = ".safetensors"
LOCK = ".lock"  # held while a set is checked and written
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class FactorSetSpec:
    """What to save: a name and the ids of the chosen candidate factors, in order."""

    name: str
    factor_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.factor_ids, list):
            object.__setattr__(self, "factor_ids", tuple(self.factor_ids))
        if not isinstance(self.name, str) or not _NAME.match(self.name) or self.name.endswith(SUFFIX):
            raise ConfigError(
                f"`name` must be 1-64 letters, digits, '.', '_' or '-' (not starting with a symbol), got {self.name!r}"
            )
        if not self.factor_ids:
            raise ConfigError(f"`factor_ids` must name at least one factor, got {self.factor_ids!r}")
        if len(set(self.factor_ids)) != len(self.factor_ids):
            raise ConfigError(f"`factor_ids` has duplicates, got {self.factor_ids!r}")


@dataclass
class NamedFactorSet:
    """A saved set: its name, file and the factors (with the adapter hash they came from)."""

    name: str
    path: Path
    factors: FactorSet

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.factors.factors]

    @property
    def adapter_hash(self) -> str:
        return self.factors.adapter_hash

    def matches(self, adapter_hash: str) -> bool:
        """True when the set was picked from the adapter with this hash."""
        return self.factors.adapter_hash == adapter_hash


def newest_set_for(sets: list[NamedFactorSet], adapter: str | Path) -> NamedFactorSet | None:
    """The most recently made of `sets` that was picked from the adapter folder `adapter` (the set a form should
    start from), else None."""
    mine = sorted((s for s in sets if Path(s.factors.adapter) == Path(adapter)), key=lambda s: s.factors.created)
    return mine[-1] if mine else None


def _sets_folder(root: str | Path | None = None) -> Path:
    """Where the saved sets live: `root`, else $GRASP_HOME/factor_sets (not made here)."""
    return Path(root) if root is not None else grasp_home() / "factor_sets"


def factor_sets_root(root: str | Path | None = None) -> Path:
    """The folder that holds the saved sets (_sets_folder), made when missing."""
    path = _sets_folder(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def saved_set_size(path: str | Path) -> int | None:
    """How many factors the file holds where it is a set saved by hand (a file in $GRASP_HOME/factor_sets, as the
    Select page and `grasp evidence --save-set` write them), else None: such a set is meant to be used whole."""
    try:
        inside = Path(path).resolve().parent == _sets_folder().resolve()
    except OSError:
        return None
    return len(load_factors(path)) if inside and Path(path).is_file() else None


def check_set_name(name: str) -> str:
    """A factor set's name as a file can carry it, or a GraspError saying what names are allowed."""
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(SUFFIX):
        raise GraspError(
            f"factor set name {name!r} is not valid: 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit"
        )
    return name


def _path(name: str, root: str | Path | None) -> Path:
    return factor_sets_root(root) / f"{check_set_name(name)}{SUFFIX}"


def save_factor_set(
    spec: FactorSetSpec, source: FactorSet, root: str | Path | None = None, overwrite: bool = False
) -> NamedFactorSet:
    """Save the chosen factors of `source` as the named set, atomically; refuses to overwrite unless asked. The check
    and the write happen under one lock of the sets folder, so of two saves of a new name one wins and the other is
    refused (neither is lost silently)."""
    path = _path(spec.name, root)
    known = {f.id: f for f in source.factors}
    unknown = [fid for fid in spec.factor_ids if fid not in known]
    if unknown:
        raise GraspError(f"factor set {spec.name!r}: no factor {unknown[0]!r} among the adapter's candidates")
    chosen = FactorSet(
        factors=[known[fid] for fid in spec.factor_ids],
        base=source.base,
        adapter=source.adapter,
        adapter_hash=source.adapter_hash,
        d_model=source.d_model,
        n_layers=source.n_layers,
        global_sigma=source.global_sigma,
    )
    with file_lock(path.parent / LOCK):
        if path.exists() and not overwrite:
            raise GraspError(f"factor set {spec.name!r} already exists ({path}); choose another name or overwrite it")
        save_factors(chosen, path)
    return NamedFactorSet(spec.name, path, chosen)


def load_factor_set(name: str, root: str | Path | None = None) -> NamedFactorSet:
    """Read one saved set by name."""
    path = _path(name, root)
    if not path.is_file():
        raise GraspError(f"no factor set {name!r} in {path.parent}")
    return NamedFactorSet(name, path, load_factors(path))


def list_factor_sets(root: str | Path | None = None) -> list[NamedFactorSet]:
    """Every readable saved set, by name; unreadable files are skipped (they are named by `load_factor_set`)."""
    out = []
    for path in sorted(factor_sets_root(root).glob(f"*{SUFFIX}")):
        name = path.name[: -len(SUFFIX)]
        if path.name.startswith(".") or not _NAME.match(name):
            continue  # temp files of an atomic write in progress
        try:
            out.append(NamedFactorSet(name, path, load_factors(path)))
        except GraspError:
            continue
    return out


def delete_factor_set(name: str, root: str | Path | None = None) -> None:
    """Remove a saved set."""
    path = _path(name, root)
    if not path.is_file():
        raise GraspError(f"no factor set {name!r} in {path.parent}")
    path.unlink()


def check_factor_set(named: NamedFactorSet, adapter_hash: str) -> None:
    """Raise GraspError when the set was picked from a different (or since changed) adapter."""
    if not named.matches(adapter_hash):
        raise GraspError(
            f"factor set {named.name!r} ({named.path}) was picked from adapter {named.factors.adapter} with hash "
            f"{named.adapter_hash}, but the loaded adapter has hash {adapter_hash}: the set is stale, pick it again"
        )


def set_cosines(named: NamedFactorSet) -> list[list[float]]:
    """Signed cosines (k, k) between the set's factors."""
    return cosine_matrix(named.factors.matrix()).tolist()
