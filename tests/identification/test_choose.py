"""The one factor-picking function (file order, or a scope/side pool by sigma), the fit checks, random directions."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from model_fixtures import tiny_model

from grasp_core import (
    Factor,
    FactorSet,
    GraspError,
    check_fits,
    load_picked,
    pick,
    pick_indices,
    random_factors,
    save_factors,
)


def _fs(base: str | None = None, d: int = 64) -> FactorSet:
    """Global write 0-1, global read 0, two module factors; sigmas out of file order within each pool."""
    spec = [
        ("global", "write", 2.0, None),
        ("global", "write", 1.0, None),
        ("global", "read", 3.0, None),
        ("module", "write", 0.5, 1),
        ("module", "write", 0.9, 2),
    ]
    g = torch.Generator().manual_seed(0)
    factors = [
        Factor(f"f{i}", scope, side, sigma, 0.1, torch.randn(d, generator=g), layer=layer, index=i)  # type: ignore[arg-type]
        for i, (scope, side, sigma, layer) in enumerate(spec)
    ]
    return FactorSet(factors, base=base, adapter="a", adapter_hash="h", d_model=d, n_layers=4)


def test_file_order_select_top_and_all() -> None:
    fs = _fs()
    assert pick_indices(fs) == (0, 1, 2, 3, 4)
    assert pick_indices(fs, top=2) == (0, 1)
    assert pick_indices(fs, select=[4, 0]) == (4, 0)  # the hand-picked order is kept
    assert [f.id for f in pick(fs, top=3)] == ["f0", "f1", "f2"]


def test_a_scope_and_side_pool_is_ordered_by_sigma() -> None:
    fs = _fs()
    assert pick_indices(fs, top=2, scope="module", side="write") == (4, 3)  # sigma 0.9 before 0.5
    assert pick_indices(fs, scope="global", side="write") == (0, 1)
    assert pick_indices(fs, top=1, scope="global") == (2,)  # the read factor has the largest sigma


def test_bad_picks_are_named() -> None:
    fs = _fs()
    with pytest.raises(GraspError, match="`select` index 7 is out of range: factors file x has 5 factors"):
        pick_indices(fs, select=[0, 7], source="factors file x")
    with pytest.raises(GraspError, match="`top` 3 asks for more global write factors than the probe has"):
        pick_indices(fs, top=3, scope="global", side="write", source="the probe")
    with pytest.raises(GraspError, match="exclude each other"):
        pick_indices(fs, select=[0], top=1)
    with pytest.raises(GraspError, match="at least 1"):
        pick_indices(fs, top=0)
    with pytest.raises(GraspError, match="`select` names index 1 twice"):
        pick_indices(fs, select=[1, 0, 1])


def test_check_fits_refuses_another_model(tmp_path: Path) -> None:
    model = tiny_model("llama")  # d_model 64, 4 layers
    check_fits(_fs(), model, "any", "f")  # no base recorded: width and layers decide
    with pytest.raises(GraspError, match="d_model 32 but base b has d_model 64"):
        check_fits(_fs(d=32), model, "b", "f")
    with pytest.raises(GraspError, match="made for base 'other/model'"):
        check_fits(_fs(base="other/model"), model, "smollm2-135m", "f")
    deep = _fs()
    deep.factors[3].layer = 9
    with pytest.raises(GraspError, match="factor f3 is at layer 9, the base has 4"):
        check_fits(deep, model, "b", "f")
    path = save_factors(_fs(), tmp_path / "f.safetensors")
    assert [f.id for f in load_picked(path, model, "b", top=2)] == ["f0", "f1"]


def test_picked_factors_must_span_as_many_directions_as_they_are(tmp_path: Path) -> None:
    model = tiny_model("llama")
    fs = _fs()
    fs.factors[1].vector = -2.0 * fs.factors[0].vector  # f1 names f0's direction again
    fs.factors[2].vector = fs.factors[0].vector + fs.factors[3].vector  # f2 is a combination of f0 and f3
    path = save_factors(fs, tmp_path / "f.safetensors")
    with pytest.raises(GraspError, match=r"the 2 factors picked \(f0, f1\) span only 1 directions"):
        load_picked(path, model, "b", top=2)
    with pytest.raises(GraspError, match="span only 2 directions"):
        load_picked(path, model, "b", select=[0, 2, 3])
    assert [f.id for f in load_picked(path, model, "b", select=[0, 3, 4])] == ["f0", "f3", "f4"]


def test_random_directions_are_orthonormal_and_seeded() -> None:
    a, b, c = random_factors(64, 3, seed=1), random_factors(64, 3, seed=1), random_factors(64, 3, seed=2)
    Z = torch.stack([f.vector for f in a]).double()  # (3, 64)
    assert torch.allclose(Z @ Z.T, torch.eye(3, dtype=torch.float64), atol=1e-6)
    assert all(torch.equal(x.vector, y.vector) for x, y in zip(a, b, strict=True))
    assert not torch.allclose(a[0].vector, c[0].vector)
