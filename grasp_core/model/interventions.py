"""Temporary edits of the residual stream, each a context manager whose hooks are removed in `finally`.

Layer outputs are the residual stream after each decoder block; `layers=None` means every block.
- record_residual: keep hidden states at chosen stream indices.
- ablate: h <- h - Z Z^T h (inference-time ablation; CAFT uses it during training only).
- steer: h <- h + v_i at chosen stream indices, one vector each (steering previews, steering in units of the
  adapter's shift, preventative steering during training).
- project_residual_grad: forward untouched, backward g <- P_perp g at the embeddings and every layer output (and,
  optionally, every block's mid-block stream).
- edit_stream: the hook all of them use, for any other per-index edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import GraspError
from .models import decoder_layers, mid_block_inputs


def _hidden(output: Any) -> Tensor:
    return output if isinstance(output, Tensor) else output[0]


StreamFn = Callable[[int, Tensor], "Tensor | None"]


@contextmanager
def edit_stream(model: Any, indices: Sequence[int], fn: StreamFn) -> Iterator[None]:
    """While the block runs, call fn(i, h) on hidden_states[i] for each stream index; a returned tensor replaces h.

    Index 0 is the input of block 0 (a pre-hook), not the embedding module's output: GPT-2 adds position
    embeddings and Gemma scales by sqrt(d_model) in between. Index i >= 1 is the output of block i - 1
    (for i = L that is before the final norm, which transformers' hidden_states[L] includes).
    """
    blocks = list(decoder_layers(model))
    handles = []
    try:
        for i in sorted(set(indices)):
            if not 0 <= i <= len(blocks):
                raise GraspError(
                    f"stream index {i} outside 0..{len(blocks)} (hidden_states of a {len(blocks)}-layer model)"
                )
            if i == 0:

                def pre(mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], i: int = i) -> Any:
                    if args and isinstance(args[0], Tensor):
                        new = fn(i, args[0])
                        return None if new is None else ((new, *args[1:]), kwargs)
                    h = kwargs.get("hidden_states")
                    if isinstance(h, Tensor):
                        new = fn(i, h)
                        return None if new is None else (args, {**kwargs, "hidden_states": new})
                    return None

                handles.append(blocks[0].register_forward_pre_hook(pre, with_kwargs=True))
            else:

                def post(mod: nn.Module, args: Any, out: Any, i: int = i) -> Any:
                    if isinstance(out, Tensor):
                        return fn(i, out)
                    if isinstance(out, tuple) and out and isinstance(out[0], Tensor):
                        new = fn(i, out[0])
                        return None if new is None else (new, *out[1:])
                    return None

                handles.append(blocks[i - 1].register_forward_hook(post))
        yield
    finally:
        for h in handles:
            h.remove()


def _layer_indices(model: Any, layers: Sequence[int] | None) -> list[int]:
    """Stream indices of block outputs: layer l -> hidden_states[l + 1]."""
    return [l + 1 for l in (range(len(decoder_layers(model))) if layers is None else layers)]


@contextmanager
def ablate(model: Any, Z: Tensor, layers: Sequence[int] | None = None) -> Iterator[None]:
    """Remove span(Z) from the residual stream: h <- h - (h Z) Z^T at every (or the given) layer output.

    Z: (d_model, k) with orthonormal columns.
    """
    if Z.numel() == 0:
        yield
        return

    def fn(i: int, h: Tensor) -> Tensor:  # (B, T, d_model)
        Zd = Z.to(h.device, h.dtype)  # (d_model, k)
        return h - (h @ Zd) @ Zd.T

    with edit_stream(model, _layer_indices(model, layers), fn):
        yield


@contextmanager
def steer(model: Any, vectors: dict[int, Tensor]) -> Iterator[None]:
    """Add vectors[i] (d_model,) to hidden_states[i] for each stream index i (0 = the input of block 0, i >= 1 the
    output of block i - 1): the stream indexing factors carry as `stream_layer`."""

    def fn(i: int, h: Tensor) -> Tensor:  # (B, T, d_model)
        return h + vectors[i].to(h.device, h.dtype)

    with edit_stream(model, list(vectors), fn):
        yield


@contextmanager
def project_residual_grad(
    model: Any, Z: Tensor, include_embeddings: bool = True, mid_block: bool = False
) -> Iterator[None]:
    """Backward-only projection: at the embeddings and every layer output, g <- g - (g Z) Z^T; with `mid_block`, also
    at every block's mid-block stream (after the attention's write, before the MLP reads it).

    The forward pass is unchanged, so the pretrained computation along Z is kept, but no parameter on any
    path is trained to move the stream along Z (GRASP.md, the `residual-grad` reading). At layer outputs alone, the
    gradient reaching a block's attention still has a part along Z through that block's MLP; the mid-block point
    removes it there too.
    """
    if Z.numel() == 0:
        yield
        return

    def project(g: Tensor) -> Tensor:  # (B, T, d_model)
        Zd = Z.to(g.device, g.dtype)  # (d_model, k)
        return g - (g @ Zd) @ Zd.T

    def fn(i: int, h: Tensor) -> None:
        if h.requires_grad:
            h.register_hook(project)  # fires with the tensor's whole gradient (every use of it summed)
        return None

    def mid(mod: nn.Module, args: tuple[Any, ...]) -> None:
        if args and isinstance(args[0], Tensor):
            fn(-1, args[0])

    handles = [m.register_forward_pre_hook(mid) for m in mid_block_inputs(model)] if mid_block else []
    try:
        with edit_stream(model, ([0] if include_embeddings else []) + _layer_indices(model, None), fn):
            yield
    finally:
        for h in handles:
            h.remove()


class _StopForward(Exception):
    pass


@contextmanager
def record_residual(model: Any, stream_layers: Sequence[int], stop_early: bool = True) -> Iterator[dict[int, Tensor]]:
    """Record hidden_states[i] for i in stream_layers (0 = input of the first block); with stop_early, the
    forward pass ends after the deepest needed block (call it through `run_until_recorded`)."""
    recorded: dict[int, Tensor] = {}
    deepest = max(stream_layers)

    def fn(i: int, h: Tensor) -> None:
        recorded[i] = h.detach()
        if stop_early and i == deepest:
            raise _StopForward
        return None

    with edit_stream(model, stream_layers, fn):
        yield recorded


def run_until_recorded(model: Any, **inputs: Any) -> None:
    """Run a forward pass that a `record_residual(stop_early=True)` block will cut short."""
    try:
        with torch.no_grad():
            model(**inputs, use_cache=False)
    except _StopForward:
        pass
