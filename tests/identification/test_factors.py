"""Factors: a planted shared write direction is found, files round-trip, the logit lens names tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lora_fixtures import FAMILY_MODULES, make_adapter, planted_direction_plant, tiny_with_tokenizer
from model_fixtures import tiny_model

from grasp_core.errors import GraspError
from grasp_core.identification.factors import (
    cosine_matrix,
    identify,
    load_factors,
    logit_lens,
    orthonormal_basis,
    save_factors,
)
from grasp_core.model.adapters import load_adapter


def _unit(d: int, seed: int) -> torch.Tensor:
    z = torch.randn(d, generator=torch.Generator().manual_seed(seed))
    return z / z.norm()


@pytest.mark.parametrize("family", ["llama", "gpt2", "gpt_neox"])
def test_planted_direction_is_global_factor_0(tmp_path: Path, family: str) -> None:
    model = tiny_model(family)
    z = _unit(64, 7)
    folder = make_adapter(model, tmp_path / "a", FAMILY_MODULES[family][0], r=4, plant=planted_direction_plant(z))
    fs = identify(load_adapter(folder, model.config), n_layers=4, n_factors=3)
    g0 = fs.factors[0]
    assert g0.id == "global-write-0" and g0.scope == "global"
    assert abs(float(g0.vector @ z)) > 0.99
    assert abs(float(g0.vector.norm()) - 1) < 1e-5
    assert len(g0.loadings) == 4 and min(g0.loadings) > 0
    assert 1 <= g0.stream_layer <= 4  # a write factor lives at the output of a layer
    # The read side was left random: its top factor is not z.
    r0 = fs.by_id("global-read-0")
    assert abs(float(r0.vector @ z)) < 0.9
    module_ids = [f.id for f in fs.factors if f.scope == "module"]
    assert len(module_ids) == len(load_adapter(folder).modules)


def test_identify_without_write_modules_fails(tmp_path: Path) -> None:
    model = tiny_model("llama")
    folder = make_adapter(model, tmp_path / "a", ["q_proj"], r=2)
    with pytest.raises(GraspError, match="no write or read modules"):
        identify(load_adapter(folder), n_layers=4, sides=("write",))


def test_factors_file_round_trip(tmp_path: Path) -> None:
    model = tiny_model("llama")
    folder = make_adapter(model, tmp_path / "a", ["o_proj", "down_proj", "up_proj"], r=4)
    fs = identify(load_adapter(folder), n_layers=4, n_factors=2)
    path = save_factors(fs, tmp_path / "f.safetensors")
    back = load_factors(path)
    assert back.meta() == fs.meta()
    for a, b in zip(fs.factors, back.factors, strict=True):
        assert torch.equal(a.vector, b.vector) and a.stream_layer == b.stream_layer
    assert back.matrix([0, 1]).shape == (2, 64)
    with pytest.raises(GraspError, match="out of range"):
        back.factor(len(back))
    with pytest.raises(GraspError, match="no factor 'nope'"):
        back.by_id("nope")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(GraspError, match="not a readable safetensors factors file"):
        load_factors(bad)
    with pytest.raises(GraspError, match="not found"):
        load_factors(tmp_path / "missing.safetensors")


def test_basis_and_cosines() -> None:
    v = torch.randn(3, 20)
    v = torch.cat([v, v[:1] * 2])  # a duplicated direction does not add a column
    Z = orthonormal_basis(v)
    assert Z.shape == (20, 3)
    torch.testing.assert_close(Z.T @ Z, torch.eye(3), atol=1e-5, rtol=0)
    c = cosine_matrix(v)
    assert c[0, 3] == pytest.approx(1.0, abs=1e-5)


def test_logit_lens_promotes_the_token_it_points_at(bundled_tokenizer) -> None:
    model = tiny_with_tokenizer(bundled_tokenizer)
    W_U = model.get_output_embeddings().weight.detach()  # (vocab, d_model)
    target = bundled_tokenizer.encode(" money")[0]
    lens = logit_lens(model, bundled_tokenizer, W_U[target] / W_U[target].norm(), k=5)
    assert len(lens["promoted"]) == 5 and len(lens["suppressed"]) == 5
    assert all(isinstance(t, str) for t, _ in lens["promoted"])
    assert lens["promoted"][0][0] == " money"
    lens_neg = logit_lens(model, bundled_tokenizer, -W_U[target] / W_U[target].norm(), k=5)
    assert lens_neg["suppressed"][0][0] == " money"


def test_rows_and_indices_of_a_factor_set(tmp_path: Path) -> None:
    model = tiny_model("llama")
    folder = make_adapter(model, tmp_path / "a", ["o_proj", "down_proj", "up_proj"], r=4)
    fs = identify(load_adapter(folder), n_layers=4, n_factors=2, per_module=1)
    rows = fs.rows()
    assert [r["id"] for r in rows] == [f.id for f in fs.factors]  # file order, every factor
    glob = fs.rows(("global",))
    assert glob and all(r["scope"] == "global" for r in glob) and len(glob) < len(rows)
    for row, f in zip(rows, fs.factors, strict=True):
        # a module factor shows its module's layer, a global one the stream layer it lives at
        assert row["layer"] == (f.layer if f.layer is not None else f.stream_layer)
        assert (row["sigma"], row["energy"], row["side"]) == (f.sigma, f.energy, f.side)
    last = fs.factors[-1]
    assert fs.index_of(last.id) == len(fs) - 1 and fs.factor(fs.index_of(last.id)) is last
    with pytest.raises(GraspError, match="no factor 'nope'"):
        fs.index_of("nope")


def test_a_factors_file_is_checked_on_load(tmp_path: Path) -> None:
    """Degenerate factors are refused with the file and factor named: zero, non-finite, the wrong width, metadata
    that is not what save_factors writes."""
    import json

    from safetensors.torch import save_file

    from grasp_core.identification.factors import Factor, FactorSet

    def write(name: str, vectors: torch.Tensor, d: int = 8) -> Path:
        fs = [
            Factor(id=f"f{i}", scope="global", side="write", sigma=1.0, energy=0.1, vector=v)
            for i, v in enumerate(vectors)
        ]
        return save_factors(FactorSet(fs, "b", "a", "h", d, 2), tmp_path / name)

    good = torch.eye(8)[:2]
    assert len(load_factors(write("good.safetensors", good))) == 2
    zero = good.clone()
    zero[1] = 0
    with pytest.raises(GraspError, match=r"zero.safetensors: factor 1 \(f1\): vector is zero"):
        load_factors(write("zero.safetensors", zero))
    nan = good.clone()
    nan[0, 3] = float("nan")
    with pytest.raises(GraspError, match=r"nan.safetensors: factor 0 \(f0\): vector has NaN or infinite values"):
        load_factors(write("nan.safetensors", nan))
    with pytest.raises(
        GraspError, match=r"wide.safetensors: factor 0 \(f0\): vector of shape \(8,\), but the file says d_model 16"
    ):
        load_factors(write("wide.safetensors", good, d=16))
    save_file(
        {"factor.0": good[0]},
        str(tmp_path / "meta.safetensors"),
        metadata={"grasp_factors": json.dumps({"factors": 3})},
    )
    with pytest.raises(GraspError, match=r"meta.safetensors: malformed grasp_factors metadata"):
        load_factors(tmp_path / "meta.safetensors")
