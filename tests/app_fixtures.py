"""Shared setup of the dashboard tests: a real PEFT LoRA folder planted on a real base (tiny or bundled)."""

from __future__ import annotations

from pathlib import Path

import torch
from model_fixtures import tiny_model

from grasp_core.model.models import load_base, resolve_base


def make_tiny_base(folder: Path, layers: int = 3, hidden: int = 64, seed: int = 0) -> Path:
    """A tiny random llama with the bundled tokenizer (real vocabulary and chat template), saved as a folder."""
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
        tie_word_embeddings=True,
    )
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def plant_adapter(base: str, out: Path, r: int = 4, seed: int = 0, layers: list[int] | None = None) -> Path:
    """A PEFT LoRA folder on `base` with random non-zero A and B (so dW has a real spectrum)."""
    from peft import LoraConfig, get_peft_model

    bm = load_base(base, device="cpu", dtype=torch.float32)
    cfg = LoraConfig(
        r=r,
        lora_alpha=2 * r,
        target_modules=["q_proj", "v_proj", "o_proj", "down_proj", "up_proj"],
        layers_to_transform=layers,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(bm.model, cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name or "lora_A" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
    model.save_pretrained(out)
    return out
