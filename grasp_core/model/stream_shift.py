"""The adapter's shift of the residual stream: h_adapted - h_base at every stream index, from paired forward passes.

For a corpus batch, the same tokens go through the model twice, adapter on and adapter off, recording
hidden_states[l] for l = 0..L (0 = embeddings, l + 1 = output of layer l). Scored tokens leave out the first
position (the attention sink carries outlier norms) and padding. The evidence measures the shift along given
factors (evidence/shift.py); identification takes directions from it (identification/shift_factors.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..errors import GraspError
from .adapters import adapter_off
from .chat import encode_prompt, pad_batch, pad_id
from .interventions import record_residual, run_until_recorded
from .models import n_layers, unwrap

Item = list[dict[str, str]] | str


@dataclass
class PairedStreams:
    """One batch of a corpus through the model with the adapter on and off."""

    rows: list[int]  # the corpus items in this batch
    adapted: Tensor  # (L+1, B, T, d_model) hidden_states with the adapter on, float32
    base: Tensor  # (L+1, B, T, d_model) the same with the adapter off
    scored: Tensor  # (B, T) bool: real tokens except the first position


def encode_corpus(tokenizer: Any, corpus: Sequence[Item], max_length: int) -> list[list[int]]:
    """Token ids of every corpus item, cut to max_length; an item of fewer than 2 tokens is an error (nothing past
    the first position to score)."""
    ids = [encode_prompt(tokenizer, item)[:max_length] for item in corpus]
    empty = [i for i, x in enumerate(ids) if len(x) < 2]
    if empty:
        raise GraspError(f"corpus item {empty[0]} has fewer than 2 tokens: nothing to measure past the first")
    return ids


def scored_mask(batch: dict[str, Tensor]) -> Tensor:
    """(B, T) bool: real tokens except the first (attention-sink) position."""
    mask = batch["attention_mask"].bool().clone()
    mask[:, 0] = False
    return mask


@torch.no_grad()
def paired_streams(
    model: Any,
    tokenizer: Any,
    corpus: Sequence[Item],
    who: str,
    batch_size: int = 8,
    max_length: int = 256,
    progress: bool = True,
) -> Iterator[PairedStreams]:
    """Yield each batch's hidden states with the adapter on and off (`who` names the caller in errors and the
    progress bar). The model must carry an adapter; the corpus must not be empty."""
    adapter_off(model, who)  # fail before the first forward pass
    if not corpus:
        raise GraspError(f"{who}: the corpus is empty")
    layers = list(range(n_layers(unwrap(model)) + 1))
    device = next(unwrap(model).parameters()).device
    ids = encode_corpus(tokenizer, corpus, max_length)
    pad = pad_id(tokenizer)
    batches = [list(range(i, min(i + batch_size, len(ids)))) for i in range(0, len(ids), batch_size)]
    for rows in tqdm(batches, desc=who, unit="batch", disable=not progress, leave=False):
        batch = {key: v.to(device) for key, v in pad_batch([ids[i] for i in rows], pad).items()}
        recorded = []
        for ctx in (nullcontext(), adapter_off(model, who)):
            with ctx, record_residual(model, layers, stop_early=False) as rec:
                run_until_recorded(model, **batch)
            recorded.append(torch.stack([rec[l].float() for l in layers]))  # (L+1, B, T, d_model)
        yield PairedStreams(rows, recorded[0], recorded[1], scored_mask(batch))
