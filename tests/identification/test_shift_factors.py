"""Shift factors: the directions a planted adapter writes are found in its activation shift, signed the way it
pushes; an adapter that moves nothing is refused; the source survives a file round trip and sigma ranks within it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from evidence_fixtures import PROMPTS, planted

from grasp_core.errors import GraspError
from grasp_core.identification.choose import pick_indices
from grasp_core.identification.factors import identify, load_factors, save_factors
from grasp_core.identification.shift_factors import shift_factors, with_shift_factors
from grasp_core.model.adapters import load_adapter, load_model


def _in_span(u: torch.Tensor, vectors: list[torch.Tensor]) -> float:
    """||P u|| for the span of `vectors` (orthonormal rows), u unit: 1 when u lies in it."""
    V = torch.stack(vectors).double()  # (k, d)
    return float((V @ u.double()).norm())


def test_planted_writes_are_the_shift_directions(tmp_path: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    bm = load_model(str(p.base), p.adapter)
    found, spectrum = shift_factors(bm.model, bm.tokenizer, PROMPTS, n_factors=3, batch_size=5, progress=False)
    glob = [f for f in found if f.scope == "global"]
    assert [f.id for f in glob] == ["shift-0", "shift-1", "shift-2"]
    assert all(f.source == "shift" and f.side == "write" for f in found)
    V = torch.stack([f.vector for f in glob])  # (3, d)
    assert torch.allclose(V @ V.T, torch.eye(3), atol=1e-5)  # orthonormal
    assert spectrum == sorted(spectrum, reverse=True) and spectrum[0] == pytest.approx(glob[0].sigma)
    # Both planted writes lie (mostly: layer 3's own blocks respond to the drift write) in the span of the first two
    # shift directions; a random unit vector of this width would keep about sqrt(2/64) = 0.18.
    assert _in_span(p.u_task, [f.vector for f in glob[:2]]) > 0.9
    assert _in_span(p.u_drift, [f.vector for f in glob[:2]]) > 0.9
    # The layers before the first write are not shifted, so they get no mean factor; layer 2's mean is the drift
    # write, signed the way the adapter pushes (A x is about +1 on these prompts).
    means = {f.layer: f for f in found if f.scope == "module"}
    assert set(means) == {2, 3}
    assert means[2].id == "L2.shift-mean" and means[2].stream_layer == 3
    assert float(means[2].vector @ p.u_drift) > 0.99
    assert 0.9 < means[2].energy <= 1.0 + 1e-6  # one direction written at every token
    total = sum(float(f.vector @ p.u_task) * f.sigma for f in glob)
    assert total > 0  # +z is the way the adapter pushes


def test_an_adapter_that_moves_nothing_is_refused(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from lora_fixtures import make_adapter

    from grasp_core.model.models import load_base

    base = load_base(str(tiny_llama_dir), device="cpu", dtype=torch.float32)
    zero = lambda name, A, B: (A, torch.zeros_like(B))  # noqa: E731
    folder = make_adapter(base.model, tmp_path / "zero", ["o_proj"], r=2, plant=zero)
    bm = load_model(str(tiny_llama_dir), folder)
    with pytest.raises(GraspError, match="does not move the residual stream"):
        shift_factors(bm.model, bm.tokenizer, PROMPTS, progress=False)
    with pytest.raises(GraspError, match="n_factors must be at least 1"):
        shift_factors(bm.model, bm.tokenizer, PROMPTS, n_factors=0, progress=False)
    base_only = load_model(str(tiny_llama_dir))
    with pytest.raises(GraspError, match="shift factors needs a model with an adapter"):
        shift_factors(base_only.model, base_only.tokenizer, PROMPTS, progress=False)


def test_both_sources_round_trip_and_sigma_ranks_within_a_source(tmp_path: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    bm = load_model(str(p.base), p.adapter)
    adapter = load_adapter(p.adapter, bm.model.config)
    fs = identify(adapter, n_layers=4, n_factors=2, per_module=0, sides=("write",))
    n_weights = len(fs)
    fs = with_shift_factors(fs, adapter, bm.model, bm.tokenizer, PROMPTS, n_factors=2, progress=False)
    assert [f.source for f in fs.factors[:n_weights]] == ["weights"] * n_weights
    assert {f.source for f in fs.factors[n_weights:]} == {"shift"} and "shift" in fs.global_sigma
    back = load_factors(save_factors(fs, tmp_path / "both.safetensors"))
    assert [(f.id, f.source) for f in back.factors] == [(f.id, f.source) for f in fs.factors]
    assert {r["source"] for r in back.rows()} == {"weights", "shift"}
    # Global write factors of both sources: the two rankings in turn, each by its own sigma (units differ).
    picked = [back.factors[i].id for i in pick_indices(back, top=4, scope="global", side="write")]
    assert picked == ["global-write-0", "shift-0", "global-write-1", "shift-1"]
    only = [back.factors[i].id for i in pick_indices(back, top=2, scope="global", factor_source="shift")]
    assert only == ["shift-0", "shift-1"]
    with pytest.raises(GraspError, match="more shift global factors"):
        pick_indices(back, top=3, scope="global", factor_source="shift")
    # A file written before factor sources existed reads as weights.
    old = load_factors(Path(__file__).parents[2] / "grasp_core/assets/organisms/persona/naive-lora/factors.safetensors")
    assert {f.source for f in old.factors} == {"weights"}
