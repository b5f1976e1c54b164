"""Tiny random models of real transformers families, built from a config (tests and benches only)."""

from __future__ import annotations

from typing import Any

import torch


def tiny_model(family: str = "llama", seed: int = 0, **overrides: Any) -> Any:
    """A small random model of a real family, built from a config (for tests and benches)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    common = dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        vocab_size=256,
        max_position_embeddings=256,
    )
    gqa = {**common, "num_key_value_heads": 2}
    base: dict[str, dict[str, Any]] = {
        "llama": gqa,
        "qwen2": gqa,
        "mistral": gqa,
        "gemma": {**gqa, "head_dim": 16},
        "gpt2": dict(n_embd=64, n_layer=4, n_head=4, vocab_size=256, n_positions=256),
        "gpt_neox": common,
    }
    if family not in base:
        raise ValueError(f"unknown tiny model family {family!r}; known: {', '.join(base)}")
    config = AutoConfig.for_model(family, **{**base[family], **overrides})
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config).eval()
