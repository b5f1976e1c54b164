"""Seeds of one sweep made apart, joined into one sweep folder.

A sweep's seeds are independent (each cell is compared with the naive LoRA of its own seed), so seeds run on two
machines, or in two sessions whose GRASP_HOME did not survive between them, can be reported together: `grasp sweep
... --seeds 2 --out ELSEWHERE`, then `grasp merge FOLDER_A FOLDER_B --into NAME`. The folders must be the same sweep
(sweep.json equal but for its seeds), made on the organism's current files (provenance.json), with no seed in two
folders and base-model rows that agree; the merged folder gets the union of the rows, per-item scores averaged
with each folder's seeds as weights, every part's labelling sheets (labels/, with their keys) and not-formed cells,
every invocation of every folder in its provenance, and its report rendered again. Everything is checked before
anything is written, and the folder appears whole or not at all.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import GraspError
from ..evaluation.hand_labels import list_sheets, sheet_about
from ..io import read_json, write_json, write_jsonl_atomic, write_text
from .config import current_names, expand_entry
from .folders import EXAMPLES, NOT_FORMED
from .labelled_replies import LABELS_DIR, copy_sheets
from .provenance import PROVENANCE, merged_provenance
from .report import SweepReport, load_results, read_examples, read_table, rerender, sweep_organism

IDENTITY_EXEMPT = ("seeds", "name", "executor", "organism")  # what may differ between the parts of one sweep
BASE_RTOL, BASE_ATOL = 1e-4, 1e-6  # base rows made by the same code and data agree far closer than this


@dataclass(frozen=True)
class _Part:
    folder: Path
    config: dict[str, Any]
    results: pd.DataFrame
    items: pd.DataFrame | None
    provenance: dict[str, Any]
    seeds: tuple[int, ...]


def merge_sweeps(
    sources: Sequence[str | Path], dest: str | Path, figures: tuple[str, ...] = (".html", ".png")
) -> SweepReport:
    """Join the seeds of the sweep folders `sources` into a new sweep folder `dest` and render its report."""
    dest = Path(dest)
    if len(sources) < 2:
        raise GraspError("merge needs at least two sweep folders")
    if dest.exists() and any(dest.iterdir()):
        raise GraspError(f"{dest}: already exists and is not empty (a merge writes a new folder)")
    parts = [_read(Path(s)) for s in sources]
    _check_same_sweep(parts)
    _check_disjoint_seeds(parts)
    base = _check_base_rows(parts)
    sheets = _sheets(parts)

    results = pd.concat([base, *(p.results[p.results["label"] != "base"] for p in parts)], ignore_index=True)
    results = results.sort_values("seed", kind="stable", na_position="first").reset_index(drop=True)
    config = {**parts[0].config, "name": dest.name, "seeds": sorted(s for p in parts for s in p.seeds)}
    provenance = merged_provenance([(str(p.folder), list(p.seeds), p.provenance) for p in parts])

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        staged = tmp / dest.name  # the report names its folder: it is rendered under the final name
        staged.mkdir(mode=0o755)
        write_text(staged / "results.csv", results.to_csv(index=False))
        if all(p.items is not None for p in parts):
            write_text(staged / "items.csv", _merged_items(parts).to_csv(index=False))
        examples = [e for i, p in enumerate(parts) for e in read_examples(p.folder) if e["label"] != "base" or i == 0]
        if examples:  # each part's seeds' example replies; the base model's from the first part
            write_jsonl_atomic(staged / EXAMPLES, examples)
        write_json(staged / "sweep.json", config)
        write_json(staged / PROVENANCE, provenance)
        not_formed = [c for p in parts for c in _not_formed(p)]
        if not_formed:
            write_json(staged / NOT_FORMED, {"cells": not_formed})
        copy_sheets(sheets, staged)  # the report reads the hand labels back from them
        report = rerender(staged, figures=figures)
        if dest.exists():
            dest.rmdir()  # empty, checked above
        staged.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return SweepReport(
        dest, report.results, report.summary, [dest / f.name for f in report.figures], report.done, report.total
    )


def _read(folder: Path) -> _Part:
    if not folder.is_dir():
        raise GraspError(f"{folder}: no such sweep folder")
    for name in ("sweep.json", PROVENANCE):
        if not (folder / name).is_file():
            raise GraspError(f"{folder}: no {name}, so what made its numbers is unknown; it cannot be merged")
    config = read_json(folder / "sweep.json", what="sweep.json")
    if not isinstance(config, dict):
        raise GraspError(f"{folder / 'sweep.json'}: not a sweep config (a JSON object)")
    config = current_names(config, str(folder / "sweep.json"))  # parts made before a rename still match
    results = load_results(folder)
    if not (results["label"] == "base").any():
        raise GraspError(f"{folder / 'results.csv'}: no `base` row")
    items = None
    if (folder / "items.csv").is_file():
        items = read_table(folder / "items.csv")
        missing = [c for c in ("label", "measure", "item", "score") if c not in items.columns]
        if missing:
            raise GraspError(f"{folder / 'items.csv'}: no column {', '.join(f'`{c}`' for c in missing)}")
    _check_rows(folder, config, results)
    seeds = tuple(sorted({int(s) for s in results["seed"].dropna()}))
    return _Part(folder, config, results, items, read_json(folder / PROVENANCE, what=PROVENANCE), seeds)


def _check_rows(folder: Path, config: dict[str, Any], results: pd.DataFrame) -> None:
    """Every row of a part is a cell of its own sweep.json, at one of its seeds (the base row has no seed)."""
    try:
        # as sets of words: sweep.json keeps an entry's keys sorted, the labels were made in the YAML's order
        labels = {frozenset(label.split(" ")) for e in config["methods"] for label, _v, _o in expand_entry(e)}
        seeds = {int(s) for s in config["seeds"]}
    except (KeyError, TypeError, ValueError) as e:
        raise GraspError(f"{folder / 'sweep.json'}: not a sweep config ({type(e).__name__}: {e})") from None
    for i, row in enumerate(results.itertuples(index=False), start=2):
        label, seed = str(row.label), row.seed
        if label == "base":
            continue
        if frozenset(label.split(" ")) not in labels:
            raise GraspError(f"{folder / 'results.csv'}, line {i}: `{label}` is not a cell of its sweep.json")
        if pd.isna(seed) or int(seed) not in seeds:
            raise GraspError(f"{folder / 'results.csv'}, line {i}: seed {seed} is not one of its sweep.json's seeds")


def _check_same_sweep(parts: list[_Part]) -> None:
    """One sweep: the same config but for its seeds, the same organism on its current files, the same columns."""
    first = parts[0]
    organism = sweep_organism(first.config.get("organism"), first.folder / "sweep.json")
    current = organism.fingerprint()
    for p in parts:
        name = sweep_organism(p.config.get("organism"), p.folder / "sweep.json").name
        if name != organism.name:
            raise GraspError(f"{p.folder / 'sweep.json'}: organism {name}, but {first.folder} is on {organism.name}")
        made = p.provenance.get("organism_fingerprint")
        if made != current:
            raise GraspError(
                f"{p.folder / PROVENANCE}: made with organism files {made!r}, but {organism.name}'s "
                f"files are now {current!r}: its seeds are not comparable with new ones"
            )
        for key in sorted(set(first.config) | set(p.config)):
            if key not in IDENTITY_EXEMPT and first.config.get(key) != p.config.get(key):
                raise GraspError(
                    f"{p.folder / 'sweep.json'}: `{key}` differs from {first.folder / 'sweep.json'} "
                    "(only the seeds may differ between the parts of one sweep)"
                )
        if set(p.results.columns) != set(first.results.columns):
            odd = sorted(set(p.results.columns) ^ set(first.results.columns))
            raise GraspError(
                f"{p.folder / 'results.csv'}: columns differ from {first.folder / 'results.csv'} "
                f"({', '.join(f'`{c}`' for c in odd)})"
            )


def _check_disjoint_seeds(parts: list[_Part]) -> None:
    seen: dict[int, Path] = {}
    for p in parts:
        for s in p.seeds:
            if s in seen:
                raise GraspError(f"seed {s} is in both {seen[s]} and {p.folder}: a seed can come from one folder only")
            seen[s] = p.folder


def _check_base_rows(parts: list[_Part]) -> pd.DataFrame:
    """The first folder's base row, once every folder's base row agrees with it on every number."""
    first = parts[0].results[parts[0].results["label"] == "base"].iloc[:1]
    for p in parts[1:]:
        row = p.results[p.results["label"] == "base"].iloc[0]
        for col in first.select_dtypes("number").columns:
            a, b = float(first[col].iloc[0]), float(row[col])
            if not np.isclose(a, b, rtol=BASE_RTOL, atol=BASE_ATOL, equal_nan=True):
                raise GraspError(
                    f"{p.folder / 'results.csv'}: the base model's `{col}` is {b}, but {a} in "
                    f"{parts[0].folder / 'results.csv'} (made by other code, data or hardware?)"
                )
    return first


def _sheets(parts: list[_Part]) -> list[Path]:
    """Every part's labelling sheets, each labelling a seed of its own part, no two with one file name."""
    seen: dict[str, Path] = {}
    for p in parts:
        for sheet in list_sheets(p.folder / LABELS_DIR):
            seed = sheet_about(sheet).get("sweep_seed")
            if seed not in p.seeds:
                raise GraspError(f"{sheet}: labels seed {seed}, which is not one of {p.folder}'s seeds {list(p.seeds)}")
            if sheet.name in seen:
                raise GraspError(f"{sheet}: {seen[sheet.name]} has the same name; rename one (and its key) first")
            seen[sheet.name] = sheet
    return list(seen.values())


