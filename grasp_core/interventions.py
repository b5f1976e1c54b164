"""Temporary edits of the residual stream, each a context manager whose hooks are removed in `finally`.

Layer outputs are the residual stream after each decoder block; `layers=None` means every block.
- record_residual: keep hidden states at chosen stream indices.
- ablate: h <- h - Z Z^T h (inference-time ablation; CAFT uses it during training only).
- steer: h <- h + v (steering previews; preventative steering during training).
- project_residual_grad: forward untouched, backward g <- P_perp g at the embeddings and every layer output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from .models import decoder_layers, unwrap


def _map_output(output: Any, fn: Callable[[Tensor], Tensor]) -> Any:
    """Apply fn to the hidden-state part of a block's output (a tensor, or a tuple whose first item is one)."""
    if isinstance(output, Tensor):
        return fn(output)
    if isinstance(output, tuple) and output and isinstance(output[0], Tensor):
        return (fn(output[0]), *output[1:])
    return output


def _hidden(output: Any) -> Tensor:
    return output if isinstance(output, Tensor) else output[0]


def stream_modules(model: Any) -> list[nn.Module]:
    """Modules whose outputs are the residual stream: [embeddings, layer 0, ..., layer L-1] (hidden_states order)."""
    return [unwrap(model).get_input_embeddings(), *decoder_layers(model)]


def _targets(model: Any, layers: Sequence[int] | None, include_embeddings: bool) -> list[nn.Module]:
    blocks = list(decoder_layers(model))
    chosen = blocks if layers is None else [blocks[i] for i in layers]
    if include_embeddings:
        chosen = [unwrap(model).get_input_embeddings(), *chosen]
    return chosen


@contextmanager
def _forward_hooks(modules: Sequence[nn.Module], hook: Callable[..., Any]) -> Iterator[None]:
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


@contextmanager
def ablate(model: Any, Z: Tensor, layers: Sequence[int] | None = None) -> Iterator[None]:
    """Remove span(Z) from the residual stream: h <- h - (h Z) Z^T at every (or the given) layer output.

    Z: (d_model, k) with orthonormal columns.
    """
    if Z.numel() == 0:
        yield
        return

    def fn(h: Tensor) -> Tensor:  # (B, T, d_model)
        Zd = Z.to(h.device, h.dtype)
        return h - (h @ Zd) @ Zd.T

    with _forward_hooks(_targets(model, layers, False), lambda mod, args, out: _map_output(out, fn)):
        yield


@contextmanager
def steer(model: Any, vector: Tensor, layers: Sequence[int], include_embeddings: bool = False) -> Iterator[None]:
    """Add `vector` (d_model,) to the residual stream at the output of the given layers (and the embeddings)."""

    def fn(h: Tensor) -> Tensor:  # (B, T, d_model)
        return h + vector.to(h.device, h.dtype)

    with _forward_hooks(_targets(model, layers, include_embeddings), lambda mod, args, out: _map_output(out, fn)):
        yield


@contextmanager
def project_residual_grad(model: Any, Z: Tensor, include_embeddings: bool = True) -> Iterator[None]:
    """Backward-only projection: at the embeddings and every layer output, g <- g - (g Z) Z^T.

    The forward pass is unchanged, so the pretrained computation along Z is kept, but no parameter on any
    path is trained to move the stream along Z (GRASP.md, the `residual-grad` reading).
    """
    if Z.numel() == 0:
        yield
        return

    def project(g: Tensor) -> Tensor:  # (B, T, d_model)
        Zd = Z.to(g.device, g.dtype)
        return g - (g @ Zd) @ Zd.T

    def hook(mod: nn.Module, args: Any, out: Any) -> Any:
        h = _hidden(out)
        if h.requires_grad:
            h.register_hook(project)
        return None

    with _forward_hooks(_targets(model, None, include_embeddings), hook):
        yield


class _StopForward(Exception):
    pass


@contextmanager
def record_residual(model: Any, stream_layers: Sequence[int], stop_early: bool = True) -> Iterator[dict[int, Tensor]]:
    """Record hidden_states[i] for i in stream_layers (0 = embeddings); with stop_early, the forward pass
    ends after the deepest needed block (call it through `run_until_recorded`)."""
    mods = stream_modules(model)
    recorded: dict[int, Tensor] = {}
    deepest = max(stream_layers)
    handles = []
    for i in sorted(set(stream_layers)):

        def hook(mod: nn.Module, args: Any, out: Any, i: int = i) -> None:
            recorded[i] = _hidden(out).detach()
            if stop_early and i == deepest:
                raise _StopForward

        handles.append(mods[i].register_forward_hook(hook))
    try:
        yield recorded
    finally:
        for h in handles:
            h.remove()


def run_until_recorded(model: Any, **inputs: Any) -> None:
    """Run a forward pass that a `record_residual(stop_early=True)` block will cut short."""
    try:
        with torch.no_grad():
            model(**inputs, use_cache=False)
    except _StopForward:
        pass
