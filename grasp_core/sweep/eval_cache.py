"""A sweep cell's measures, cached per measure in its run folder (eval.json) and stamped with what each was computed
from, so a sweep asking for fewer or more measures, or one whose eval file changed, computes only what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..evaluation.examples import EXAMPLE_PROMPTS, EXAMPLE_TOKENS, example_replies
from ..evaluation.organisms import CHANGE, Organism, current_column, evaluate_organism
from ..evaluation.suite import EvalSpec
from ..io import file_hash, read_json, text_hash, write_json
from ..procs import file_lock

EVAL_FILE = "eval.json"
EXAMPLES_FILE = "examples.json"  # a run folder's example replies, per model variant, stamped like the measures


STAMPS = "stamps"  # eval.json: measure -> the hash of what it was computed from


def stamp(spec: EvalSpec, judge: tuple[Path, ...] = ()) -> str:
    """What a cached measure was computed from: its kind, options and file contents (and, for judged replies, the
    judge's labelled replies)."""
    parts = [spec.kind, str(spec.relative_to_base), file_hash(spec.file)]
    if spec.kind == "replies":
        parts.append(file_hash(*judge))
    return text_hash(*parts)


def evaluate_cached(
    folder: Path,
    organism: Organism,
    base: str,
    adapter: Path | None,
    ablate: tuple[Path, tuple[int, ...]] | None = None,
    measures: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The organism's measures (default: all but free-form) for base (+ adapter) (+ ablation), cached per measure
    in folder/eval.json, so a sweep asking for fewer or more measures reuses what was computed. Each measure is
    stamped with its file's hash: editing one eval file recomputes that measure only."""
    key = text_hash(str(organism.dir), str(adapter), repr(ablate))
    cache = folder / EVAL_FILE
    cached = read_json(cache) if cache.is_file() else {}
    entry: dict[str, Any] = {current_column(k): v for k, v in cached.get(key, {}).items()}  # old: lean_shift
    entry.pop("errors", None)
    stamps: dict[str, str] = dict(entry.pop(STAMPS, {}))
    specs = {s.name: s for s in organism.eval_specs(measures) if s.kind != "free_form"}
    missing = tuple(m for m, s in specs.items() if m not in entry or stamps.get(m) != stamp(s, organism.judge))
    if missing:
        fresh = evaluate_organism(organism, base=base, adapter=adapter, ablate=ablate, measures=missing)
        done = {k: v for k, v in fresh.items() if k != "errors"}  # failed measures are retried next time
        entry.update(done)
        new_stamps = {m: stamp(specs[m], organism.judge) for m in missing if m in done}
        stamps.update(new_stamps)
        # Jobs of one sweep may evaluate into one folder at once (the naive cell and an ablation on its adapter):
        # the file is re-read and merged under a lock, so neither loses what the other wrote.
        with file_lock(folder / ".eval.lock"):
            cached = read_json(cache) if cache.is_file() else {}
            old = cached.get(key, {})
            cached[key] = {**old, **done, STAMPS: {**old.get(STAMPS, {}), **new_stamps}}
            write_json(cache, cached)
        if fresh.get("errors"):
            entry["errors"] = fresh["errors"]
    return {k: v for k, v in entry.items() if k == "errors" or k in specs or k.removesuffix(CHANGE) in specs}


def examples_cached(
    folder: Path,
    organism: Organism,
    base: str,
    adapter: Path | None,
    ablate: tuple[Path, tuple[int, ...]] | None = None,
) -> list[dict[str, Any]]:
    """The example replies (evaluation.examples) of base (+ adapter) (+ ablation), cached in folder/examples.json and
    stamped with the questions file, so a finished cell computes them once and a changed file recomputes them."""
    if organism.questions is None:
        return []
    key = text_hash(str(organism.dir), str(adapter), repr(ablate))
    made_from = text_hash(file_hash(organism.questions), str(EXAMPLE_PROMPTS), str(EXAMPLE_TOKENS))
    cache = folder / EXAMPLES_FILE
    found = read_json(cache).get(key) if cache.is_file() else None
    if isinstance(found, dict) and found.get("stamp") == made_from:
        return list(found["replies"])
    replies = example_replies(organism, base, adapter, ablate)
    with file_lock(folder / ".eval.lock"):
        cached = read_json(cache) if cache.is_file() else {}
        cached[key] = {"stamp": made_from, "replies": replies}
        write_json(cache, cached)
    return replies
