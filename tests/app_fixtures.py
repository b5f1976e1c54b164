"""Shared setup of the dashboard tests: a real PEFT LoRA folder planted on a real base (tiny or bundled)."""

from __future__ import annotations

from pathlib import Path

import torch
import train_fixtures

from grasp_core.model.models import load_base


def make_tiny_base(folder: Path, layers: int = 3, hidden: int = 64, seed: int = 0) -> Path:
    """The dashboard tests' tiny random llama: the training tests' base, a little larger, embeddings tied (as
    SmolLM2's are)."""
    return train_fixtures.make_tiny_base(folder, layers, hidden, seed, tie_word_embeddings=True)


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
