"""The adapter's own shift along a factor, and steering in units of it.

For a factor z (d_model,), the adapter's shift at token t and stream layer l is
    d_l[t] = (h_adapted_l[t] - h_base_l[t]) . z
from two forward passes of the same tokens (adapter on, adapter off). Summaries leave out the first position (the
attention sink carries outlier norms) and padding. A factor the adapter shifts as much on unrelated prompts as on
its training prompts is a context-free mode shift: the signature of a leak.

Steering unit: offsets c_l, added as c_l * z at every stream index l of the BASE, calibrated in one pass so that
the base's mean projection at each layer moves by exactly the adapter's mean shift m_l (multiple = 1 reproduces what
the fine-tune added along z, on the calibration prompts). `multiple` scales the offsets linearly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import GraspError
from ..evaluation.stats import ITEMS, Interval, bootstrap, percentile_bounds
from ..identification.factors import Factor
from ..model.adapters import adapter_off
from ..model.chat import pad_batch, pad_id
from ..model.interventions import edit_stream, steer
from ..model.models import n_layers, unwrap
from ..model.stream_shift import Item, encode_corpus, paired_streams, scored_mask


@dataclass
class Shift:
    """One factor's adapter shift over one corpus."""

    per_prompt: list[float]  # mean d_s[t] over each prompt's scored tokens, at the factor's stream layer s
    per_layer: list[float]  # m_l: mean d_l[t] over all scored tokens, l = 0..L (hidden_states indices)
    base_per_layer: list[float]  # mean h_base_l[t] . z over the same tokens
    n_tokens: int

    def mean(self, n_boot: int = 2000, seed: int = 0) -> Interval:
        return bootstrap(self.per_prompt, n_boot, seed)


@torch.no_grad()
def adapter_shift(
    model: Any,
    tokenizer: Any,
    corpus: Sequence[Item],
    factors: Sequence[Factor],
    batch_size: int = 8,
    max_length: int = 256,
    progress: bool = True,
) -> list[Shift]:
    """Per factor, the adapter's shift along z on every prompt and at every layer (adapter on minus off)."""
    L = n_layers(unwrap(model))
    device = next(unwrap(model).parameters()).device
    Z = torch.stack([f.vector.float() for f in factors], dim=1).to(device)  # (d_model, k)
    k = Z.shape[1]
    per_prompt = torch.zeros(len(corpus), k, dtype=torch.float64)  # at each factor's own stream layer
    sums = torch.zeros(L + 1, k, dtype=torch.float64)  # (L+1, k) sum of d_l over scored tokens
    base_sums = torch.zeros(L + 1, k, dtype=torch.float64)
    n_tok = 0
    stream = torch.tensor([f.stream_layer for f in factors])  # (k,)
    for p in paired_streams(model, tokenizer, corpus, "adapter shift", batch_size, max_length, progress):
        proj_a, proj_b = p.adapted @ Z, p.base @ Z  # (L+1, B, T, k)
        d = (proj_a - proj_b).double()  # (L+1, B, T, k)
        mask = p.scored[None, :, :, None].to(d.device)  # (1, B, T, 1)
        sums += (d * mask).sum(dim=(1, 2)).cpu()
        base_sums += (proj_b.double() * mask).sum(dim=(1, 2)).cpu()
        n_tok += int(mask.sum())
        counts = mask[0, :, :, 0].sum(1).clamp_min(1)  # (B,)
        per_layer_prompt = (d * mask).sum(2) / counts[None, :, None]  # (L+1, B, k)
        for j in range(k):
            per_prompt[p.rows, j] = per_layer_prompt[int(stream[j]), :, j].cpu()
    return [
        Shift(
            per_prompt=per_prompt[:, j].tolist(),
            per_layer=(sums[:, j] / max(n_tok, 1)).tolist(),
            base_per_layer=(base_sums[:, j] / max(n_tok, 1)).tolist(),
            n_tokens=n_tok,
        )
        for j in range(k)
    ]


def shift_ratio(unrelated: Shift, train: Shift, n_boot: int = 2000, seed: int = 0) -> Interval | None:
    """mean shift on unrelated prompts / mean shift on training prompts, each corpus resampled on its own."""
    u = torch.tensor(unrelated.per_prompt, dtype=torch.float64)  # (n_u,)
    t = torch.tensor(train.per_prompt, dtype=torch.float64)  # (n_t,)
    if abs(float(t.mean())) < 1e-12:
        return None
    gen = torch.Generator().manual_seed(seed)
    ub = u[torch.randint(0, len(u), (n_boot, len(u)), generator=gen)].mean(1)  # (n_boot,)
    tb = t[torch.randint(0, len(t), (n_boot, len(t)), generator=gen)].mean(1)  # (n_boot,)
    ok = tb.abs() > 1e-12
    lo, hi = percentile_bounds(ub[ok] / tb[ok])
    return Interval(float(u.mean() / t.mean()), lo, hi, ITEMS, len(u) + len(t))


@torch.no_grad()
def steering_offsets(
    model: Any, tokenizer: Any, corpus: Sequence[Item], factor: Factor, shift: Shift, max_length: int = 256
) -> list[float]:
    """c_l (l = 0..L) such that the base with c_l * z added at every stream index l moves its mean projection on
    z at each layer by the adapter's mean shift m_l, on these prompts (one padded batch, so the mean is exact)."""
    off = adapter_off(model, "steering calibration")
    L = n_layers(unwrap(model))
    if len(shift.per_layer) != L + 1:
        raise GraspError(f"factor {factor.id}: shift has {len(shift.per_layer)} layers, the model {L + 1}")
    device = next(unwrap(model).parameters()).device
    pad = pad_id(tokenizer)
    batch = {k: v.to(device) for k, v in pad_batch(encode_corpus(tokenizer, corpus, max_length), pad).items()}
    mask = scored_mask(batch)  # (B, T)
    z = factor.vector.float().to(device)  # (d_model,)
    offsets = [0.0] * (L + 1)

    def calibrate(i: int, h: Tensor) -> Tensor:  # h: (B, T, d_model)
        now = float(((h.float() @ z) * mask).sum() / mask.sum())  # mean projection so far (earlier offsets in)
        offsets[i] = shift.base_per_layer[i] + shift.per_layer[i] - now
        return h + (offsets[i] * z).to(h.dtype)

    with off, edit_stream(model, list(range(L + 1)), calibrate):
        model(**batch, use_cache=False)
    return offsets


def steer_by_offsets(model: Any, factor: Factor, offsets: Sequence[float], multiple: float = 1.0) -> Any:
    """Context manager: add multiple * c_l * z at every stream index l (use it with the adapter disabled): 1 adds
    what the fine-tune added along z, 2 twice that."""
    z = factor.vector.float()  # (d_model,)
    return steer(model, {i: multiple * c * z for i, c in enumerate(offsets)})
