"""Which factors a training run constrains: chosen from a factors file (checked against the model), random
directions for the control, or, between `iterate` rounds, the new top factors of the last adapter's spectrum."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .errors import GraspError
from .factors import Factor, identify, load_factors, orthonormal_basis
from .methods import METHODS, random_factors
from .models import BUNDLED, d_model, load_config, n_layers

# A spectrum direction counts as new when at least this share of its norm lies outside the current span.
NEW_FACTOR_MIN_RESIDUAL = 0.5


def portable_base(spec: str) -> str:
    """A base name that travels: the hub id for a bundled alias (resolve_base maps it back), else the spec
    (absolute for a local folder)."""
    if spec in BUNDLED:
        return BUNDLED[spec][2]
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return spec


def choose_factors(config: Any, model: Any) -> list[Factor]:
    """The factors a run's Z is built from (empty for methods that need none), checked against the model."""
    if not METHODS[config.method].needs_factors:
        return []
    width = d_model(model)
    if config.factors is None:  # `random` with a count only
        return random_factors(width, int(config.top), config.seed)
    fs = load_factors(config.factors)
    if fs.d_model != width:
        raise GraspError(
            f"factors file {config.factors} has d_model {fs.d_model} but base {config.base} has d_model {width}: "
            "they come from different models"
        )
    if fs.base and portable_base(fs.base) != portable_base(config.base):
        raise GraspError(
            f"factors file {config.factors} was made for base {fs.base!r}, but this run trains base {config.base!r}"
        )
    if config.select is not None:
        bad = [i for i in config.select if not 0 <= i < len(fs)]
        if bad:
            raise GraspError(
                f"`select` index {bad[0]} is out of range: factors file {config.factors} has {len(fs)} factors "
                f"(0..{len(fs) - 1})"
            )
        chosen = [fs.factors[i] for i in config.select]
    else:
        chosen = fs.factors[: config.top] if config.top is not None else list(fs.factors)
    L = n_layers(model)
    for f in chosen:
        if f.layer is not None and not 0 <= f.layer < L:
            raise GraspError(f"factors file {config.factors}: factor {f.id} is at layer {f.layer}, the base has {L}")
    if config.method == "random":
        # The control differs from grasp only in Z: as many directions, random and seeded.
        return random_factors(width, len(chosen), config.seed)
    return chosen


def next_round_factors(used: list[Factor], adapter_dir: Path, k_new: int, round_index: int) -> list[Factor]:
    """`used` plus the top k_new global write factors of the adapter's own spectrum not already in span(used)."""
    from .adapters import load_adapter

    adapter = load_adapter(adapter_dir)
    if adapter.base:
        layers = n_layers(load_config(adapter.base))
    else:
        layers = max((m.layer for m in adapter.modules.values() if m.layer is not None), default=0) + 1
    fs = identify(adapter, layers, top_k=k_new + len(used), per_module=0, sides=("write",))
    Z = orthonormal_basis(torch.stack([f.vector for f in used])) if used else torch.zeros(0)  # (d_model, k)
    new: list[Factor] = []
    for f in fs.factors:
        if f.scope != "global" or len(new) >= k_new:
            continue
        residual = f.vector - Z @ (Z.T @ f.vector) if Z.numel() else f.vector  # (d_model,)
        if float(residual.norm()) < NEW_FACTOR_MIN_RESIDUAL:
            continue
        f.id = f"round{round_index}-{f.id}"
        new.append(f)
        Z = orthonormal_basis(torch.stack([g.vector for g in [*used, *new]]))
    return [*used, *new]
