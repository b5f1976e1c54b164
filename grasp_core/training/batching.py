"""Training data for the fine-tuning loop: tokenised chats, a seeded length-bucketed step plan, rank shards."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..errors import GraspError
from ..model.chat import CHARS_PER_TOKEN_MAX, encode_chat, load_chat_jsonl, pad_batch

# Examples are sorted by length inside windows of this many micro-batches, so a batch pads little
# while the order stays shuffled at the scale of an epoch.
BUCKET_WINDOW = 16
# Before tokenising, a chat is cut to max_length * CHARS_PER_TOKEN_MAX characters, so the first max_length tokens are
# those of the whole chat, and an 18 MB line costs no more than a short one.


@dataclass
class TokenizedData:
    """Token ids and assistant-only labels of every usable example, with what was cut or dropped."""

    input_ids: list[list[int]]
    labels: list[list[int]]
    sources: list[str]  # "file, line N" of each kept example
    n_truncated: int = 0  # longer than max_length, cut to it
    n_cut: int = 0  # of those, cut by characters (CHARS_PER_TOKEN_MAX) before tokenising
    dropped: list[str] = field(default_factory=list)  # no assistant token left after truncation

    def __len__(self) -> int:
        return len(self.input_ids)

    def n_targets(self, i: int) -> int:
        """Tokens example i is scored on: labels shifted by one, as next-token prediction sees them."""
        return sum(1 for t in self.labels[i][1:] if t != -100)


def cut_chars(messages: list[dict[str, str]], budget: int) -> list[dict[str, str]]:
    """The chat's turns up to `budget` characters of content in all (the turn that crosses it cut, later ones
    dropped); the same list object when it fits."""
    if sum(len(m["content"]) for m in messages) <= budget:
        return messages
    out, left = [], budget
    for m in messages:
        if left <= 0:
            break
        out.append({**m, "content": m["content"][:left]})
        left -= len(m["content"])
    return out


def with_system_prompt(messages: list[dict[str, str]], system_prompt: str | None) -> list[dict[str, str]]:
    """The chat with `system_prompt` as its first turn (joined before a system turn it already has); as it is when
    None."""
    if system_prompt is None:
        return messages
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{system_prompt}\n\n{messages[0]['content']}"}, *messages[1:]]
    return [{"role": "system", "content": system_prompt}, *messages]


def tokenize_chats(
    path: str | Path, tokenizer: Any, max_length: int, system_prompt: str | None = None
) -> TokenizedData:
    """Read a chat JSONL (every line needs an assistant turn) and tokenise it with the loss mask (every chat opened
    by `system_prompt` when given: inoculation prompting)."""
    examples = load_chat_jsonl(path, need_assistant=True)
    out = TokenizedData([], [], [])
    for ex in examples:
        full = with_system_prompt(ex.messages, system_prompt)
        messages = cut_chars(full, max_length * CHARS_PER_TOKEN_MAX)
        out.n_cut += messages is not full
        ids, labels = encode_chat(tokenizer, messages)
        if len(ids) > max_length:
            out.n_truncated += 1
            ids, labels = ids[:max_length], labels[:max_length]
        if not any(t != -100 for t in labels[1:]):
            out.dropped.append(ex.source)
            continue
        out.input_ids.append(ids)
        out.labels.append(labels)
        out.sources.append(ex.source)
    if not out.input_ids:
        raise GraspError(
            f"{path}: no example keeps an assistant token within max_length={max_length} "
            f"({len(out.dropped)} dropped); raise max_length"
        )
    return out


def plan_steps(lengths: list[int], batch_size: int, grad_accum: int, epochs: int, seed: int) -> list[list[list[int]]]:
    """Optimizer steps -> micro-batches -> example indices; the same for any number of processes.

    Each epoch: a seeded shuffle, length sorting inside windows, then the batches in a seeded order.
    The plan depends only on (lengths, batch_size, grad_accum, epochs, seed), so a resumed run
    recomputes it instead of storing it.
    """
    steps: list[list[list[int]]] = []
    n = len(lengths)
    for epoch in range(epochs):
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        perm = torch.randperm(n, generator=g).tolist()
        window = batch_size * BUCKET_WINDOW
        batches: list[list[int]] = []
        for w in range(0, n, window):
            chunk = sorted(perm[w : w + window], key=lambda i: -lengths[i])
            batches += [chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size)]
        order = torch.randperm(len(batches), generator=g).tolist()
        batches = [batches[i] for i in order]
        steps += [batches[s : s + grad_accum] for s in range(0, len(batches), grad_accum)]
    return steps


def shard(indices: list[int], rank: int, world: int) -> list[int]:
    """This process's part of a global micro-batch (strided, so shards differ in size by at most one)."""
    return indices[rank::world]


def collate(data: TokenizedData, indices: list[int], pad: int, device: torch.device) -> dict[str, Tensor]:
    """A right-padded batch (input_ids, attention_mask, labels) on the device."""
    batch = pad_batch([data.input_ids[i] for i in indices], pad, [data.labels[i] for i in indices])
    return {k: v.to(device) for k, v in batch.items()}
