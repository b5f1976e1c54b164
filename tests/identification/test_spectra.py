"""Low-rank spectra equal a dense SVD of dW, for random factors and for real PEFT adapters (merge checks scale)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lora_fixtures import FAMILY_MODULES, make_adapter
from model_fixtures import tiny_model

from grasp_core.identification.spectra import adapter_spectra, lowrank_svd, spectra_table
from grasp_core.model.adapters import load_adapter


def _check_against_dense(dW: torch.Tensor, U: torch.Tensor, S: torch.Tensor, V: torch.Tensor) -> None:
    r = S.shape[0]
    U_d, S_d, Vh_d = torch.linalg.svd(dW.double(), full_matrices=False)
    torch.testing.assert_close(S, S_d[:r], rtol=1e-5, atol=1e-12)
    # Vectors agree up to sign: |<u_i, u_dense_i>| = 1 (singular values are distinct for random factors).
    torch.testing.assert_close((U * U_d[:, :r]).sum(0).abs(), torch.ones(r, dtype=torch.float64), rtol=0, atol=1e-6)
    torch.testing.assert_close((V * Vh_d[:r].T).sum(0).abs(), torch.ones(r, dtype=torch.float64), rtol=0, atol=1e-6)
    torch.testing.assert_close(U @ torch.diag(S) @ V.T, dW.double(), rtol=0, atol=1e-9 * float(S_d[0]) + 1e-12)


@pytest.mark.parametrize("d_out,d_in,r", [(96, 64, 8), (64, 200, 4), (300, 300, 16), (10, 12, 1)])
def test_lowrank_svd_matches_dense(d_out: int, d_in: int, r: int) -> None:
    gen = torch.Generator().manual_seed(d_out + d_in + r)
    B, A = torch.randn(d_out, r, generator=gen), torch.randn(r, d_in, generator=gen)
    U, S, V = lowrank_svd(B, A, scale=0.7)
    assert U.shape == (d_out, r) and S.shape == (r,) and V.shape == (d_in, r)
    assert bool((S[:-1] >= S[1:]).all())
    _check_against_dense(0.7 * B.double() @ A.double(), U, S, V)


def test_lowrank_svd_rank_deficient_product() -> None:
    # B has rank 1 although r = 4: the trailing singular values are zero, not noise.
    z = torch.randn(50, 1)
    B, A = z @ torch.randn(1, 4), torch.randn(4, 40)
    _, S, _ = lowrank_svd(B, A)
    assert float(S[1:].abs().max()) < 1e-6 * float(S[0])  # float32 inputs: rounding only


def _dense_deltas(model, folder: Path) -> dict[str, torch.Tensor]:
    """dW of every adapted module as PEFT itself computes it: merged weight minus the base weight."""
    from peft import PeftModel

    base_w = {n: p.detach().clone() for n, p in model.named_parameters()}
    merged = PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    out = {}
    for name, p in merged.named_parameters():
        if name.endswith(".weight") and not torch.equal(p, base_w[name]):
            module = name[: -len(".weight")]
            dW = (p.detach() - base_w[name]).double()
            out[module] = dW.T if type(merged.get_submodule(module)).__name__ == "Conv1D" else dW
    return out


@pytest.mark.parametrize(
    "family,kwargs",
    [
        ("llama", {}),
        ("llama", {"use_rslora": True}),
        ("llama", {"rank_pattern": {"down_proj": 2}, "alpha_pattern": {"o_proj": 32.0}}),
        ("gpt2", {}),
        ("gpt_neox", {}),
    ],
)
def test_adapter_spectra_match_peft_merge(tmp_path: Path, family: str, kwargs: dict) -> None:
    model = tiny_model(family)
    folder = make_adapter(model, tmp_path / "a", FAMILY_MODULES[family][0], r=4, alpha=8.0, **kwargs)
    adapter = load_adapter(folder, model.config)
    dense = _dense_deltas(model, folder)
    assert set(dense) == set(adapter.modules)
    spectra = adapter_spectra(adapter, model)
    for spec in spectra:
        mod = adapter.modules[spec.name]
        # Scaling (alpha/r, alpha/sqrt(r), patterns) and Conv1D orientation both show up in this comparison.
        torch.testing.assert_close(mod.delta(), dense[spec.name], rtol=1e-4, atol=1e-7)
        _check_against_dense(mod.delta(), spec.U, spec.S, spec.V)
        assert spec.rel_norm is not None and spec.rel_norm > 0
    assert abs(sum(s.energy_share for s in spectra) - 1.0) < 1e-9
    rows = spectra_table(spectra)
    assert len(rows) == len(spectra) and rows[0]["top_sigma"] == pytest.approx(float(spectra[0].S[0]))
    if "rank_pattern" in kwargs:
        assert {m.r for m in adapter.modules.values() if m.kind == "down_proj"} == {2}
        o = next(m for m in adapter.modules.values() if m.kind == "o_proj")
        assert o.scale == pytest.approx(32.0 / 4)
    if kwargs.get("use_rslora"):
        assert next(iter(adapter.modules.values())).scale == pytest.approx(8.0 / 2.0)


def test_ill_conditioned_factors_take_the_qr_route_and_stay_exact() -> None:
    # cond(B) = 1e6 is past the Gram route's limit: the Householder fallback must give the same SVD.
    gen = torch.Generator().manual_seed(5)
    Q, _ = torch.linalg.qr(torch.randn(80, 6, generator=gen, dtype=torch.float64))
    B = Q @ torch.diag(torch.logspace(0, -6, 6, dtype=torch.float64))  # (80, 6)
    A = torch.randn(6, 50, generator=gen, dtype=torch.float64)
    from grasp_core.identification.spectra import _gram_r

    assert _gram_r(B) is None and _gram_r(A.T) is not None
    U, S, V = lowrank_svd(B, A, 1.5)
    _check_against_dense(1.5 * B @ A, U, S, V)
