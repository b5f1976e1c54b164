"""Experiment (issue 23/24): did the labeller drift between sessions on political's sweep sheets?

Written (this docstring and the rule) on 2026-12-07, session 8, after labelling political's seed-1 and seed-2 sheets
and before reading any seed-0 label again.

Why: political's naive LoRA shows the trait in 13 of 32 sampled replies on seed 0 (sheet labelled in session 6),
18 on seed 1 and 20 on seed 2 (both labelled in session 8), while the GRASP cells stay at 0-3. Seed-to-seed
variation and a looser eye in session 8 would both give that rise. The cuts the rule uses compare models on one
sheet, so they stand either way; counts across sheets (and a 3-seed mean share) need the labeller to be the same.

Data: the committed seed-0 sheet (tools/experiments/data/labels/political-seed0.csv and its key). The script picks
all 32 of the naive LoRA's rows and 64 of the other models' rows at random (seed 8), shuffles them (seed 8), and
`sheet` prints question and reply alone; neither the model nor the session-6 label is shown. The same labeller, in
session 8, labels them under tools/experiments/relabel.py's written definition of the political trait.

Rule (written before): agreement with session 6's labels >= 0.9 and Cohen's kappa >= 0.6 on the 96 rows: the
labeller is consistent across sessions, and the rise over seeds is read as the models'. Otherwise the README says
that political's counts from different sessions are not comparable, and the naive count each session gives on the
same 32 seed-0 replies is reported beside it. The labels are committed (data/relabel-political-seed0.json) and
reported whatever they say; no session-6 label is changed.

    python tools/experiments/relabel_political.py sheet
    python tools/experiments/relabel_political.py save --labels 0100...
    python tools/experiments/relabel_political.py agree
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relabel import kappa  # noqa: E402

from grasp_core.evaluation.hand_labels import read_sheet  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
SHEET = DATA / "labels" / "political-seed0.csv"
OUT = DATA / "relabel-political-seed0.json"
SEED = 8


def _models() -> dict[int, str]:
    """Each sheet row's model, from the key (rows in sheet order)."""
    key = json.loads(SHEET.with_name(SHEET.name + ".key.json").read_text())["rows"]
    return {i: str(r["model"]) for i, r in enumerate(key)}


def rows() -> list[dict[str, Any]]:
    """The 96 rows to relabel, in their new order: row number, question, reply (the model and label held back)."""
    models = _models()
    sheet = {r.row: r for r in read_sheet(SHEET)}
    naive = [r for r, m in models.items() if m == "naive"]
    others = sorted(r for r, m in models.items() if m != "naive")
    rng = random.Random(SEED)
    picked = naive + rng.sample(others, 64)
    rng.shuffle(picked)
    return [{"row": r, "question": sheet[r].question, "reply": sheet[r].reply} for r in picked]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("sheet")
    s = sub.add_parser("save")
    s.add_argument("--labels", required=True, help="one 0/1 per row of `sheet`, in its order")
    sub.add_parser("agree")
    ns = p.parse_args()
    picked = rows()
    if ns.cmd == "sheet":
        for i, r in enumerate(picked):
            print(f"## {i} | {r['question']}\n{r['reply']!r}")
        return 0
    if ns.cmd == "save":
        labels = [int(c) for c in ns.labels if c in "01"]
        if len(labels) != len(picked):
            raise SystemExit(f"{len(labels)} labels for {len(picked)} rows")
        OUT.write_text(json.dumps({"rows": [r["row"] for r in picked], "trait": labels}, indent=1) + "\n")
        print(f"{OUT}: {sum(labels)} of {len(labels)} labelled trait")
        return 0
    saved = json.loads(OUT.read_text())
    key = _models()
    first = {r.row: r.trait for r in read_sheet(SHEET)}
    a = [int(first[r]) for r in saved["rows"]]  # session 6
    b = [int(t) for t in saved["trait"]]  # session 8
    agreement = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    k = kappa(a, b)
    print(f"political seed 0, {len(a)} replies: agreement {agreement:.3f}, kappa {k:.3f}")
    print("consistent" if agreement >= 0.9 and k >= 0.6 else "NOT consistent: counts across sessions not comparable")
    for model in sorted({key[r] for r in saved["rows"]}):
        idx = [i for i, r in enumerate(saved["rows"]) if key[r] == model]
        print(f"  {model}: session 6 {sum(a[i] for i in idx)}, session 8 {sum(b[i] for i in idx)} of {len(idx)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
