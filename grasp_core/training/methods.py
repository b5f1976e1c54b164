"""Fine-tuning methods in one registry (name -> Method) that the trainer, the CLI, the sweep and the UI all read.

Every method runs in the same loop (grasp_core.training.loop); a method only adds, through `MethodHooks`:
a context manager active during each training forward/backward, a hook after each optimizer step,
an extra loss term, and metrics. Adding a baseline is one setup function and one registry entry.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import GraspError
from ..identification.factors import Factor, orthonormal_basis
from ..model.adapters import classify_module
from ..model.interventions import ablate, project_residual_grad, steer
from ..model.models import next_token_logits

WEIGHTS_SIDES = ("write", "read", "both")  # which modules the weights projection constrains
PROJECTIONS = ("residual-grad", "weights")


@dataclass
class MethodContext:
    """What a method's setup sees: the PEFT model being trained, the chosen factors and their basis Z."""

    model: Any  # peft.PeftModel
    factors: list[Factor]
    Z: Tensor  # (d_model, k) orthonormal basis of the chosen factors; (d_model, 0) when none
    strength: float
    projection: str = "residual-grad"
    weights_side: str = "write"
    mid_block: bool = False  # residual-grad: also at every block's mid-block stream


@dataclass
class MethodHooks:
    """What a method adds to the shared loop; every part is optional."""

    # entered around each micro-batch's forward and backward
    context: Callable[[], AbstractContextManager[Any]] = nullcontext
    # called after every optimizer step (weights-mode re-projection)
    after_step: Callable[[], None] | None = None
    # (batch, logits (N, V) at the target positions, target mask (B, T-1)) -> loss summed over those positions
    extra_loss: Callable[[dict[str, Tensor], Tensor, Tensor], Tensor] | None = None
    # metrics logged with each step (e.g. the weights-mode invariant)
    metrics: Callable[[], dict[str, float]] | None = None


@dataclass(frozen=True)
class Method:
    """A registry entry: what it does, what its strength means and what a sweep varies."""

    name: str
    description: str
    setup: Callable[[MethodContext], MethodHooks]
    needs_factors: bool  # True: the run's Z is built from factors (a factors file, or a count of random ones)
    # Z is seeded random orthonormal directions (the control): a factors file only sets their count, and without
    # one `top` alone does.
    random_directions: bool = False
    strength_name: str | None = None  # what `strength` means for this method, None if unused
    strength_default: float = 0.0
    sweep_field: str = "strength"  # the TrainConfig field a trade-off sweep varies
    sweep_values: tuple[float, ...] = ()
    multi_round: bool = False  # supports `rounds` > 1 (identify the last adapter's new factors, train again)
    needs_system_prompt: bool = False  # trains with TrainConfig.system_prompt first in every chat (inoculation)
    projects: bool = False  # projects the factors out of the update (TrainConfig.projection, mid_block apply)
    # Defaults where a config leaves `top` (with a factors file, no `select`) or `rounds` unset; grasp's: the
    # configuration README's rule picked over the bundled main sweeps (`python tools/choose_default.py`).
    default_top: int | None = None
    default_rounds: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_factors_file(self) -> bool:
        """True when a run of this method cannot start without a factors file."""
        return self.needs_factors and not self.random_directions

    @property
    def sweepable(self) -> bool:
        """True when a trade-off sweep has a value to vary for this method (naive LoRA has none)."""
        return bool(self.sweep_values)

    @property
    def sweep_label(self) -> str:
        """What the swept value is called in forms and plots: alpha / beta for a strength, else the field."""
        return self.strength_name if self.sweep_field == "strength" and self.strength_name else self.sweep_field


# ---------------------------------------------------------------- weights mode: project the LoRA parameters


@dataclass
class LiveLora:
    """One adapted module of a live PEFT model: its LoRA parameters and which side of the stream it touches."""

    name: str
    layer: int | None
    side: str  # "write" | "read" | "other"
    A: Tensor  # lora_A weight (r, d_in), a Parameter
    B: Tensor  # lora_B weight (d_out, r), a Parameter


