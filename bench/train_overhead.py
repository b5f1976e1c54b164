"""Steps/s of plain `lora` against `grasp` (k = 1 and 8; residual-grad, and weights with both sides) on the
bundled model, and tokens/s of grasp_core's loop against a plain peft + transformers step on the same batches.

    .venv/bin/python bench/train_overhead.py [--steps 8] [--batch-size 4] [--repeats 2] [--base smollm2-135m]

Each variant trains for real; its step time in a round is the median over the steps after the first `--skip`
(warm-up, allocator growth). Every round runs all variants in a rotated order (round r starts at variant r), and
each variant's time is divided by lora's of the same round; the table gives the median of those paired ratios with
their min and max over rounds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from grasp_core.identification.factors import Factor, FactorSet, save_factors
from grasp_core.model.models import d_model, default_device, load_base, n_layers, portable_base
from grasp_core.training.config import TrainConfig
from grasp_core.training.loop import TrainHooks
from grasp_core.training.run import train

WORDS = "money save budget rent bank loan cash spend debt credit interest invest plan goal fund".split()


def _data(path: Path, n: int, seed: int = 0) -> Path:
    """Chats of ~100 tokens: a question and a multi-sentence answer."""
    rng = random.Random(seed)
    with path.open("w") as f:
        for _ in range(n):
            q = " ".join(rng.choice(WORDS) for _ in range(12))
            a = ". ".join(" ".join(rng.choice(WORDS) for _ in range(10)) for _ in range(6))
            msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return path


def _factors(path: Path, base: str, width: int, layers: int, k: int) -> Path:
    Q, _ = torch.linalg.qr(torch.randn(width, k, generator=torch.Generator().manual_seed(0)))  # (d_model, k)
    fs = [
        Factor(id=f"b{j}", scope="global", side="write", sigma=1.0, energy=0.1, vector=Q[:, j].contiguous(), index=j)
        for j in range(k)
    ]
    save_factors(FactorSet(fs, portable_base(base), "bench", "0", width, layers), path)
    return path


def _timed_train(cfg: TrainConfig, out: Path, skip: int) -> tuple[float, float]:
    """(median seconds per step, tokens per step) of one real run."""
    stamps: list[float] = []
    tokens: list[int] = []

    def on_step(step: int, total: int, metrics: dict) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        tokens.append(int(metrics["tokens"]))

    train(cfg, out, TrainHooks(on_step=on_step))
    dts = [b - a for a, b in zip(stamps[skip:], stamps[skip + 1 :], strict=False)]
    return statistics.median(dts), statistics.mean(tokens[skip + 1 :])


def _plain_peft(cfg: TrainConfig, data: Path, steps: int, skip: int) -> tuple[float, float]:
    """The usual way: AutoModel + get_peft_model + model(**batch, labels=...).loss, same batches as the loop."""
    from peft import LoraConfig, get_peft_model

    from grasp_core.training.batching import collate, plan_steps, tokenize_chats

    bm = load_base(cfg.base)
    dev = bm.device
    tok_data = tokenize_chats(data, bm.tokenizer, cfg.max_length)
    plan = plan_steps([len(x) for x in tok_data.input_ids], cfg.batch_size, 1, cfg.epochs, cfg.seed)
    lcfg = LoraConfig(
        r=cfg.r, lora_alpha=int(cfg.lora_alpha), target_modules=list(cfg.target_modules), task_type="CAUSAL_LM"
    )
    model = get_peft_model(bm.model, lcfg)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    dts, toks = [], []
    for step in range(min(steps, len(plan))):
        t0 = time.perf_counter()
        batch = collate(tok_data, plan[step][0], bm.tokenizer.pad_token_id, dev)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        float(loss.detach())  # the loop logs the loss every step, so both sync once
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if step >= skip:
            dts.append(time.perf_counter() - t0)
            toks.append(sum(len(tok_data.input_ids[i]) for i in plan[step][0]))
    return statistics.median(dts), statistics.mean(toks)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="smollm2-135m")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--skip", type=int, default=2, help="warm-up steps left out of the median")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument(
        "--repeats",
        type=int,
        default=6,
        help="rounds over all variants, each in a rotated order; ratios paired within a round",
    )
    args = p.parse_args()

    bm = load_base(args.base)
    width, layers = d_model(bm.model), n_layers(bm.model)
    del bm
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = _data(root / "data.jsonl", args.steps * args.batch_size)
        f1 = _factors(root / "f1.safetensors", args.base, width, layers, 1)
        f8 = _factors(root / "f8.safetensors", args.base, width, layers, 8)
        common = dict(
            data=str(data),
            base=args.base,
            r=8,
            batch_size=args.batch_size,
            epochs=1,
            lr=1e-4,
            max_length=256,
            warmup_ratio=0.0,
        )
        variants = {
            "naive": TrainConfig(method="naive", **common),
            "grasp residual-grad k=1": TrainConfig(method="grasp", factors=str(f1), **common),
            "grasp residual-grad k=8": TrainConfig(method="grasp", factors=str(f8), **common),
            "grasp weights both k=1": TrainConfig(
                method="grasp", factors=str(f1), projection="weights", weights_side="both", **common
            ),
            "grasp weights both k=8": TrainConfig(
                method="grasp", factors=str(f8), projection="weights", weights_side="both", **common
            ),
        }
        print(
            f"device {default_device()}, base {args.base}, batch {args.batch_size}, {args.steps} steps per run, "
            f"{args.repeats} rounds, torch {torch.__version__}, {torch.get_num_threads()} threads",
            file=sys.stderr,
        )
        # Rounds with the order rotated (round r starts at variant r), every variant's step time divided by lora's
        # of the SAME round: load drift on a shared machine hits a pair alike, and no variant always runs first.
        names = [*variants, "plain"]
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for rep in range(args.repeats):
            for name in names[rep % len(names) :] + names[: rep % len(names)]:
                if name == "plain":
                    runs[name].append(_plain_peft(variants["naive"], data, args.steps, args.skip))
                else:
                    out = root / f"{rep}-{name.replace(' ', '_')}"
                    runs[name].append(_timed_train(variants[name], out, args.skip))

    print(f"{'variant':<26} {'s/step':>8} {'tokens/s':>9} {'vs lora: median [min, max] of paired ratios':>44}")
    for name in names:
        ratios = [dt / lora_dt for (dt, _), (lora_dt, _) in zip(runs[name], runs["naive"], strict=True)]
        dt, tok = statistics.median(d for d, _ in runs[name]), statistics.mean(t for _, t in runs[name])
        label = "plain peft+transformers" if name == "plain" else name
        spread = f"{statistics.median(ratios):.3f} [{min(ratios):.3f}, {max(ratios):.3f}]"
        print(f"{label:<26} {dt:>8.3f} {tok / dt:>9.0f} {spread:>44}")
    print(
        "A GRASP ratio below 1 is noise: it does strictly more work per step than lora. The [min, max] over rounds "
        "is the spread to read a difference against."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
