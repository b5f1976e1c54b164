"""A record of a one-off shortcut (session 7, 2026-11-22), kept so the bundled results' provenance names a file
that exists: the sweep run with its evaluation cache carried over the change that keyed cached measures by their
own files (grasp_core/sweep/run.py, `stamps`) instead of by the whole organism's fingerprint.

That change and task_choice's new bad answers (tools/organisms/finance_text.py) would have had every cached cell
evaluated again. This runs `grasp ARGS...` with evaluate_cached reusing the entries stored under the old key for
the measures whose items did not change (drift, leak, lean, task NLL: the good answers are the same), so only
task_choice is computed. The reuse is exact: forward passes are deterministic here, and the seed-0 cells of
persona-evidence, evaluated in full before this ran, matched the old values bit for bit.

    .venv/bin/python tools/migrate_sweep.py sweep --organism persona --size evidence

`grasp sweep` with the same arguments recomputes everything from scratch and gives the same tables.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import grasp_core.sweep.eval_cache as eval_cache
import grasp_core.sweep.run as sweep_run
from grasp_core.cli import main
from grasp_core.io import read_json, text_hash, write_json

# The organism fingerprints the sweeps were last run under (their provenance.json), before task.jsonl changed.
OLD = {"persona": "958ebce296354d8d", "political": "0e5dd92cb0eefb36"}
CHANGED = ("task_choice",)
real = eval_cache.evaluate_cached


def reusing(
    folder: Path,
    organism: Any,
    base: str,
    adapter: Path | None,
    ablate: Any = None,
    measures: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    cache = Path(folder) / eval_cache.EVAL_FILE
    if cache.is_file() and organism.name in OLD:
        data = read_json(cache)
        new = text_hash(str(organism.dir), str(adapter), repr(ablate))
        old = text_hash(str(organism.dir), str(adapter), repr(ablate), OLD[organism.name])
        if new not in data and old in data:
            entry = {k: v for k, v in data[old].items() if k != "errors" and k.removesuffix("_shift") not in CHANGED}
            stamps = {s.name: eval_cache.stamp(s) for s in organism.eval_specs() if s.name in entry}
            data[new] = {**entry, eval_cache.STAMPS: stamps}
            write_json(cache, data)
            print(f"migrate: reused {sorted(stamps)} in {cache}", file=sys.stderr, flush=True)
    return real(folder, organism, base, adapter, ablate, measures)


if __name__ == "__main__":
    sweep_run.evaluate_cached = reusing  # type: ignore[assignment]  (SweepWork looks it up in run.py)
    sys.exit(main(sys.argv[1:]))