def _not_formed(part: _Part) -> list[dict[str, Any]]:
    """The cells a part's last pass could not form (its not_formed.json), on its own seeds."""
    path = part.folder / NOT_FORMED
    cells = read_json(path, what=NOT_FORMED).get("cells", []) if path.is_file() else []
    return [dict(c) for c in cells if isinstance(c, dict) and c.get("seed") in part.seeds]


def _merged_items(parts: list[_Part]) -> pd.DataFrame:
    """Per (label, measure, item): the mean score over all seeds, each folder's mean weighted by its number of
    seeds of that label; the base model's items (no seed) from the first folder."""
    frames = []
    for i, p in enumerate(parts):
        items = p.items
        assert items is not None
        counts = p.results[p.results["seed"].notna()].groupby("label")["seed"].nunique()
        weight = items["label"].map(counts).astype(float)
        is_base = items["label"] == "base"
        weight[is_base] = 1.0 if i == 0 else 0.0
        frames.append(items.assign(_w=weight.fillna(0.0)))
    both = pd.concat(frames, ignore_index=True)
    both = both[both["_w"] > 0].assign(_ws=lambda d: d["score"] * d["_w"])
    keys = ["label", "measure", "item"]
    sums = both.groupby(keys, sort=False, as_index=False)[["_ws", "_w"]].sum()
    out = sums.assign(score=sums["_ws"] / sums["_w"])[[*keys, "score"]]
    return out.assign(prefers_second=out["score"] >= 0.5)
