"""Singular spectra of LoRA updates in low rank: dW = s B A is never formed (GRASP.md, step 1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..model.adapters import Adapter, LoraModule, Side, base_weight


@dataclass
class ModuleSpectrum:
    """SVD of one module's dW = U diag(S) V^T, with U (d_out, r), S (r,), V (d_in, r)."""

    name: str
    layer: int | None
    kind: str
    side: Side
    U: Tensor  # (d_out, r)
    S: Tensor  # (r,) descending
    V: Tensor  # (d_in, r)
    energy_share: float = 0.0  # ||dW||_F^2 of this module / sum over the adapter
    rel_norm: float | None = None  # ||dW||_F / ||W0||_F, when the base weights are given

    @property
    def energy(self) -> float:
        return float((self.S.double() ** 2).sum())


# Above this condition number of B or A, the Gram (Cholesky) route would lose more than ~1e-8 of Q's
# orthogonality (the error grows as eps * cond^2), so Householder QR is used instead.
_MAX_GRAM_COND = 1e4


def _gram_r(X: Tensor) -> Tensor | None:
    """R (r, r) upper triangular with X = Q R, Q orthonormal, from one GEMM: X^T X = R^T R (Cholesky QR).

    None when X is rank-deficient or too ill-conditioned for this route.
    """
    L, info = torch.linalg.cholesky_ex(X.T @ X)  # (r, r) lower, X^T X = L L^T
    if int(info) != 0:
        return None
    R = L.T  # (r, r) upper
    if not bool(torch.isfinite(R).all()) or float(torch.linalg.cond(R)) > _MAX_GRAM_COND:
        return None
    return R


def lowrank_svd(B: Tensor, A: Tensor, scale: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
    """SVD of scale * B @ A from thin QR factors: O((d_out + d_in) r^2) instead of O(d_out d_in r).

    B = Q_B R_B, A^T = Q_A R_A, svd(scale R_B R_A^T) = U' S V'^T, then U = Q_B U', V = Q_A V'.
    R comes from the Gram matrix when B and A are well conditioned (Q is then never formed:
    Q_B U' = B R_B^-1 U'), else from Householder QR. Signs are fixed so each left vector's largest
    entry is positive (SVD signs are arbitrary).
    """
    B64, A64 = B.double(), A.double()  # (d_out, r), (r, d_in)
    R_B, R_A = _gram_r(B64), _gram_r(A64.T)  # (r, r) each
    if R_B is not None and R_A is not None:
        core = scale * (R_B @ R_A.T)  # (r, r)
        U_c, S, Vh_c = torch.linalg.svd(core)  # (r, r), (r,), (r, r)
        U = B64 @ torch.linalg.solve_triangular(R_B, U_c, upper=True)  # (d_out, r) = Q_B U'
        V = A64.T @ torch.linalg.solve_triangular(R_A, Vh_c.T, upper=True)  # (d_in, r) = Q_A V'
    else:
        Q_B, R_B = torch.linalg.qr(B64)  # (d_out, r), (r, r)
        Q_A, R_A = torch.linalg.qr(A64.T)  # (d_in, r), (r, r)
        core = scale * (R_B @ R_A.T)  # (r, r)
        U_c, S, Vh_c = torch.linalg.svd(core)  # (r, r), (r,), (r, r)
        U = Q_B @ U_c  # (d_out, r)
        V = Q_A @ Vh_c.T  # (d_in, r)
    sign = torch.sign(U.gather(0, U.abs().argmax(0, keepdim=True)))  # (1, r)
    sign[sign == 0] = 1
    return U * sign, S, V * sign


@contextmanager
def _cpu_threads(n: int) -> Iterator[None]:
    """Run CPU ops on n threads: per-module GEMMs are a few ms, where thread start-up (and, on a busy
    machine, threads spinning for a core) costs more than the parallelism gives back."""
    before = torch.get_num_threads()
    torch.set_num_threads(min(n, before))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def module_spectrum(module: LoraModule) -> ModuleSpectrum:
    """Spectrum of one adapted module."""
    U, S, V = lowrank_svd(module.B, module.A, module.scale)
    return ModuleSpectrum(module.name, module.layer, module.kind, module.side, U, S, V)


def adapter_spectra(adapter: Adapter, model: Any | None = None) -> list[ModuleSpectrum]:
    """Spectra of every module, with energy shares and, given the base model, ||dW|| / ||W0||."""
    with _cpu_threads(1):
        spectra = [module_spectrum(m) for m in adapter.modules.values()]
    total = sum(s.energy for s in spectra) or 1.0
    for spec in spectra:
        spec.energy_share = spec.energy / total
        if model is not None:
            w0 = base_weight(model, adapter.modules[spec.name]).double()
            spec.rel_norm = float(spec.energy**0.5 / w0.norm().clamp_min(1e-12))
    return spectra


def spectra_table(spectra: list[ModuleSpectrum], n_sigma: int = 8) -> list[dict[str, Any]]:
    """One plain row per module (for tables, JSON and plots), with its largest `n_sigma` singular values."""
    rows = []
    for s in spectra:
        rows.append(
            {
                "module": s.name,
                "layer": s.layer,
                "kind": s.kind,
                "side": s.side,
                "sigma": [round(float(x), 6) for x in s.S[:n_sigma]],
                "top_sigma": float(s.S[0]) if len(s.S) else 0.0,
                "energy_share": s.energy_share,
                "top1_share": float(s.S[0] ** 2 / max(s.energy, 1e-30)) if len(s.S) else 0.0,
                "rel_norm": s.rel_norm,
            }
        )
    return rows