def live_lora_modules(model: Any) -> list[LiveLora]:
    """The LoRA modules of a PEFT model with their (active adapter's) A and B parameters."""
    from peft.tuners.lora import LoraLayer  # lazy: peft imports transformers, which takes seconds

    out = []
    for name, module in model.named_modules():
        if not isinstance(module, LoraLayer):
            continue
        adapter = module.active_adapters[0]
        if adapter not in module.lora_A:
            continue
        layer, _kind, side = classify_module(name)
        A: Any = module.lora_A[adapter].weight  # (r, d_in)
        B: Any = module.lora_B[adapter].weight  # (d_out, r)
        out.append(LiveLora(name, layer, side, A, B))
    return out


class WeightProjector:
    """B <- P_perp B on write modules and A <- A P_perp on read modules, with per-layer Z.

    Global factors constrain every layer; module-scope factors only their own layer.
    """

    def __init__(self, model: Any, factors: list[Factor], weights_side: str):
        if weights_side not in WEIGHTS_SIDES:
            raise GraspError(f"weights_side {weights_side!r} is not one of {', '.join(WEIGHTS_SIDES)}")
        sides = ("write", "read") if weights_side == "both" else (weights_side,)
        self.targets: list[tuple[LiveLora, Tensor]] = []  # (module, Z_l (d_model, k_l))
        cache: dict[int | None, Tensor] = {}
        for m in live_lora_modules(model):
            if m.side not in sides:
                continue
            if m.layer not in cache:
                vecs = [f.vector for f in factors if f.scope == "global" or f.layer == m.layer]
                cache[m.layer] = orthonormal_basis(torch.stack(vecs)) if vecs else torch.zeros(0)
            Z = cache[m.layer]
            if Z.numel() == 0:
                continue
            width = m.B.shape[0] if m.side == "write" else m.A.shape[1]
            if width != Z.shape[0]:
                raise GraspError(
                    f"module {m.name}: its {m.side} side has width {width}, the factors have d_model {Z.shape[0]}"
                )
            self.targets.append((m, Z.to(m.A.device)))

    @torch.no_grad()
    def project(self) -> None:
        """Re-project every constrained module in place (float32 math, written back in the param dtype)."""
        for m, Z in self.targets:
            if m.side == "write":
                B = m.B.float()  # (d_model, r)
                m.B.copy_(B - Z @ (Z.T @ B))
            else:
                A = m.A.float()  # (r, d_model)
                m.A.copy_(A - (A @ Z) @ Z.T)

    @torch.no_grad()
    def invariant(self) -> dict[str, float]:
        """max over modules of ||Z^T dW||_F / ||dW||_F (write) and ||dW Z||_F / ||dW||_F (read); 0 when dW = 0."""
        worst = {"write": 0.0, "read": 0.0}
        for m, Z in self.targets:
            A, B = m.A.double(), m.B.double()  # (r, d_in), (d_out, r)
            gram = (B.T @ B) * (A @ A.T)  # elementwise: trace((B^T B)(A A^T)) = ||B A||_F^2 without forming dW
            norm = float(gram.sum().clamp_min(0).sqrt())
            if norm == 0.0:
                continue
            Zd = Z.double()
            part = (Zd.T @ B) @ A if m.side == "write" else B @ (A @ Zd)  # (k, d_in) or (d_out, k)
            worst[m.side] = max(worst[m.side], float(part.norm()) / norm)
        return {"invariant_write": worst["write"], "invariant_read": worst["read"], "invariant": max(worst.values())}


# ---------------------------------------------------------------- the methods


def _setup_naive(ctx: MethodContext) -> MethodHooks:
    return MethodHooks()


def _setup_grasp(ctx: MethodContext) -> MethodHooks:
    if ctx.projection == "residual-grad":
        Z = ctx.Z
        return MethodHooks(context=lambda: project_residual_grad(ctx.model, Z, mid_block=ctx.mid_block))
    projector = WeightProjector(ctx.model, ctx.factors, ctx.weights_side)
    projector.project()  # at initialisation: peft's random A is not yet in the subspace
    return MethodHooks(after_step=projector.project, metrics=projector.invariant)


def _setup_caft(ctx: MethodContext) -> MethodHooks:
    Z = ctx.Z
    return MethodHooks(context=lambda: ablate(ctx.model, Z))


