"""Where a sweep's numbers come from: provenance.json in the sweep folder (every invocation's command, commit, date,
machine and wall time, appended, since a resumable sweep may take several sessions), and the bundled results
(finished sweeps' small outputs committed under assets/organisms/<organism>/results/<sweep>/, shown on a fresh
install without computing anything, refused as stale when their organism's files have changed since)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from ..errors import GraspError
from ..evaluation.hand_labels import list_sheets
from ..evaluation.organisms import DEMO_ROOT, load_organism
from ..io import read_json, write_json
from .folders import EXAMPLES, NOT_FORMED
from .labelled_replies import LABELS_DIR, copy_sheets

PROVENANCE = "provenance.json"
BUNDLED_FILES = (
    "results.csv",
    "items.csv",
    "summary.csv",
    "report.md",
    "tradeoff.png",
    "sweep.json",
    EXAMPLES,  # what the models say: greedy replies to the organism's unrelated questions
    NOT_FORMED,
    PROVENANCE,
)
BUNDLED_DIR = "results"  # <organism folder>/results/<sweep name>/


def machine() -> str:
    """This machine in words: CPU count, platform, torch build, the accelerator if any."""
    gpu = f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    return f"{os.cpu_count()}-core {platform.machine()} {platform.system()}, torch {torch.__version__}{gpu}"


def commit() -> str:
    """The git commit of the grasp_core checkout (with `-dirty` when it has uncommitted changes), or `unknown`."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty else "")


def record_invocation(
    folder: Path,
    organism: str,
    fingerprint: str,
    started: float,
    cells_done: int,
    cells_total: int,
    command: list[str] | None = None,
    training_wall_s: float | None = None,
) -> dict[str, Any]:
    """Record this invocation of a sweep in folder/provenance.json (atomically) and return the whole record.

    An invocation is its start time and command: called again by the same invocation (the sweep records itself
    at its start and after every cell, so one killed mid-way still counts its wall time up to its last cell), its
    entry is updated in place, keeping the commit read when it started; otherwise a new entry is appended.
    `training_wall_s`: the summed wall time of the sweep's training runs as their own status files record it
    (started to finished), whichever invocation trained them; a resumed or cached sweep keeps it truthful (without
    it, the recorded value stays)."""
    path = folder / PROVENANCE
    old = read_json(path, what=PROVENANCE) if path.is_file() else {}
    now = datetime.now(timezone.utc)
    runs = list(old.get("invocations", [])) if isinstance(old.get("invocations"), list) else []
    entry = {
        "command": " ".join(command if command is not None else [Path(sys.argv[0]).name, *sys.argv[1:]]),
        "commit": commit(),
        "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "started_at": started,
        "ended": now.isoformat(timespec="seconds"),
        "wall_s": round(now.timestamp() - started, 1),
        "machine": machine(),
        "cells_done": cells_done,
        "cells_total": cells_total,
    }
    same = (
        runs
        and isinstance(runs[-1], dict)
        and runs[-1].get("started_at") == started
        and runs[-1].get("command") == entry["command"]
    )
    if same:  # the code that runs is the one imported at the start, whatever the checkout has moved to since
        entry["commit"] = runs[-1].get("commit", entry["commit"])
        runs[-1] = entry
    else:
        runs.append(entry)
    record = {
        "organism": organism,
        "organism_fingerprint": fingerprint,
        "invocations": runs,
        "wall_s_total": round(sum(float(r.get("wall_s", 0)) for r in runs), 1),
    }
    if isinstance(old.get("merged_from"), list):  # a merged sweep run again keeps saying what it was joined from
        record["merged_from"] = old["merged_from"]
    if training_wall_s is not None:
        record["training_wall_s"] = round(training_wall_s, 1)
    elif isinstance(old.get("training_wall_s"), int | float):
        record["training_wall_s"] = old["training_wall_s"]
    write_json(path, record)
    return record


def merged_provenance(parts: list[tuple[str, list[int], dict[str, Any]]]) -> dict[str, Any]:
    """The provenance of a sweep joined from folders (each: where it was, its seeds, its provenance record): every
    invocation of every part in order of start, the wall and training times summed (training only where every part
    recorded it), and `merged_from` naming each part with its seeds."""
    runs = [r for _, _, rec in parts for r in rec.get("invocations", []) if isinstance(r, dict)]
    runs.sort(key=lambda r: float(r.get("started_at", 0)))
    first = parts[0][2]
    record: dict[str, Any] = {
        "organism": first.get("organism"),
        "organism_fingerprint": first.get("organism_fingerprint"),
        "invocations": runs,
        "wall_s_total": round(sum(float(r.get("wall_s", 0)) for r in runs), 1),
        "merged_from": [{"folder": folder, "seeds": seeds} for folder, seeds, _ in parts],
    }
    trained = [t for _, _, rec in parts if isinstance(t := rec.get("training_wall_s"), int | float)]
    if len(trained) == len(parts):
        record["training_wall_s"] = round(float(sum(trained)), 1)
    return record


