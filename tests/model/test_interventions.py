"""Residual-stream edits: ablate removes the component, steer adds, gradient projection, early-stopped records."""

from __future__ import annotations

import contextlib

import pytest
import torch
from model_fixtures import tiny_model

from grasp_core.identification.factors import orthonormal_basis
from grasp_core.model.interventions import ablate, project_residual_grad, record_residual, run_until_recorded, steer
from grasp_core.model.models import decoder_layers

FAMILIES = ["llama", "gpt2", "gpt_neox"]


def _inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    ids = torch.randint(0, 256, (2, 7), generator=torch.Generator().manual_seed(seed))
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def _Z(k: int = 2, seed: int = 3) -> torch.Tensor:
    return orthonormal_basis(torch.randn(k, 64, generator=torch.Generator().manual_seed(seed)))  # (64, k)


@pytest.mark.parametrize("family", FAMILIES)
@torch.no_grad()
def test_ablate_removes_the_component(family: str) -> None:
    model, Z = tiny_model(family), _Z()
    with record_residual(model, [1, 2, 3], stop_early=False) as before:
        run_until_recorded(model, **_inputs())
    assert float((before[2] @ Z).abs().max()) > 1e-3  # there was something to remove
    with ablate(model, Z), record_residual(model, [1, 2, 3], stop_early=False) as after:
        run_until_recorded(model, **_inputs())
    for i in (1, 2, 3):
        assert float((after[i] @ Z).abs().max()) < 1e-5, i
    with ablate(model, Z, layers=[0]), record_residual(model, [1, 2], stop_early=False) as some:
        run_until_recorded(model, **_inputs())
    assert float((some[1] @ Z).abs().max()) < 1e-5 and float((some[2] @ Z).abs().max()) > 1e-3
    assert all(not b._forward_hooks and not b._forward_pre_hooks for b in decoder_layers(model))  # removed on exit


@pytest.mark.parametrize("family", FAMILIES)
@torch.no_grad()
def test_steer_adds_the_vector(family: str) -> None:
    model = tiny_model(family)
    v = 0.5 * _Z(1)[:, 0]
    with record_residual(model, [0, 2], stop_early=False) as plain:
        run_until_recorded(model, **_inputs())
    with steer(model, {2: v}), record_residual(model, [2], stop_early=False) as steered:
        run_until_recorded(model, **_inputs())
    torch.testing.assert_close(steered[2] - plain[2], v.expand_as(plain[2]), atol=1e-5, rtol=0)
    with steer(model, {0: v}), record_residual(model, [0], stop_early=False) as emb:
        run_until_recorded(model, **_inputs())
    torch.testing.assert_close(emb[0] - plain[0], v.expand_as(plain[0]), atol=1e-6, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_project_residual_grad_makes_every_layer_gradient_orthogonal(family: str) -> None:
    model, Z = tiny_model(family), _Z(2)
    inputs = _inputs()

    def grads_at_stream(ctx: bool) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Gradients reaching hidden_states[0..L], seen by tensor hooks registered after the projection's."""
        seen: list[torch.Tensor] = []
        model.zero_grad()
        blocks = list(decoder_layers(model))

        def watch(h: torch.Tensor) -> None:
            if h.requires_grad:
                h.register_hook(lambda g: seen.append(g.detach().clone()))

        def pre(mod, args, kwargs):
            watch(args[0] if args else kwargs["hidden_states"])

        def post(mod, args, out):
            watch(out if isinstance(out, torch.Tensor) else out[0])

        with project_residual_grad(model, Z) if ctx else contextlib.nullcontext():
            handles = [blocks[0].register_forward_pre_hook(pre, with_kwargs=True)]
            handles += [b.register_forward_hook(post) for b in blocks]
            try:
                out = model(**inputs, labels=inputs["input_ids"])
            finally:
                for h in handles:
                    h.remove()
        out.loss.backward()
        return seen, out.loss.detach()

    plain, loss_plain = grads_at_stream(False)
    projected, loss_proj = grads_at_stream(True)
    assert len(projected) == len(plain) == 5  # embeddings + 4 layers
    assert torch.equal(loss_plain, loss_proj)  # the forward pass is untouched
    assert max(float((g @ Z).abs().max()) for g in plain) > 1e-6
    for g in projected:
        scale = float(g.abs().max())
        assert float((g @ Z).abs().max()) <= 1e-5 * scale + 1e-12
    assert all(not b._forward_hooks and not b._forward_pre_hooks for b in decoder_layers(model))  # removed on exit


@pytest.mark.parametrize("family", [*FAMILIES, "gemma"])  # gpt2 adds positions, gemma scales: index 0 differs
@torch.no_grad()
def test_record_residual_early_stop_matches_hidden_states(family: str) -> None:
    model = tiny_model(family)
    full = model(**_inputs(), output_hidden_states=True).hidden_states
    with record_residual(model, [0, 1, 2], stop_early=True) as rec:
        run_until_recorded(model, **_inputs())
    assert set(rec) == {0, 1, 2}
    for i in (0, 1, 2):
        torch.testing.assert_close(rec[i], full[i], atol=1e-6, rtol=0)


def test_stream_index_out_of_range() -> None:
    from grasp_core.errors import GraspError

    model = tiny_model("llama")
    with pytest.raises(GraspError, match="stream index 5 outside 0..4"):
        with record_residual(model, [5]):
            pass


def _attention_write_grads(model, Z: torch.Tensor, mid_block: bool) -> list[torch.Tensor]:
    """Per block, the gradient reaching the attention's output projection's output (what the attention writes)."""
    from grasp_core.model.models import unwrap

    seen: list[torch.Tensor] = []
    outs = [m for n, m in unwrap(model).named_modules() if n.endswith(("self_attn.o_proj", "attn.c_proj"))]

    def post(mod, args, out):
        out.register_hook(lambda g: seen.append(g.detach().clone()))

    handles = [m.register_forward_hook(post) for m in outs]
    try:
        model.zero_grad()
        with project_residual_grad(model, Z, mid_block=mid_block):
            model(**_inputs()).logits.pow(2).mean().backward()
    finally:
        for h in handles:
            h.remove()
    assert len(seen) == len(outs) == 4
    return seen


@pytest.mark.parametrize("family", ["llama", "gpt2", "gemma"])
def test_mid_block_projection_leaves_the_attention_no_gradient_along_z(family: str) -> None:
    """At layer outputs alone, the attention still gets a gradient along Z through its block's MLP; with the
    mid-block point it gets none, and the forward pass is the same."""
    model, Z = tiny_model(family), _Z(2)
    plain = _attention_write_grads(model, Z, mid_block=False)
    assert max(float((g @ Z).abs().max()) for g in plain) > 0.01 * max(float(g.abs().max()) for g in plain)
    mid = _attention_write_grads(model, Z, mid_block=True)
    for g in mid:
        assert float((g @ Z).abs().max()) <= 1e-5 * float(g.abs().max())
    with torch.no_grad(), project_residual_grad(model, Z, mid_block=True):
        same = model(**_inputs()).logits
    assert torch.equal(same, model(**_inputs()).logits)
    from grasp_core.model.models import mid_block_inputs

    assert all(not m._forward_pre_hooks for m in mid_block_inputs(model))  # removed on exit


def test_a_parallel_block_has_no_mid_block_stream() -> None:
    from grasp_core.errors import GraspError

    with pytest.raises(GraspError, match="in parallel from the same stream"):
        with project_residual_grad(tiny_model("gpt_neox"), _Z(2), mid_block=True):
            pass
