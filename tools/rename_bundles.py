"""Bring the bundled sweep results to the current names (issue 26, session of 2026-12-06), and record it.

The renames touch names only, never numbers: the naive LoRA's method and label `lora` -> `naive`; a measure's change
from the base `<m>_shift` -> `<m>_change` (political's `lean_shift`, also organism.json's `primary`); the sweep
keys `probes` / `probe` -> `naive_runs` / `naive_run`. For every folder under
grasp_core/assets/organisms/*/results/ this rewrites results.csv and items.csv through `current_table` (the
same reader old sweep folders go through) keeping every number's text, sweep.json through `current_names`,
re-renders summary.csv, report.md and tradeoff.png with `rerender` (what `grasp report` does), and, where the
organism's fingerprint moved only because organism.json's names changed, records the old fingerprint and the
rename in provenance.json's `renames` before taking the new one. Running it again changes nothing.

    .venv/bin/python tools/rename_bundles.py
"""

from __future__ import annotations

import csv
import io
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

from grasp_core.evaluation.organisms import DEMO_ROOT, load_organism
from grasp_core.io import read_json, write_json, write_text
from grasp_core.sweep.config import current_names
from grasp_core.sweep.provenance import PROVENANCE
from grasp_core.sweep.report import current_table, rerender

WHAT = (
    "names only (issue 26): the naive LoRA's method and label lora -> naive; the change-from-base columns "
    "<m>_shift -> <m>_change; sweep keys probes/probe -> naive_runs/naive_run; summary.csv, report.md and "
    "tradeoff.png re-rendered from the renamed tables (tools/rename_bundles.py)"
)
# The organism fingerprints before organism.json's `primary` was renamed (no eval, probe or training file changed).
RENAMED_MANIFESTS = {"political": ("088e8b97f9ec5ed4", "organism.json: primary lean_shift -> lean_change")}


def _rename_csv(path: Path) -> bool:
    """Rewrite a CSV's header and label cells under current names, keeping every other cell's text as it is."""
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    table = current_table(pd.read_csv(path, keep_default_na=False, dtype=str))
    new_rows = [list(table.columns)] + [[str(v) for v in row] for row in table.itertuples(index=False, name=None)]
    if new_rows == rows:
        return False
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(new_rows)
    write_text(path, out.getvalue())
    return True


def main() -> int:
    for folder in sorted(DEMO_ROOT.glob("*/results/*")):
        if not (folder / "results.csv").is_file():
            continue
        organism = folder.parent.parent.name
        changed = [
            name for name in ("results.csv", "items.csv") if (folder / name).is_file() and _rename_csv(folder / name)
        ]
        cfg = read_json(folder / "sweep.json", what="sweep.json")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the old names are what is being renamed here
            new_cfg = current_names(json.loads(json.dumps(cfg)), str(folder / "sweep.json"))
        if new_cfg != cfg:
            write_json(folder / "sweep.json", new_cfg)
            changed.append("sweep.json")
        prov = read_json(folder / PROVENANCE, what=PROVENANCE)
        current = load_organism(organism).fingerprint()
        if organism in RENAMED_MANIFESTS and prov.get("organism_fingerprint") == RENAMED_MANIFESTS[organism][0]:
            before, manifest_change = RENAMED_MANIFESTS[organism]
            prov.setdefault("renames", []).append(
                {"what": f"{WHAT}; {manifest_change}", "fingerprint_before": before, "fingerprint_after": current}
            )
            prov["organism_fingerprint"] = current
            write_json(folder / PROVENANCE, prov)
            changed.append(PROVENANCE)
        elif changed and not any(
            r.get("what", "").startswith("names only (issue 26)") for r in prov.get("renames", [])
        ):
            prov.setdefault("renames", []).append({"what": WHAT})
            write_json(folder / PROVENANCE, prov)
            changed.append(PROVENANCE)
        if changed:
            rerender(folder, figures=(".png",))
        print(f"{folder.relative_to(DEMO_ROOT)}: {', '.join(changed) or 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
