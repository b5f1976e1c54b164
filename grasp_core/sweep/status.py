"""A sweep folder's cells by state, for `grasp sweep --status` (reads only: starts, stops and marks nothing)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import GraspError
from ..io import read_json
from .config import SweepConfig
from .executor import live_state, read_records
from .factor_choice import needs_naive_run
from .folders import CELLS_DIR, JOBS_DIR
from .report import load_results
from .run import SweepWork


def sweep_status(folder: Path) -> pd.DataFrame:
    """Each cell of the sweep in `folder` by state: done (its marker, or its row in results.csv: a merged sweep has
    rows but no markers), the state of the job it was given (running,
    failed, a SLURM state ...) with the job's id and log, waiting for its naive run, or `not started`; then the jobs
    that are not cells (kind `job`: the base model's evaluation, the naive runs)."""
    if not (folder / "sweep.json").is_file():
        raise GraspError(f"{folder}: no sweep.json (not a sweep folder, or its sweep never started)")
    config = SweepConfig.from_dict(
        read_json(folder / "sweep.json", what="sweep.json"), where=str(folder / "sweep.json")
    )
    config = SweepConfig.from_dict({**config.to_dict(), "name": folder.name}, where=config.where)
    work = SweepWork(config, folder.parent, None, lambda msg: None)
    records = read_records(folder / JOBS_DIR)
    tabled = _tabled(folder)
    rows = []
    for cell in work.cells:
        key = work.cell_key(cell)
        rec_key = next((k for k in records if k.startswith("cells:") and key in k.split(":", 1)[1].split(",")), None)
        rec = records.get(rec_key) if rec_key else None
        naive = records.get(f"naive:{cell.naive_run}:{cell.seed}") if needs_naive_run(cell) else None
        if work.cell_done(cell) or (frozenset(cell.label.split(" ")), cell.seed) in tabled:
            state = "done"
        elif rec is not None:
            state = live_state(rec, folder / JOBS_DIR)
        elif naive is not None and live_state(naive, folder / JOBS_DIR) not in ("done", "failed"):
            state = f"waiting for its naive run ({live_state(naive, folder / JOBS_DIR)})"
        else:
            state = "not started"
        rows.append(
            {
                "kind": "cell",
                "label": cell.label,
                "seed": str(cell.seed),
                "state": state,
                "job": rec.job_id if rec else "",
                "log": rec.stderr if rec else "",
                "error": (rec.error or "") if rec else "",
            }
        )
    for key, rec in records.items():  # the jobs that are not cells: the base evaluation and the naive runs
        if not key.startswith("cells:"):
            rows.append(
                {
                    "kind": "job",
                    "label": rec.label,
                    "seed": "",
                    "state": live_state(rec, folder / JOBS_DIR),
                    "job": rec.job_id,
                    "log": rec.stderr,
                    "error": rec.error or "",
                }
            )
    return pd.DataFrame(rows)


def _tabled(folder: Path) -> set[tuple[frozenset[str], int]]:
    """(label, seed) of every cell row of results.csv in a folder without cell markers (merged or bundled: its rows
    are its record); none elsewhere, where the markers, keyed by everything a cell was computed from, decide."""
    if (folder / CELLS_DIR).is_dir() or not (folder / "results.csv").is_file():
        return set()
    table = load_results(folder)
    cells = table[table["seed"].notna()]
    # labels as sets of words: a merged sweep.json keeps an entry's keys sorted, the labels follow the YAML's order
    return {
        (frozenset(str(lab).split(" ")), int(seed)) for lab, seed in zip(cells["label"], cells["seed"], strict=True)
    }
