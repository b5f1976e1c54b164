"""Where a sweep lives: the sweeps root, a sweep's folder (its name, or organism + a hash of what it runs), and the
folders inside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..io import grasp_home, inside, text_hash
from ..training.methods import OLD_METHOD_NAMES
from .config import ENTRY_RENAMED, SWEEP_RENAMED, SweepConfig

CELLS_DIR = "cells"  # a marker per finished cell: <sweep>/cells/<cell key>.json


BASE_MARK = "base.json"


EXAMPLES = "examples.jsonl"  # a sweep's example replies (label, seed, id, prompt, reply)
NOT_FORMED = "not_formed.json"  # the cells a sweep's last pass could not form: label, seed, reason


JOBS_DIR = "jobs"  # an executor's files: jobs.json, submitit's pickles, scripts and logs


def sweeps_root(root: str | Path | None = None) -> Path:
    """The folder that holds the sweeps: `root`, else GRASP_HOME/sweeps."""
    return Path(root) if root is not None else grasp_home() / "sweeps"


def find_sweep(name: str, root: str | Path | None = None) -> Path:
    """A sweep folder given as a path, or by name under the sweeps folder."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        folder = inside(sweeps_root(root), name)
    if not folder.is_dir():
        raise GraspError(f"{name}: no such sweep folder (nor under {sweeps_root(root)})")
    return folder


def sweep_dir(config: SweepConfig, root: str | Path | None = None) -> Path:
    """The folder of a sweep: its name, or organism + a hash of the config."""
    base = sweeps_root(root)
    name = config.name or f"{Path(config.organism).name}-{text_hash(repr(_identity(config)), length=8)}"
    return inside(base, name)


def _identity(config: SweepConfig) -> dict[str, Any]:
    """What an unnamed sweep's folder is hashed from: the config without its executor (where it runs is not what it
    is), spelled as before `naive_runs` / `naive_run` / method `naive` were renamed, so a sweep begun then resumes in its folder."""
    old = {new: old for old, new in SWEEP_RENAMED.items()} | {new: old for old, new in ENTRY_RENAMED.items()}
    old_method = {new: old for old, new in OLD_METHOD_NAMES.items()}
    d = {old.get(k, k): v for k, v in config.to_dict().items() if k != "executor"}
    d["methods"] = [
        {old.get(k, k): old_method.get(v, v) if k == "method" else v for k, v in entry.items()}
        for entry in d["methods"]
    ]
    return d
