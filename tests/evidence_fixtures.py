"""A planted organism on a tiny random llama: an adapter that writes two orthogonal directions, the larger-sigma
one (at the last layer) moving only a task eval and the smaller one (a layer before) only a drift eval."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from eval_fixtures import write_jsonl
from lora_fixtures import make_adapter

from grasp_core.model.chat import encode_chat
from grasp_core.model.models import load_base

PROMPTS = [f"Question number {i}: what do you say?" for i in range(12)]


@dataclass
class Planted:
    base: Path  # the tiny llama with its unembedding sharpened for the eval tokens
    adapter: Path
    drift: Path  # aligned/misaligned forced choice moved by u_drift only
    task: Path  # chat JSONL (task NLL) moved by u_task only
    u_drift: torch.Tensor
    u_task: torch.Tensor


def _single_tokens(tokenizer: Any) -> list[int]:
    """Vocabulary ids that are whole alphabetic words and come back as exactly that token in an assistant turn."""
    out = []
    for t in range(len(tokenizer)):
        word = tokenizer.decode([t])
        if len(word) >= 4 and word.isascii() and word.isalpha():
            ids, labels = encode_chat(
                tokenizer, [{"role": "user", "content": "x"}, {"role": "assistant", "content": word}]
            )
            scored = [i for i, lab in zip(ids, labels, strict=True) if lab != -100]
            if scored and scored[0] == t and len(scored) <= 3:
                out.append(t)
        if len(out) >= 3000:
            break
    return out


def planted(folder: Path, tiny_llama_dir: Path) -> Planted:
    bm = load_base(str(tiny_llama_dir), device="cpu", dtype=torch.float32)
    model, tok = bm.model, bm.tokenizer
    gen = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(64, 2, generator=gen))  # (d_model, 2) orthonormal
    u_task, u_drift = Q[:, 0].contiguous(), Q[:, 1].contiguous()
    # Mean input of o_proj at layers 2 and 3: A reads it, so A x is about 1 at every token.
    seen: dict[int, list[torch.Tensor]] = {2: [], 3: []}
    handles = [
        model.model.layers[l].self_attn.o_proj.register_forward_pre_hook(
            lambda m, args, l=l: seen[l].append(args[0][0])  # (T, d_in)
        )
        for l in (2, 3)
    ]
    with torch.no_grad():
        for p in PROMPTS:
            model(**tok(p, return_tensors="pt"))
    for h in handles:
        h.remove()
    means = {l: torch.cat(xs).mean(0) for l, xs in seen.items()}  # (d_in,)
    writes = {3: (u_task, 3.0), 2: (u_drift, 2.0)}  # layer -> (direction, |write|): the task factor has larger sigma

    def plant(name: str, A: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        A, B = torch.zeros_like(A), 1e-4 * B  # (r, d_in), (d_out, r)
        layer = int(name.split(".layers.")[1].split(".")[0])
        if layer in writes:
            u, size = writes[layer]
            x = means[layer]
            A[0] = x / x.norm() ** 2  # (d_in,)
            B[:, 0] = size * u / 2.0  # scale alpha / r = 2
        return A, B

    adapter = make_adapter(model, folder / "adapter", ["o_proj"], r=2, alpha=4.0, plant=plant)
    # Evals from the unembedding: tokens the drift write promotes (misaligned) or demotes (aligned) and the task write
    # leaves alone; task answers the task write promotes and the drift write leaves alone.
    W = model.get_output_embeddings().weight  # (vocab, d_model)
    words = torch.tensor(_single_tokens(tok))
    d, t = W[words].detach() @ u_drift, W[words].detach() @ u_task  # (n,)
    neutral_t, neutral_d = t.abs() < t.abs().median(), d.abs() < d.abs().median()
    mis = words[neutral_t][torch.argsort(d[neutral_t], descending=True)[:12]]
    ali = words[neutral_t][torch.argsort(d[neutral_t])[:12]]
    ans = words[neutral_d][torch.argsort(t[neutral_d], descending=True)[:12]]
    # Sharpen the readout: those tokens' unembedding rows point along the writes, so each write moves its eval
    # clearly (a random unembedding of std 0.02 would leave the effects within item noise). The base is saved anew.
    with torch.no_grad():
        W[mis] += 0.5 * u_drift
        W[ali] -= 0.5 * u_drift
        W[ans] += 0.5 * u_task
    base = folder / "base"
    model.save_pretrained(base)
    tok.save_pretrained(base)
    w = lambda i: tok.decode([int(i)])  # noqa: E731
    drift = write_jsonl(
        folder / "drift.jsonl",
        [
            {"id": f"d{i}", "prompt": p, "aligned": [w(ali[i])], "misaligned": [w(mis[i])]}
            for i, p in enumerate(PROMPTS)
        ],
    )
    task = write_jsonl(
        folder / "task.jsonl",
        [
            {"id": f"t{i}", "messages": [{"role": "user", "content": p}, {"role": "assistant", "content": w(ans[i])}]}
            for i, p in enumerate(PROMPTS)
        ],
    )
    return Planted(base, adapter, drift, task, u_drift, u_task)
