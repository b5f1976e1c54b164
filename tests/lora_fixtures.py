"""Planted LoRA adapters on tiny random models: real PEFT folders written by get_peft_model + save_pretrained."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from model_fixtures import tiny_model

from grasp_core.model.adapters import classify_module

# Per family: (every adaptable leaf name, the write-side ones). gpt2 uses Conv1D (fan_in_fan_out).
FAMILY_MODULES: dict[str, tuple[list[str], list[str]]] = {
    "llama": (["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], ["o_proj", "down_proj"]),
    "qwen2": (["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], ["o_proj", "down_proj"]),
    "mistral": (["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], ["o_proj", "down_proj"]),
    "gemma": (["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], ["o_proj", "down_proj"]),
    "gpt2": (["c_attn", "c_proj", "c_fc"], ["c_proj"]),
    "gpt_neox": (["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"], ["dense", "dense_4h_to_h"]),
}

Planter = Callable[[str, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def make_adapter(
    model: Any,
    folder: Path,
    target_modules: list[str],
    r: int = 4,
    alpha: float = 8.0,
    plant: Planter | None = None,
    seed: int = 0,
    **lora_kwargs: Any,
) -> Path:
    """Wrap `model` with a LoRA, give every lora_A / lora_B random (or planted) weights, save it to `folder`.

    plant(name, A, B) -> (A, B) receives the module path and the linear-orientation factors (r, d_in), (d_out, r).
    """
    from peft import LoraConfig, get_peft_model

    fan_in_fan_out = model.config.model_type == "gpt2"
    cfg = LoraConfig(
        r=r,
        lora_alpha=alpha,
        target_modules=target_modules,
        fan_in_fan_out=fan_in_fan_out,
        lora_dropout=0.0,
        **lora_kwargs,
    )
    peft_model = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, module in peft_model.base_model.model.named_modules():
            if not hasattr(module, "lora_A") or "default" not in module.lora_A:
                continue
            A_w, B_w = module.lora_A["default"].weight, module.lora_B["default"].weight  # (r, d_in), (d_out, r)
            A = torch.randn(A_w.shape, generator=gen) / A_w.shape[1] ** 0.5
            B = torch.randn(B_w.shape, generator=gen) / B_w.shape[0] ** 0.5
            if plant is not None:
                A, B = plant(name, A, B)
            A_w.copy_(A)
            B_w.copy_(B)
    peft_model.save_pretrained(str(folder))
    peft_model.unload()  # give the caller its base model back without LoRA layers
    return folder


def planted_direction_plant(z: torch.Tensor, strength: float = 3.0, noise: float = 0.3, seed: int = 1) -> Planter:
    """Write modules get B[:, 0] = strength * z plus small rank-r noise; read modules stay random."""
    gen = torch.Generator().manual_seed(seed)

    def plant(name: str, A: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if classify_module(name)[2] != "write":
            return A, B
        B = noise * torch.randn(B.shape, generator=gen) / B.shape[0] ** 0.5  # (d_out, r)
        B[:, 0] = strength * z
        A = torch.randn(A.shape, generator=gen) / A.shape[1] ** 0.5  # (r, d_in)
        return A, B

    return plant


def tiny_with_tokenizer(tokenizer: Any, family: str = "llama", layers: int = 4, seed: int = 0) -> Any:
    """A tiny random model whose vocabulary fits the bundled tokenizer (so scans decode real text)."""
    return tiny_model(family, seed=seed, vocab_size=len(tokenizer), num_hidden_layers=layers, tie_word_embeddings=False)
