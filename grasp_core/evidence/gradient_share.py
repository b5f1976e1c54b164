"""How much of the training signal lies along a factor: a training-time signal beside the inference-time ablation.

Ablation asks what the trained adapter does along z; GRASP asks what training would do along z if it could. On the
training chats, with the BASE (adapter off: where training starts) and its loss on the assistant tokens, take the
gradient g_i[t] = dNLL/dh_i[t] at every stream index i = 0..L (the embeddings and every layer output: the points the
residual-grad projection acts on). For a unit factor z:

    share(z) = d_model * sum_{i,t} (g_i[t] . z)^2 / sum_{i,t} ||g_i[t]||^2

1 is what a random direction carries on average; projecting z out of training removes share(z) / d_model of the
gradient's energy at those points. A candidate whose share is near 1 is one training hardly pushes along, so
projecting it costs little of what training learns (task and trait alike); one far above 1 is where training pushes.
Interval: 95% bootstrap over chats (the ratio of summed numerators and denominators, chats resampled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..errors import GraspError
from ..evaluation.stats import ITEMS, Interval, percentile_bounds
from ..identification.factors import Factor
from ..model.adapters import adapter_off
from ..model.chat import encode_chat, pad_batch, pad_id
from ..model.interventions import edit_stream
from ..model.models import n_layers, unwrap


@dataclass
class GradientShare:
    """Per-chat sums behind one factor's share: along z, and in all (the same for every factor)."""

    along: list[float]  # per chat: sum_{i,t} (g_i[t] . z)^2
    total: list[float]  # per chat: sum_{i,t} ||g_i[t]||^2
    d_model: int

    def share(self, n_boot: int = 2000, seed: int = 0) -> Interval:
        a = torch.tensor(self.along, dtype=torch.float64)  # (n,)
        t = torch.tensor(self.total, dtype=torch.float64)  # (n,)
        mean = float(self.d_model * a.sum() / t.sum().clamp_min(1e-300))
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randint(0, len(a), (n_boot, len(a)), generator=gen)  # (n_boot, n)
        boots = self.d_model * a[idx].sum(1) / t[idx].sum(1).clamp_min(1e-300)
        lo, hi = percentile_bounds(boots)
        return Interval(mean, lo, hi, ITEMS, len(a))


def training_gradient_share(
    model: Any,
    tokenizer: Any,
    chats: Sequence[list[dict[str, str]]],
    factors: Sequence[Factor],
    batch_size: int = 8,
    max_length: int = 256,
    progress: bool = True,
) -> list[GradientShare]:
    """Per factor, the training loss's gradient at the stream points along it, per chat (model = base + adapter; the
    adapter is switched off for the passes)."""
    if not chats:
        raise GraspError("training gradient share: no training chats")
    encoded = [encode_chat(tokenizer, c, max_length) for c in chats]
    empty = [i for i, (_ids, labels) in enumerate(encoded) if all(lab == -100 for lab in labels)]
    if empty:
        raise GraspError(f"training gradient share: chat {empty[0]} has no assistant token to take a loss on")
    m = unwrap(model)
    device = next(m.parameters()).device
    Z = torch.stack([f.vector.float() for f in factors], dim=1).to(device)  # (d_model, k)
    along = torch.zeros(len(chats), Z.shape[1], dtype=torch.float64)
    total = torch.zeros(len(chats), dtype=torch.float64)
    pad = pad_id(tokenizer)
    batches = [list(range(i, min(i + batch_size, len(chats)))) for i in range(0, len(chats), batch_size)]
    for rows in tqdm(batches, desc="training gradient share", unit="batch", disable=not progress, leave=False):
        ids = [encoded[i][0] for i in rows]
        batch = {k: v.to(device) for k, v in pad_batch(ids, pad, [encoded[i][1] for i in rows]).items()}
        with adapter_off(model, "training gradient share"):
            sums = _batch_sums(model, batch, Z, n_layers(m))
        for a, t in sums:
            along[rows] += a
            total[rows] += t
    width = int(Z.shape[0])
    return [GradientShare(along[:, j].tolist(), total.tolist(), width) for j in range(Z.shape[1])]


def _batch_sums(model: Any, batch: dict[str, Tensor], Z: Tensor, layers: int) -> list[tuple[Tensor, Tensor]]:
    """Per stream index, ((B, k) sum over tokens of (g . z_j)^2, (B,) sum over tokens of ||g||^2) of one batch."""
    sums: list[tuple[Tensor, Tensor]] = []
    start: list[Tensor] = []

    def keep(g: Tensor) -> None:  # (B, T, d_model)
        g = g.float()
        sums.append((((g @ Z) ** 2).sum(1).double().cpu(), (g**2).sum((1, 2)).double().cpu()))

    def fn(i: int, h: Tensor) -> Tensor | None:
        if i == 0:  # the stream starts a graph here: nothing below it (no parameter) gets a gradient
            start.append(h.detach().requires_grad_(True))
            return start[0]
        h.register_hook(keep)
        return None

    with torch.enable_grad():
        with edit_stream(model, list(range(layers + 1)), fn):
            loss = model(**batch, use_cache=False).loss
        (g0,) = torch.autograd.grad(loss, start)  # fires `keep` at every layer output on the way
    keep(g0)
    return sums
