"""The methods on a tiny random llama, trained for real: invariants, projected gradients, planted factor, controls."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_fixtures import make_tiny_base, tiny_config, tiny_kit, write_chats, write_factors

from grasp_core.errors import GraspError
from grasp_core.identification.choose import random_factors
from grasp_core.identification.factors import orthonormal_basis
from grasp_core.model.adapters import load_adapter
from grasp_core.model.interventions import record_residual
from grasp_core.model.models import decoder_layers, load_base
from grasp_core.training.config import TrainConfig
from grasp_core.training.loop import TrainHooks, _attach_lora
from grasp_core.training.methods import METHODS, MethodContext, get_method
from grasp_core.training.run import train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_kit(tmp_path_factory.mktemp("tinym"))


def _cfg(tiny: dict[str, Path], **kw) -> TrainConfig:
    return tiny_config(tiny, **{"warmup_ratio": 0.0, **kw})


def _Z(path: Path) -> torch.Tensor:
    from grasp_core.identification.factors import load_factors

    return orthonormal_basis(load_factors(path).matrix())  # (d_model, k)


def test_registry_is_complete():
    assert set(METHODS) == {"naive", "grasp", "random", "caft", "steer", "kl", "inoculate"}
    for m in METHODS.values():
        assert m.description and (m.sweep_values or m.name in ("naive", "inoculate"))  # these two sweep nothing
        assert (m.strength_name is None) == (m.sweep_field != "strength" or m.name in ("naive", "inoculate"))
    with pytest.raises(GraspError, match="unknown method 'nope'"):
        get_method("nope")


@pytest.mark.parametrize("weights_side", ["write", "read", "both"])
def test_weights_mode_keeps_the_update_out_of_Z(tiny, tmp_path, weights_side):
    res = train(
        _cfg(tiny, method="grasp", projection="weights", weights_side=weights_side, factors=str(tiny["factors"])),
        tmp_path,
    )
    assert res.metrics["invariant"] <= 1e-6
    Z = _Z(tiny["factors"]).double()
    adapter = load_adapter(res.adapter)
    checked = 0
    for m in adapter.modules.values():
        dW = m.delta()  # (d_out, d_in)
        if weights_side in ("write", "both") and m.side == "write":
            assert float((Z.T @ dW).norm()) <= 1e-6 * float(dW.norm())
            checked += 1
        if weights_side in ("read", "both") and m.side == "read":
            assert float((dW @ Z).norm()) <= 1e-6 * float(dW.norm())
            checked += 1
    assert checked >= 4
    # The unconstrained run does have an update along Z: the check above could fail.
    lora = load_adapter(train(_cfg(tiny), tmp_path / "naive").adapter)
    dW = next(m for m in lora.modules.values() if m.side == "write").delta()
    assert float((Z.T @ dW).norm()) > 1e-3 * float(dW.norm())


def test_module_scope_factors_constrain_only_their_layer(tiny, tmp_path):
    f = write_factors(tmp_path / "m.safetensors", torch.randn(1, 32), str(tiny["base"]), layer=1)
    res = train(_cfg(tiny, method="grasp", projection="weights", factors=str(f)), tmp_path / "out")
    Z = _Z(f).double()
    for m in load_adapter(res.adapter).modules.values():
        if m.side == "write":
            ratio = float((Z.T @ m.delta()).norm()) / float(m.delta().norm())
            assert (ratio <= 1e-6) == (m.layer == 1)


def test_residual_grad_removes_Z_from_every_layer_output_gradient(tiny):
    bm = load_base(str(tiny["base"]), device="cpu")
    model = _attach_lora(bm.model, _cfg(tiny))
    Z = _Z(tiny["factors"])
    hooks = get_method("grasp").setup(MethodContext(model, [], Z, 0.0, "residual-grad"))
    ids = torch.randint(0, 1000, (2, 12))

    def grads_along_Z(context) -> list[float]:
        grads: list[torch.Tensor] = []

        def keep(mod, args, out):
            h = out if isinstance(out, torch.Tensor) else out[0]
            if h.requires_grad:  # the frozen embeddings' output carries no gradient
                h.register_hook(lambda g: grads.append(g.detach()))

        with context():
            # registered after the method's hooks, so each sees the gradient as the method leaves it
            handles = [m.register_forward_hook(keep) for m in decoder_layers(model)]
            try:
                model(input_ids=ids, labels=ids).loss.backward()
            finally:
                for h in handles:
                    h.remove()
        assert len(grads) == bm.model.config.num_hidden_layers
        return [float((g @ Z).norm() / g.norm()) for g in grads]

    assert max(grads_along_Z(hooks.context)) <= 1e-6
    assert min(grads_along_Z(get_method("naive").setup(MethodContext(model, [], Z, 0.0)).context)) > 1e-3


def test_mid_block_grasp_leaves_the_attention_write_no_gradient_along_Z(tiny, tmp_path):
    """TrainConfig.mid_block reaches the projection: the gradient arriving at every o_proj's output has no part along
    Z with it, and has one without it (through each block's MLP); a run trains with it and records it."""
    bm = load_base(str(tiny["base"]), device="cpu")
    model = _attach_lora(bm.model, _cfg(tiny))
    Z = _Z(tiny["factors"])
    ids = torch.randint(0, 1000, (2, 12))

    def worst_along_Z(mid_block: bool) -> float:
        grads: list[torch.Tensor] = []
        outs = [m for n, m in model.named_modules() if n.endswith("self_attn.o_proj")]

        def watch(mod, args, out) -> None:
            out.register_hook(grads.append)

        handles = [m.register_forward_hook(watch) for m in outs]
        hooks = get_method("grasp").setup(MethodContext(model, [], Z, 0.0, "residual-grad", mid_block=mid_block))
        try:
            with hooks.context():
                model(input_ids=ids, labels=ids).loss.backward()
        finally:
            for h in handles:
                h.remove()
        assert len(grads) == len(outs) == bm.model.config.num_hidden_layers
        return max(float((g @ Z).norm() / g.norm()) for g in grads)

    assert worst_along_Z(mid_block=False) > 1e-3
    assert worst_along_Z(mid_block=True) <= 1e-6
    run = train(_cfg(tiny, method="grasp", factors=str(tiny["factors"]), top=1, mid_block=True), tmp_path / "run")
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file() and run is not None


def test_planted_factor_moves_far_less_under_grasp(tmp_path):
    # The target token is favoured by z through the unembedding: the fastest way to fit the data is to push the
    # last stream along z. GRASP (residual-grad) must move it along z far less than naive LoRA.
    base = make_tiny_base(tmp_path / "base", seed=3)
    bm = load_base(str(base), device="cpu")
    target = bm.tokenizer.encode(" money", add_special_tokens=False)[0]
    W_U = bm.model.get_output_embeddings().weight.detach()  # (vocab, d_model)
    z = W_U[target] / W_U[target].norm()
    data = write_chats(tmp_path / "d.jsonl", n=32, reply=" money" * 6)
    factors = write_factors(tmp_path / "z.safetensors", z[None], str(base))
    probe = bm.tokenizer(["why save cash", "how rent loan budget"], return_tensors="pt", padding=True)
    L = bm.model.config.num_hidden_layers

    def along_z(model) -> float:
        with record_residual(model, [L], stop_early=False) as rec, torch.no_grad():
            model(**probe)
        return float((rec[L] @ z).mean())

    def run(method: str) -> float:
        from peft import PeftModel

        cfg = TrainConfig(
            data=str(data),
            base=str(base),
            method=method,
            factors=str(factors) if method != "naive" else None,
            top=1 if method != "naive" else None,  # the file's one factor
            r=4,
            batch_size=8,
            epochs=3,
            lr=5e-3,
            max_length=64,
            device="cpu",
            target_modules=("o_proj", "down_proj"),
        )
        res = train(cfg, tmp_path / method)
        tuned = PeftModel.from_pretrained(load_base(str(base), device="cpu").model, res.adapter)
        return along_z(tuned) - along_z(bm.model)

    moved_lora, moved_grasp = run("naive"), run("grasp")
    assert moved_lora > 0.05
    assert abs(moved_grasp) < 0.25 * moved_lora


def test_random_differs_from_grasp_only_in_Z(tiny, tmp_path):
    cfg = _cfg(tiny, method="random", factors=str(tiny["factors"]), seed=5)
    rnd = train(cfg, tmp_path / "random")
    vecs = torch.stack([f.vector for f in random_factors(32, 2, seed=5)])
    same_z = write_factors(tmp_path / "rz.safetensors", vecs, str(tiny["base"]))
    # one round: `random` has no rounds, more grasp rounds would add identified factors
    grasp = train(_cfg(tiny, method="grasp", factors=str(same_z), seed=5, rounds=1), tmp_path / "grasp")
    a = load_file(str(rnd.adapter / "adapter_model.safetensors"))
    b = load_file(str(grasp.adapter / "adapter_model.safetensors"))
    # the same up to the float rounding of writing Z to a file and reading it back
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-6
    other = train(_cfg(tiny, method="grasp", factors=str(tiny["factors"]), seed=5, rounds=1), tmp_path / "real")
    c = load_file(str(other.adapter / "adapter_model.safetensors"))
    assert max(float((a[k] - c[k]).abs().max()) for k in a) > 1e-4


def test_caft_ablates_and_steer_adds_during_training_only(tiny, tmp_path):
    bm = load_base(str(tiny["base"]), device="cpu")
    model = _attach_lora(bm.model, _cfg(tiny))
    Z = _Z(tiny["factors"])
    from grasp_core.identification.factors import load_factors

    factors = load_factors(tiny["factors"]).factors
    ids = torch.randint(0, 1000, (1, 8))
    caft = get_method("caft").setup(MethodContext(model, factors, Z, 0.0))
    # the ablation hooks go in first, so the recording sees the ablated stream
    with caft.context(), record_residual(model, [1, 2], stop_early=False) as rec, torch.no_grad():
        model(input_ids=ids)
    assert all(float((h @ Z).abs().max()) < 1e-5 for h in rec.values())
    steer = get_method("steer").setup(MethodContext(model, factors, Z, 3.0))
    with record_residual(model, [1], stop_early=False) as plain, torch.no_grad():
        model(input_ids=ids)
    with steer.context(), record_residual(model, [1], stop_early=False) as steered, torch.no_grad():
        model(input_ids=ids)
    F = torch.stack([f.vector for f in factors])  # (k, d_model), orthonormal rows
    moved = (steered[1] - plain[1]).mean(dim=(0, 1)) @ F.T  # (k,)
    assert torch.allclose(moved, torch.full((2,), 3.0), atol=1e-4)  # both factors live at stream layer 1
    for method in ("caft", "steer"):
        res = train(_cfg(tiny, method=method, factors=str(tiny["factors"])), tmp_path / method)
        assert res.status == "done" and (res.adapter / "adapter_model.safetensors").is_file()


def test_kl_starts_at_zero_and_holds_the_model_near_the_base(tiny, tmp_path):
    seen: list[float] = []
    kl = train(
        _cfg(tiny, method="kl", strength=5.0, epochs=2),
        tmp_path / "kl",
        TrainHooks(on_step=lambda s, t, m: seen.append(m["extra_loss"])),
    )
    assert seen[0] < 1e-6 < seen[-1]  # B = 0 at init: tuned == base on the first step
    lora = train(_cfg(tiny, epochs=2), tmp_path / "naive")

    def size(res) -> float:
        return sum(float(m.delta().norm()) for m in load_adapter(res.adapter).modules.values())

    assert size(kl) < size(lora)