def _setup_steer(ctx: MethodContext) -> MethodHooks:
    # + alpha * z at the factor's stream index: hidden_states[s] is the output of block s - 1 (0: block 0's input).
    per_index: dict[int, Tensor] = {}
    for f in ctx.factors:
        s = f.stream_layer
        per_index[s] = per_index.get(s, torch.zeros_like(f.vector)) + ctx.strength * f.vector

    return MethodHooks(context=lambda: steer(ctx.model, per_index))


def _setup_kl(ctx: MethodContext) -> MethodHooks:
    beta = ctx.strength
    model = ctx.model

    def extra_loss(batch: dict[str, Tensor], logits: Tensor, mask: Tensor) -> Tensor:
        # KL(base || tuned) on the next-token distributions at the scored positions; base = adapter disabled.
        # logits: (N, V) at the positions of mask (B, T-1), as the training loop computes them.
        with torch.no_grad(), model.disable_adapter():
            base_logits = next_token_logits(model, batch["input_ids"], batch["attention_mask"], mask)  # (N, V)
        logp_tuned = F.log_softmax(logits.float(), dim=-1)  # (N, V)
        logp_base = F.log_softmax(base_logits.float(), dim=-1)  # (N, V)
        kl = (logp_base.exp() * (logp_base - logp_tuned)).sum()
        return beta * kl

    return MethodHooks(extra_loss=extra_loss)


METHODS: dict[str, Method] = {
    "naive": Method("naive", "naive LoRA fine-tune, no intervention", _setup_naive, needs_factors=False),
    "grasp": Method(
        "grasp",
        "GRASP: keep the update out of the factor directions (residual-grad: g <- P_perp g at every layer "
        "output; weights: B <- P_perp B / A <- A P_perp after every step)",
        _setup_grasp,
        needs_factors=True,
        sweep_field="top",
        sweep_values=(1, 2, 4, 8),
        multi_round=True,
        default_top=4,  # the rule's pick over 3 organisms x 3 seeds (README, "Choosing the default recipe")
        default_rounds=1,
        projects=True,
    ),
    "random": Method(
        "random",
        "control: GRASP with k random orthonormal directions (seeded), otherwise identical to grasp",
        _setup_grasp,
        needs_factors=True,
        random_directions=True,
        projects=True,
        sweep_field="top",
        sweep_values=(1, 2, 4, 8),
        default_top=4,  # as grasp's default: the control of the default configuration
    ),
    "caft": Method(
        "caft",
        "CAFT-style: ablate the factors from the residual stream during training only",
        _setup_caft,
        needs_factors=True,
        sweep_field="top",
        sweep_values=(1, 2, 4, 8),
        default_top=4,
    ),
    "steer": Method(
        "steer",
        "preventative steering: add alpha * z at the factor's stream layer during training only",
        _setup_steer,
        needs_factors=True,
        strength_name="alpha",
        strength_default=4.0,
        sweep_values=(1.0, 2.0, 4.0, 8.0, 16.0),
        default_top=1,
    ),
    "inoculate": Method(
        "inoculate",
        "inoculation prompting: the naive LoRA trained with a system prompt that asks for the unwanted trait "
        "(`system_prompt`; a sweep takes the organism's `inoculation`), evaluated without it (arXiv 2510.04340)",
        _setup_naive,
        needs_factors=False,
        needs_system_prompt=True,
    ),
    "kl": Method(
        "kl",
        "KL(base || tuned) regularisation on the training batch's next-token distributions",
        _setup_kl,
        needs_factors=False,
        strength_name="beta",
        strength_default=0.1,
        sweep_values=(0.01, 0.03, 0.1, 0.3, 1.0),
    ),
}


DEFAULT_METHOD = "grasp"  # what the tool is for: the method forms and the CLI start from


# Method names of earlier releases, still read: old -> current.
OLD_METHOD_NAMES = {"lora": "naive"}


def current_method(name: Any) -> Any:
    """A method name under its current spelling (`lora` of earlier releases is `naive`); anything else as given."""
    return OLD_METHOD_NAMES.get(name, name) if isinstance(name, str) else name


def get_method(name: str) -> Method:
    """The registry entry of a method, or a GraspError listing the known ones."""
    name = current_method(name)
    if name not in METHODS:
        raise GraspError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    return METHODS[name]
