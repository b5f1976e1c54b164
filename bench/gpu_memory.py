"""Computed (not measured) GPU memory of a GRASP / LoRA training step: `python bench/gpu_memory.py`.

For each model: its exact parameter count (the architecture built on the meta device from its config numbers, so
nothing is downloaded), bf16 weights, the LoRA of rank r on every linear module of every layer (q k v o gate up
down, the TrainConfig default) with fp32 parameters, gradients and AdamW's two moments (16 bytes a parameter),
and an estimate of what one micro-batch keeps for the backward pass: per token and layer, the bf16 inputs and
outputs of the norms, attention and MLP (6 d + 2 d_kv + 4 d_ff elements), plus the logits at the scored positions
(half the tokens) in bf16 and their fp32 copy and gradient. Activation figures are an estimate; the weights and
optimizer state are exact. Measured figures need a GPU: `pytest -m gpu` there, with torch.cuda.max_memory_allocated.
"""

from __future__ import annotations

import argparse

import torch

# Config numbers of Qwen2.5-0.5B-Instruct and Qwen2.5-7B-Instruct (their config.json on the hub).
MODELS = {
    "Qwen2.5-0.5B": dict(
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        vocab_size=151936,
        tie_word_embeddings=True,
    ),
    "Qwen2.5-7B": dict(
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        vocab_size=152064,
        tie_word_embeddings=False,
    ),
}
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
GB = 1024**3


def estimate(name: str, r: int, batch: int, seq: int) -> dict[str, float]:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(**MODELS[name])
    with torch.device("meta"):
        model = Qwen2ForCausalLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    lora = sum(
        r * (m.in_features + m.out_features)
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] in TARGETS
    )
    d, d_ff, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    d_kv = cfg.num_key_value_heads * (d // cfg.num_attention_heads)
    tokens = batch * seq
    acts = tokens * L * (6 * d + 2 * d_kv + 4 * d_ff) * 2
    logits = (tokens // 2) * cfg.vocab_size * (2 + 4 + 4)
    out = {
        "params_b": n_params / 1e9,
        "weights_gb": n_params * 2 / GB,
        "lora_m": lora / 1e6,
        "lora_state_gb": lora * 16 / GB,
        "activations_gb": acts / GB,
        "logits_gb": logits / GB,
    }
    out["total_gb"] = out["weights_gb"] + out["lora_state_gb"] + out["activations_gb"] + out["logits_gb"]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--r", type=int, default=32)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 4, 16], help="examples per micro-batch")
    p.add_argument("--seq", type=int, default=256, help="tokens per example")
    ns = p.parse_args()
    print(f"computed, not measured: r={ns.r}, {ns.seq} tokens an example, bf16 weights, fp32 LoRA + AdamW")
    print(
        "| model | params | bf16 weights | LoRA params | LoRA + grads + AdamW | micro-batch | activations "
        "(est.) | logits (est.) | total (est.) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in MODELS:
        for b in ns.batch:
            e = estimate(name, ns.r, b, ns.seq)
            print(
                f"| {name} | {e['params_b']:.2f} B | {e['weights_gb']:.1f} GiB | {e['lora_m']:.1f} M | "
                f"{e['lora_state_gb']:.2f} GiB | {b} x {ns.seq} | {e['activations_gb']:.1f} GiB | "
                f"{e['logits_gb']:.1f} GiB | {e['total_gb']:.1f} GiB |"
            )


if __name__ == "__main__":
    main()
