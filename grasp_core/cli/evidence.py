"""The evidence verb: ablate each candidate factor, measure the adapter's shift along it, rank, suggest a set."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import GraspError
from ..evidence.background import request_inputs
from ..evidence.candidates import UNRELATED_CORPUS
from ..evidence.compare import side_by_side
from ..evidence.evidence import EvidenceConfig, adapter_evidence, save_suggested
from ..evidence.results import Evidence
from ..identification.choose import parse_indices
from ..identification.factorsets import check_set_name
from ..io import write_json
from ..model.adapters import load_model
from .common import command, old_flag, resolve_adapter_base


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--adapter", required=True, help="PEFT LoRA adapter folder")
    p.add_argument("--base", default=None, help="base alias, folder or hub id (default: the adapter's)")
    p.add_argument(
        "--factors",
        default=None,
        help="factors file (default: <adapter>/factors.safetensors, else the one `grasp identify` kept for this adapter, "
        "else found now)",
    )
    p.add_argument(
        "--factors-from-other-adapter",
        action="store_true",
        help="use a factors file made from another adapter (refused by default: they are not this adapter's candidates)",
    )
    p.add_argument("--select", default=None, metavar="I,J", help="factor indices of the file (default: --top)")
    p.add_argument("--top", type=int, default=8, help="candidates: the first K global write factors (default 8)")
    old_flag(p, "--top-k", "--top", type=int)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--organism", default=None, help="use an organism's PROBE evals and training prompts")
    which.add_argument("--evals", nargs="+", default=None, metavar="FILE", help="forced-choice or chat JSONL files")
    p.add_argument("--corpus", default=str(UNRELATED_CORPUS), help="unrelated prompts (default: the bundled corpus)")
    p.add_argument("--train-corpus", default=None, help="training prompts for the shift ratio (default: organism's)")
    p.add_argument("--cumulative", type=int, default=3, help="cumulative ablations up to this many factors (default 3)")
    p.add_argument(
        "--generate",
        type=int,
        default=0,
        metavar="N",
        help="side-by-side replies to N unrelated prompts for the top-ranked factor",
    )
    p.add_argument("--save-set", default=None, metavar="NAME", help="save the suggested factors as this factor set")
    p.add_argument("--batch-size", type=int, default=8, help="sequences per forward pass (default 8)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--no-cache", action="store_true", help="recompute even what is cached")
    p.add_argument("--out", default=None, help="write the full evidence to this JSON file (atomically)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "*" if v else ""
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}"
    return str(v)


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


def print_evidence(ev: Evidence) -> None:
    """The evidence as text: references, the per-factor table, the cumulative table, the suggestion and the rule."""
    print(
        f"evidence for adapter {ev.adapter} (base {ev.base}); measures: " + ", ".join(m.describe() for m in ev.measures)
    )
    for name, ref in ev.reference.items():
        lo = ""
        if ref.get("base_log_odds") is not None:
            lo = f"; mean log-odds base {ref['base_log_odds']:.2f}, adapter {ref['adapter_log_odds']:.2f}"
            if ref.get("log_odds_change_lo") is not None:
                lo += f" (change 95% [{ref['log_odds_change_lo']:+.2f}, {ref['log_odds_change_hi']:+.2f}])"
        change = ""
        if ref.get("change") is not None:  # results saved before the paired change was recorded have none
            change = (
                f" (change {ref['change']:+.4f} [{ref['change_lo']:+.4f}, {ref['change_hi']:+.4f}], paired over items)"
            )
        print(f"  {name}: base {ref['base']:.4f}, adapter {ref['adapter']:.4f}{change}{lo}")
    print(f"primary drift measure: {ev.primary_drift or '-'}; primary task measure: {ev.primary_task or '-'}")
    print("\none factor ablated at a time (best first; removed/kept: shares of the adapter's change, 95% over items):")
    _print_table(ev.factor_table())
    if ev.cumulative:
        print("\nthe ranked factors ablated together:")
        _print_table(ev.cumulative_table())
    print(f"\nsuggested: {', '.join(ev.suggested) or 'none'}")
    print(f"rule: {ev.rule}")
    print(f"({ev.n_cached} evaluations from the cache, {ev.n_computed} computed now)")


@command("evidence", "Evidence for each candidate factor: ablate it, measure drift and task, rank, suggest.", _args)
def run_evidence(ns: argparse.Namespace) -> int:
    if ns.cumulative < 1:
        raise GraspError(f"--cumulative must be at least 1, got {ns.cumulative}")
    if ns.generate < 0:
        raise GraspError(f"--generate must be 0 or more, got {ns.generate}")
    if ns.save_set is not None:
        check_set_name(ns.save_set)  # before any evaluation runs, not after
    config = EvidenceConfig(
        top=ns.top, cumulative=ns.cumulative, batch_size=ns.batch_size, seed=ns.seed, use_cache=not ns.no_cache
    )
    base = resolve_adapter_base(ns.adapter, ns.base)
    select = list(parse_indices(ns.select)) if ns.select else None
    measures, train, primary = request_inputs(ns.organism, ns.evals or ())
    train = ns.train_corpus or train
    fs, ev = adapter_evidence(
        ns.adapter,
        base,
        measures,
        ns.factors,
        select,
        ns.corpus,
        train,
        config,
        primary=primary,
        progress=not ns.json,
        other_adapter=ns.factors_from_other_adapter,
    )
    saved = save_suggested(ev, fs, ns.save_set) if ns.save_set and ev.suggested else None
    out: dict[str, Any] = ev.to_dict()
    if ns.generate:
        bm = load_model(base, ns.adapter)
        top = fs.by_id(ev.rows[0].factor)
        out["side_by_side"] = {
            top.id: [
                vars(s) for s in side_by_side(bm, top, corpus=ns.corpus, n_prompts=ns.generate, progress=not ns.json)
            ]
        }
    if saved is not None:
        out["saved_set"] = {"name": saved.name, "path": str(saved.path)}
    if ns.out:
        write_json(ns.out, out)
    if ns.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    print_evidence(ev)
    for fid, rows in out.get("side_by_side", {}).items():
        print(f"\nside by side, {fid} (steered by 1x the adapter's own shift along it):")
        for r in rows:
            print(f"  prompt: {r['prompt']}")
            for k in ("adapted", "ablated", "base", "steered"):
                print(f"    {k:>8}: {' '.join(r[k].split())[:110]}")
    if ns.save_set and saved is None:
        print(f"no factor set saved: nothing suggested (--save-set {ns.save_set})")
    elif saved is not None:
        print(
            f"saved the suggested factors as factor set {saved.name!r}: {saved.path} (grasp train --factors reads it)"
        )
    return 0
