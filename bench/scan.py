"""Scan throughput on the bundled model: tokens/s of `scan_model` against a plain forward pass of the same
batch, and the speed-up of stopping the forward pass early for a factor at stream layer 10 of 30.

    .venv/bin/python bench/scan.py [--prompts 16] [--words 48] [--repeats 3] [--base smollm2-135m]

Times are the best of `--repeats` interleaved rounds (a busy neighbour on a shared machine counts less).
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import torch

from grasp_core.identification.factors import Factor
from grasp_core.identification.scan import ScanConfig, scan_model
from grasp_core.model.chat import encode_prompt, pad_batch
from grasp_core.model.models import d_model, default_device, load_base, n_layers

WORDS = "money save budget rent bank loan cash spend debt credit interest invest plan goal fund why how".split()


def _factor(width: int, stream_layer: int) -> Factor:
    z = torch.randn(width, generator=torch.Generator().manual_seed(stream_layer))
    # A module-scope read factor at layer l lives at hidden_states[l].
    return Factor(
        id=f"L{stream_layer}",
        scope="module",
        side="read",
        sigma=1.0,
        energy=1.0,
        vector=z / z.norm(),
        layer=stream_layer,
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="smollm2-135m")
    p.add_argument("--prompts", type=int, default=16)
    p.add_argument("--words", type=int, default=48, help="words per prompt")
    p.add_argument("--layer", type=int, default=10, help="stream layer of the early-stop factor")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    bm = load_base(args.base)
    model, tok = bm.model, bm.tokenizer
    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(args.words)) for _ in range(args.prompts)]
    ids = [encode_prompt(tok, c) for c in corpus]
    batch = {k: v.to(bm.device) for k, v in pad_batch(ids, tok.pad_token_id).items()}
    n_tok = int(batch["attention_mask"].sum())
    width, depth = d_model(model), n_layers(model)
    deep, shallow = _factor(width, depth), _factor(width, args.layer)
    cfg = dict(batch_size=args.prompts, n_top_prompts=5)

    def plain() -> None:
        with torch.no_grad():
            model(**batch, use_cache=False)

    variants = {
        "plain forward (all layers + lm_head)": plain,
        f"scan, factor at layer {depth} (last)": lambda: scan_model(
            model, tok, corpus, [deep], ScanConfig(mode="model", **cfg), progress=False
        ),
        f"scan, factor at layer {args.layer}, full pass": lambda: scan_model(
            model, tok, corpus, [shallow], ScanConfig(stop_early=False, mode="model", **cfg), progress=False
        ),
        f"scan, factor at layer {args.layer}, early stop": lambda: scan_model(
            model, tok, corpus, [shallow], ScanConfig(stop_early=True, mode="model", **cfg), progress=False
        ),
    }
    print(
        f"device {default_device()}, base {args.base} ({depth} layers), {args.prompts} prompts, {n_tok} tokens "
        f"per batch, torch {torch.__version__}, {torch.get_num_threads()} threads",
        file=sys.stderr,
    )
    plain()  # warm-up
    best = {name: float("inf") for name in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - t0)
    base_t = best["plain forward (all layers + lm_head)"]
    print(f"{'variant':<40} {'s':>7} {'tokens/s':>9} {'vs plain':>9}")
    for name, t in best.items():
        print(f"{name:<40} {t:>7.3f} {n_tok / t:>9.0f} {base_t / t:>8.2f}x")
    names = list(best)
    print(f"early-stop speed-up at layer {args.layer}/{depth}: {best[names[2]] / best[names[3]]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