def provenance_line(folder: str | Path) -> str:
    """One line for a caption: the last invocation's command, commit, date and machine, the total wall time, and
    whether the folder was merged from others; says so plainly where the folder has no provenance.json. `folder` may
    also be a file in it (its results.csv)."""
    folder = Path(folder)
    folder = folder.parent if folder.is_file() else folder
    path = folder / PROVENANCE
    if not path.is_file():
        return f"{folder.name}: no {PROVENANCE} (where and how these numbers were made is not recorded)"
    rec = read_json(path, what=PROVENANCE)
    runs = rec.get("invocations") or []
    if not isinstance(runs, list) or not runs or not isinstance(runs[-1], dict):
        raise GraspError(f"{path}: `invocations` must be a non-empty list of objects")
    last = runs[-1]
    hours = float(rec.get("wall_s_total", 0)) / 3600
    trained = rec.get("training_wall_s")
    return (
        f"`{last.get('command', '?')}` at commit {str(last.get('commit', '?'))[:12]}, finished "
        f"{last.get('ended', '?')} on {last.get('machine', '?')}; {hours:.1f} h of wall time over "
        f"{len(runs)} recorded invocation(s)"
        + (f", {float(trained) / 3600:.1f} h of training in its runs" if isinstance(trained, int | float) else "")
        + (f", merged from {len(rec['merged_from'])} sweep folders" if rec.get("merged_from") else "")
    )


@dataclass(frozen=True)
class BundledResults:
    """One committed sweep result: its folder, its organism, and why it is stale (None where it is current)."""

    name: str
    folder: Path
    organism: str
    stale: str | None


def bundled_results(root: Path = DEMO_ROOT) -> list[BundledResults]:
    """Every committed sweep result under <organism>/results/<sweep>/, each checked against its organism's current
    files (a result whose organism changed since is marked stale, with the reason)."""
    out = []
    for folder in sorted(root.glob(f"*/{BUNDLED_DIR}/*/results.csv")):
        folder = folder.parent
        organism = folder.parent.parent.name
        out.append(
            BundledResults(f"{organism}/{folder.name} (bundled)", folder, organism, _stale(folder, organism, root))
        )
    return out


def _stale(folder: Path, organism: str, root: Path = DEMO_ROOT) -> str | None:
    path = folder / PROVENANCE
    if not path.is_file():
        return f"{path}: missing, so these results cannot be tied to the organism's files"
    try:
        rec = read_json(path, what=PROVENANCE)
        current = load_organism(organism, root).fingerprint()
    except GraspError as e:
        return str(e)
    if rec.get("organism_fingerprint") != current:
        return (
            f"{path}: made with organism files {rec.get('organism_fingerprint')!r}, but {organism}'s files are "
            f"now {current!r}: rerun the sweep and bundle it again"
        )
    return None


def check_bundle(sweep_folder: Path, root: Path = DEMO_ROOT) -> str:
    """The organism of a sweep folder that can be bundled: it has results.csv and a provenance.json whose organism
    files are the current ones; raises a GraspError naming the file otherwise."""
    if not (sweep_folder / "results.csv").is_file():
        raise GraspError(f"{sweep_folder}: no results.csv to bundle")
    if not (sweep_folder / PROVENANCE).is_file():
        raise GraspError(f"{sweep_folder}: no {PROVENANCE}; rerun `grasp sweep` (cached cells are not retrained)")
    organism = str(read_json(sweep_folder / PROVENANCE, what=PROVENANCE).get("organism", ""))
    stale = _stale(sweep_folder, organism, root)
    if stale:
        raise GraspError(stale)
    return organism


def bundle(sweep_folder: Path, root: Path = DEMO_ROOT) -> Path:
    """Copy a finished sweep's small outputs into <organism>/results/<sweep name>/ (copy_outputs); refuses a sweep
    without provenance or whose organism has changed."""
    organism = check_bundle(sweep_folder, root)
    return copy_outputs(sweep_folder, root / organism / BUNDLED_DIR / sweep_folder.name)


def export(sweep_folder: Path, into: Path) -> Path:
    """Copy a sweep's small outputs into into/<sweep name>/ (copy_outputs): a folder `grasp merge` takes as a part,
    small enough to keep where a GRASP_HOME does not survive (a repository, another machine). Its organism's files
    are checked when it is merged."""
    for name in ("results.csv", "sweep.json", PROVENANCE):
        if not (sweep_folder / name).is_file():
            raise GraspError(
                f"{sweep_folder}: no {name} to export; rerun `grasp sweep` (cached cells are not retrained)"
            )
    return copy_outputs(sweep_folder, into / sweep_folder.name)


def copy_outputs(sweep_folder: Path, dest: Path) -> Path:
    """Copy a sweep's small outputs (BUNDLED_FILES present, and its labelling sheets with their keys) to `dest`,
    replacing any earlier copy atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    old = dest.with_name(f".{dest.name}.old")
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; this is a shared asset folder
        for name in BUNDLED_FILES:
            if (sweep_folder / name).is_file():
                shutil.copy2(sweep_folder / name, tmp / name)
        copy_sheets(list_sheets(sweep_folder / LABELS_DIR), tmp)  # the labelled replies results.csv was given
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            dest.rename(old)  # the earlier copy steps aside, the new one takes its name, then the old one goes
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return dest
