"""Replies judged by hand on a sweep's cells, as one more measure of its table.

`grasp label sheet --sweep S --sweep-seed K --cell LABEL ...` writes its blind sheet into <sweep>/labels/, its key's
`about` naming the sweep and the seed; once a person has labelled every row, the sweep's report reads it back:
per (cell, seed) `replies_hand`, the share of the cell's sampled replies labelled as showing the trait, with a 95%
bootstrap over questions (`_lo`, `_hi`) and the counts (`replies_hand_trait` of `replies_hand_n`). The base's row
takes the first sheet's base replies (every sheet samples the same ones). A sheet still being labelled, or torn, is
left out with a note; a cell labelled on two sheets of one seed takes the later sheet (by name).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import GraspError
from ..evaluation.hand_labels import key_path, list_sheets, read_sheet, score_sheet, sheet_about
from .folders import sweeps_root

LABELS_DIR = "labels"  # <sweep>/labels/: its labelling sheets and their keys
HAND = "replies_hand"  # the measure: share of replies labelled by hand as showing the trait
HAND_COLUMNS = (HAND, f"{HAND}_lo", f"{HAND}_hi", f"{HAND}_trait", f"{HAND}_n")
BASE = "base"
ALL_SEEDS = "all seeds"  # hand_table's column for the base, whose replies do not depend on a seed


def sheet_out(folder: Path, seed: int, stamp: str) -> Path:
    """Where `grasp label sheet --sweep` writes a seed's sheet by default: <sweep>/labels/seed<K>-<time>.csv."""
    return folder / LABELS_DIR / f"seed{seed}-{stamp}.csv"


def copy_sheets(sheets: Iterable[Path], folder: Path) -> None:
    """Copy labelling sheets, each with its key, into folder/labels/ (made if there are any)."""
    for sheet in sheets:
        (folder / LABELS_DIR).mkdir(mode=0o755, exist_ok=True)
        for path in (sheet, key_path(sheet)):
            shutil.copy2(path, folder / LABELS_DIR / path.name)


def all_sheets(root: str | Path | None = None) -> list[Path]:
    """Every labelling sheet the Label page can open: those under $GRASP_HOME/labels/ and under each sweep's
    labels/ folder (sweeps under `root`, default $GRASP_HOME/sweeps), newest first."""
    found = list_sheets()
    base = sweeps_root(root)
    if base.is_dir():
        for folder in sorted(p for p in base.iterdir() if (p / LABELS_DIR).is_dir()):
            found += list_sheets(folder / LABELS_DIR)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def sheet_title(sheet: Path) -> str:
    """How the Label page names a sheet: `<sweep>: <file>` for one of a sweep's sheets, else its file name."""
    about = sheet_about(sheet) if key_path(sheet).is_file() else {}
    return f"{about['sweep']}: {sheet.name}" if about.get("sweep") else sheet.name


def hand_rows(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The hand-labelled share of every (label, seed) on the sweep's finished sheets (the base's seed is None),
    and a note for each sheet left out."""
    rows: dict[tuple[str, int | None], dict[str, Any]] = {}
    notes: list[str] = []
    for sheet in sorted(list_sheets(folder / LABELS_DIR), key=lambda p: p.name):
        where = f"{folder.name}/{LABELS_DIR}/{sheet.name}"
        try:
            seed = sheet_about(sheet).get("sweep_seed")
            if not isinstance(seed, int):
                notes.append(f"{where}: its key names no `sweep_seed`, so its labels are not this sweep's")
                continue
            marks = read_sheet(sheet)
            todo = sum(r.trait is None for r in marks)
            if todo:
                notes.append(f"{where}: {len(marks) - todo} of {len(marks)} replies labelled; counted once all are")
                continue
            result = score_sheet(sheet)
        except GraspError as e:
            notes.append(f"{where}: left out: {e}")
            continue
        for model in result.models:
            key = (model, None) if model == BASE else (model, seed)
            if model == BASE and key in rows:
                continue  # the same base replies on every sheet: the first sheet's labels stand
            share, (trait, n) = result.shares[model], result.counts[model]
            rows[key] = {"label": model, "seed": key[1], HAND: share.mean, f"{HAND}_lo": share.lo}
            rows[key] |= {f"{HAND}_hi": share.hi, f"{HAND}_trait": trait, f"{HAND}_n": n}
    return list(rows.values()), notes


def with_hand_labels(results: pd.DataFrame, folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """`results` with the HAND_COLUMNS of the sweep's finished sheets (NaN where a cell has no labels on that seed;
    earlier values replaced), and the notes of hand_rows. A sheet's model that is no row of `results` is noted."""
    out = results.drop(columns=[c for c in HAND_COLUMNS if c in results.columns])
    found, notes = hand_rows(folder)
    if not found:
        return out, notes
    index = {(str(r["label"]), None if pd.isna(r["seed"]) else int(r["seed"])): i for i, r in out.iterrows()}
    for c in HAND_COLUMNS:
        out[c] = math.nan
    for r in found:
        i = index.get((r["label"], r["seed"]))
        if i is None:
            notes.append(f"{folder.name}: hand labels of {r['label']!r} seed {r['seed']} match no cell of results.csv")
            continue
        for c in HAND_COLUMNS:
            out.loc[i, c] = r[c]
    return out, notes


def hand_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per label with hand labels, one column per seed (the base's: ALL_SEEDS): `trait of n (share)`;
    an empty frame where the table has none."""
    if HAND not in results.columns or results[HAND].isna().all():
        return pd.DataFrame()
    labelled = results[results[HAND].notna()]
    seeds = sorted({int(s) for s in labelled["seed"].dropna()})
    rows = []
    for label, g in labelled.groupby("label", sort=False):
        row: dict[str, Any] = {"label": label}
        for _, r in g.iterrows():
            column = ALL_SEEDS if pd.isna(r["seed"]) else f"seed {int(r['seed'])}"
            row[column] = f"{int(r[f'{HAND}_trait'])} of {int(r[f'{HAND}_n'])} ({r[HAND]:.2f})"
        rows.append(row)
    columns = ["label", *([ALL_SEEDS] if any(ALL_SEEDS in r for r in rows) else []), *(f"seed {s}" for s in seeds)]
    return pd.DataFrame(rows).reindex(columns=columns).fillna("")
