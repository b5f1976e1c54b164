"""Steering previews: what the model says with alpha * z added to the residual stream at a factor's layer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import GraspError
from ..model.chat import generate_reply
from ..model.interventions import steer
from ..model.models import n_layers, unwrap


@dataclass
class SteeringSample:
    """One generated reply under h <- h + alpha * z (alpha in units of the unit vector z)."""

    alpha: float
    text: str


@torch.no_grad()
def steering_preview(
    model: Any,
    tokenizer: Any,
    prompt: str | list[dict[str, str]],
    direction: Tensor,
    layer: int,
    alphas: Sequence[float] = (-8.0, 0.0, 8.0),
    max_new_tokens: int = 40,
    do_sample: bool = False,
) -> list[SteeringSample]:
    """A reply per alpha with alpha * z added to the stream at `layer` (a hidden_states index), z the unit direction.

    Greedy by default, so the previews are deterministic; the alpha = 0 reply is the unsteered model.
    """
    depth = n_layers(unwrap(model))
    if not 0 <= layer <= depth:
        raise GraspError(f"steering_preview: layer {layer} outside 0..{depth} (hidden_states index)")
    if max_new_tokens < 1:
        raise GraspError(f"steering_preview: max_new_tokens must be >= 1, got {max_new_tokens}")
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    z = direction.float() / direction.float().norm().clamp_min(1e-12)  # (d_model,) unit
    out: list[SteeringSample] = []
    for alpha in alphas:
        with steer(model, {layer: alpha * z}):
            reply = generate_reply(model, tokenizer, messages, max_new_tokens, do_sample=do_sample)
        out.append(SteeringSample(float(alpha), reply))
    return out
