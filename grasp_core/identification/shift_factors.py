"""Candidate factors from what the adapter DOES, beside what it wrote: directions of its activation shift.

The weights give directions the adapter can write (spectra.py, factors.py); these come from what it writes on a
corpus (the bundled unrelated prompts by default). At layer output l (hidden_states index l + 1, l = 0..L-1) and
scored token t (model/stream_shift.py), the shift relative to the stream's own scale is

    delta_l[t] = (h_adapted - h_base)_{l+1}[t] / ||h_base_{l+1}[t]|| * sqrt(d_model)      (d_model,)

so that late layers, whose streams are larger, do not outweigh early ones. Then, with G_l = sum_t delta_l[t]
delta_l[t]^T (d_model, d_model) and G = sum_l G_l (the uncentred second moment, so a constant mode shift counts):

- global shift factors `shift-j`: eigenvectors z_j of G, largest first; sigma_j = sqrt(lambda_j), energy =
  lambda_j / tr G, loading on layer l = sqrt(z_j^T G_l z_j); signed so that the mean shift has z_j . m >= 0 (+z is
  the way the adapter pushes). Orthonormal by construction.
- per-layer mean shift factors `L<l>.shift-mean`: m_l = mean_t delta_l[t] / ||.||, scope "module" at layer l
  (training projects it at that layer only, as a module factor); sigma = ||m_l||, energy = m_l^T G_l m_l / tr G_l
  (unit m_l: the share of the layer's shift energy along its mean).

Memory: L Gram matrices of d_model^2 float32 on the model's device (40 MiB for SmolLM2-135M; 2 GiB for 32 layers
of 4096).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ..errors import GraspError
from ..model.adapters import Adapter
from ..model.models import n_layers, unwrap
from ..model.stream_shift import Item, paired_streams
from .factors import Factor, FactorSet, identify
from .spectra import ModuleSpectrum

FACTOR_SOURCES = ("weights", "shift", "both")  # `grasp identify --source`: where candidate directions come from


def shift_factors(
    model: Any,
    tokenizer: Any,
    corpus: Sequence[Item],
    n_factors: int = 8,
    per_layer: bool = True,
    batch_size: int = 8,
    max_length: int = 256,
    progress: bool = True,
) -> tuple[list[Factor], list[float]]:
    """The adapter's shift directions on `corpus` (model = base + adapter): n_factors global ones, then one mean
    direction per layer (per_layer), and the global spectrum sigma_j of every direction."""
    if n_factors < 1:
        raise GraspError(f"shift factors: n_factors must be at least 1, got {n_factors}")
    L = n_layers(unwrap(model))
    device = next(unwrap(model).parameters()).device
    G: Tensor | None = None  # (L, d, d) per-layer Gram of delta
    sums: Tensor | None = None  # (L, d) per-layer sum of delta
    n_tok = 0
    for p in paired_streams(model, tokenizer, corpus, "shift factors", batch_size, max_length, progress):
        a, b = p.adapted[1:], p.base[1:]  # (L, B, T, d): layer outputs
        width = a.shape[-1]
        scale = b.norm(dim=-1, keepdim=True).clamp_min(1e-6) / math.sqrt(width)  # (L, B, T, 1)
        mask = p.scored.to(a.device)  # (B, T)
        delta = ((a - b) / scale)[:, mask]  # (L, N, d) scored tokens only
        if G is None or sums is None:
            G = torch.zeros(L, width, width, device=device)
            sums = torch.zeros(L, width, device=device, dtype=torch.float64)
        G += delta.transpose(1, 2) @ delta  # (L, d, d)
        sums += delta.double().sum(1)
        n_tok += int(delta.shape[1])
    assert G is not None and sums is not None
    if n_tok == 0 or float(G.diagonal(dim1=1, dim2=2).sum()) <= 0.0:
        raise GraspError(
            "shift factors: the adapter does not move the residual stream on this corpus (adapter on and off give "
            "the same hidden states), so there is no shift direction to take; is it a trained adapter?"
        )
    G64 = G.double().cpu()  # (L, d, d)
    total = G64.sum(0)  # (d, d)
    evals, evecs = torch.linalg.eigh(total)  # ascending
    evals, evecs = evals.flip(0).clamp_min(0.0), evecs.flip(1)  # (d,), (d, d) largest first
    trace = float(evals.sum())
    mean = sums.cpu().sum(0)  # (d,) summed shift over layers and tokens
    factors: list[Factor] = []
    for j in range(min(n_factors, int((evals > 1e-12 * evals[0]).sum()))):
        z = evecs[:, j]  # (d,)
        sign = -1.0 if float(z @ mean) < 0 else 1.0
        loadings = [float(torch.sqrt((z @ G64[l] @ z).clamp_min(0.0))) for l in range(L)]
        factors.append(
            Factor(
                id=f"shift-{j}",
                scope="global",
                side="write",
                source="shift",
                sigma=float(evals[j].sqrt()),
                energy=float(evals[j]) / trace,
                vector=(z * sign).float().contiguous(),
                index=j,
                loadings=loadings,
            )
        )
    if per_layer:
        for l in range(L):
            m = sums[l].cpu() / n_tok  # (d,)
            norm = float(m.norm())
            layer_energy = float(G64[l].trace())
            if norm < 1e-12 or layer_energy <= 0.0:
                continue  # the adapter does not shift this layer's output
            u = m / norm
            factors.append(
                Factor(
                    id=f"L{l}.shift-mean",
                    scope="module",
                    side="write",
                    source="shift",
                    sigma=norm,
                    energy=float(u @ G64[l] @ u) / layer_energy,
                    vector=u.float().contiguous(),
                    layer=l,
                )
            )
    return factors, [float(x) for x in evals.sqrt()]


def with_shift_factors(
    fs: FactorSet | None,
    adapter: Adapter,
    model: Any,
    tokenizer: Any,
    corpus: Sequence[Item],
    n_factors: int = 8,
    per_layer: bool = True,
    progress: bool = True,
) -> FactorSet:
    """`fs` (the weights' factors; None for shift alone) with the adapter's shift factors appended after them, and
    the shift spectrum under global_sigma["shift"]."""
    found, spectrum = shift_factors(model, tokenizer, corpus, n_factors, per_layer, progress=progress)
    width = found[0].vector.shape[0]
    if fs is None:
        fs = FactorSet(
            factors=[],
            base=adapter.base,
            adapter=str(adapter.path),
            adapter_hash=adapter.hash,
            d_model=width,
            n_layers=n_layers(unwrap(model)),
        )
    if fs.d_model != width:
        raise GraspError(f"adapter {adapter.path}: shift directions have width {width}, its factors {fs.d_model}")
    fs.factors += found
    fs.global_sigma["shift"] = spectrum
    return fs


def identify_from(
    source: str,
    adapter: Adapter,
    layers: int,
    n_factors: int = 8,
    per_module: int = 1,
    spectra: list[ModuleSpectrum] | None = None,
    shift_inputs: tuple[Any, Any, Sequence[Item]] | None = None,
    progress: bool = True,
) -> FactorSet:
    """An adapter's candidate factors from `source` (FACTOR_SOURCES): its weights' (factors.identify), its activation shift's
    (shift_inputs = model with the adapter on, tokenizer, corpus; per_module > 0 adds each layer's mean shift), or
    both, the weights' first."""
    if source not in FACTOR_SOURCES:
        raise GraspError(f"factor source {source!r}: use one of {', '.join(FACTOR_SOURCES)}")
    fs = None
    if source != "shift":
        fs = identify(adapter, layers, n_factors=n_factors, per_module=per_module, spectra=spectra)
    if source != "weights":
        if shift_inputs is None:
            raise GraspError(f"factor source {source}: the adapter's shift needs the model, its tokenizer and a corpus")
        model, tokenizer, corpus = shift_inputs
        fs = with_shift_factors(fs, adapter, model, tokenizer, corpus, n_factors, per_module > 0, progress)
    assert fs is not None
    return fs
