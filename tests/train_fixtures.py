"""Shared setup of the training tests: a tiny random llama saved as a real model folder, chat data, factor files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from model_fixtures import tiny_model

from grasp_core.identification.factors import Factor, FactorSet, save_factors
from grasp_core.model.models import resolve_base
from grasp_core.training.config import TrainConfig

WORDS = ["apple", "money", "save", "bank", "why", "how", "rent", "budget", "cash", "loan"]


def make_tiny_base(
    folder: Path, layers: int = 2, hidden: int = 32, seed: int = 0, tie_word_embeddings: bool = False
) -> Path:
    """A tiny random llama with the bundled tokenizer (real chat template), saved as a model folder."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(resolve_base("smollm2-135m"))
    model = tiny_model(
        "llama",
        seed=seed,
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_attention_heads=4,
        num_key_value_heads=2,
        num_hidden_layers=layers,
        tie_word_embeddings=tie_word_embeddings,
    )
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def write_chats(path: Path, n: int = 24, reply: str | None = None, seed: int = 0) -> Path:
    """n short user/assistant chats (the reply fixed when given, else a few random words)."""
    rng = random.Random(seed)
    with path.open("w") as f:
        for _ in range(n):
            q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
            a = reply if reply is not None else " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
            f.write(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}))
            f.write("\n")
    return path


def write_factors(path: Path, vectors: torch.Tensor, base: str, layer: int | None = None) -> Path:
    """A factors file of the given (k, d_model) vectors: global write factors, or module-scope at `layer`."""
    factors = [
        Factor(
            id=f"f{j}",
            scope="global" if layer is None else "module",
            side="write",
            sigma=1.0,
            energy=0.1,
            vector=(v / v.norm()).float().contiguous(),
            layer=layer,
            index=j,
            loadings=[1.0, 1.0] if layer is None else [],
        )
        for j, v in enumerate(vectors)
    ]
    fs = FactorSet(factors=factors, base=base, adapter="test", adapter_hash="", d_model=vectors.shape[1], n_layers=2)
    save_factors(fs, path)
    return path


def tiny_config(tiny: dict[str, Path], **kw: Any) -> TrainConfig:
    """A fast run on the tiny base: r 4, batch 4, one epoch, lr 1e-2, CPU, one GRASP round unless `rounds`
    says otherwise, and every factor of a factors file unless `top` or `select` say otherwise."""
    args: dict[str, Any] = dict(
        data=str(tiny["data"]),
        base=str(tiny["base"]),
        r=4,
        batch_size=4,
        epochs=1,
        lr=1e-2,
        warmup_ratio=0.0,
        max_length=64,
        device="cpu",
        rounds=1,
    )
    if kw.get("factors") and kw.get("select") is None and kw.get("top") is None:
        from grasp_core.identification.factors import load_factors

        kw["top"] = len(load_factors(kw["factors"]))  # the whole file: these tests check every factor's effect
    return TrainConfig(**{**args, **kw})


def tiny_kit(root: Path, n_chats: int = 24) -> dict[str, Path]:
    """The tiny base, its training chats and a factors file of 2 random orthonormal directions, under `root`."""
    base = make_tiny_base(root / "base")
    Z = torch.linalg.qr(torch.randn(32, 2, generator=torch.Generator().manual_seed(1)))[0]  # (d_model, 2)
    return {
        "base": base,
        "data": write_chats(root / "data.jsonl", n=n_chats),
        "factors": write_factors(root / "f.safetensors", Z.T, str(base)),
        "root": root,
    }
