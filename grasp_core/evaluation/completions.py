"""Summed log-probs of completions, each scored as the assistant turn after its prompt's generation prompt.

With `share_prefixes` (the default, in eval mode) the chat header common to every prompt is forwarded once, each
prompt once for all its completions (KV cache, explicit positions), and only the completions after that; equal to
forwarding every sequence whole within float tolerance (tests/evaluation/test_completions.py)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch

from ..errors import GraspError
from ..model.chat import encode_chat, pad_batch, pad_id
from ..model.models import next_token_logits
from .config import EvalConfig
from .eval_files import check_chars


@torch.no_grad()
def completion_logprobs(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[tuple[list[dict[str, str]], str]],
    config: EvalConfig | None = None,
    sources: Sequence[str] | None = None,
) -> list[float]:
    """Summed log-prob of each completion, scored as the assistant turn after the prompt's generation prompt.

    Batched and length-sorted; the sum covers the assistant tokens as encode_chat masks them (content and the
    template's end-of-turn token). With config.share_prefixes, the tokens every sequence starts with (the chat
    template's system header) are forwarded once per call and each distinct prompt once for all its completions,
    their keys and values reused from the cache: the same log-probs (up to float rounding) for fewer forwarded
    tokens (README, "Benchmarks"). Per-token stream edits (ablate, steer) see every token exactly once either way.
    `sources` name each pair (file, line) in the error a pair over config.max_length tokens raises.
    """
    config = config or EvalConfig()
    encoded, splits = _encode_pairs(tokenizer, pairs, config.max_length, sources)
    pad = pad_id(tokenizer)
    if config.share_prefixes and encoded and min(splits) >= 1 and not getattr(model, "training", False):
        shared = _shared_prefix_logprobs(model, encoded, splits, pad, config.batch_size)
        if shared is not None:
            return shared
    out = [0.0] * len(encoded)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    for start in range(0, len(order), config.batch_size):
        chunk = order[start : start + config.batch_size]
        batch = pad_batch([encoded[i][0] for i in chunk], pad, [encoded[i][1] for i in chunk])
        for row, value in zip(chunk, _scored_sums(model, batch), strict=True):
            out[row] = value
    return out


def _encode_pairs(
    tokenizer: Any,
    pairs: Sequence[tuple[list[dict[str, str]], str]],
    max_length: int,
    sources: Sequence[str] | None = None,
) -> tuple[list[tuple[list[int], list[int]]], list[int]]:
    """(ids, labels) of each prompt + completion as the chat template renders it, and where its prompt ends: the
    prompt is everything before the token that predicts the first scored one (>= 1 token, so it can be cached).
    A pair over max_length tokens is refused, named by its source; one too long by its characters alone is refused
    before it is tokenised (a 10 MB line costs nothing)."""
    encoded = []
    for k, (messages, completion) in enumerate(pairs):
        where = sources[k] if sources is not None else f"pair {k}"
        check_chars(where, messages, completion, max_length)
        ids, labels = encode_chat(tokenizer, [*messages, {"role": "assistant", "content": completion}])
        if len(ids) > max_length:
            raise GraspError(f"{where}: a prompt + completion has {len(ids)} tokens, over max_length {max_length}")
        encoded.append((ids, labels))
    splits = [next((t for t, lab in enumerate(labels) if lab != -100), len(ids)) - 1 for ids, labels in encoded]
    return encoded, splits


def forwarded_tokens(
    tokenizer: Any, pairs: Sequence[tuple[list[dict[str, str]], str]], config: EvalConfig | None = None
) -> int:
    """How many tokens completion_logprobs forwards for these pairs: every sequence whole, or (share_prefixes)
    the common header once, each distinct prompt's rest once and each completion from its prompt's last token."""
    config = config or EvalConfig()
    encoded, splits = _encode_pairs(tokenizer, pairs, config.max_length)
    if not encoded:
        return 0
    if not config.share_prefixes or min(splits) < 1:
        return sum(len(ids) for ids, _labels in encoded)
    seqs = [ids for ids, _labels in encoded]
    prompts = {tuple(ids[:s]) for ids, s in zip(seqs, splits, strict=True)}
    H = common_prefix_length(list(prompts))
    completions = sum(len(ids) - s for ids, s in zip(seqs, splits, strict=True))
    return H + sum(len(k) - H for k in prompts) + completions


def _scored_sums(model: Any, batch: dict[str, torch.Tensor], **kwargs: Any) -> list[float]:
    """Per row, the summed log-prob of the tokens whose label is not -100 (position t predicts token t + 1).

    batch: input_ids, labels (B, T) and attention_mask (B, T) or (B, P + T) after a cache of P positions.
    """
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in batch.items()}
    target = batch["labels"][:, 1:]  # (B, T-1)
    mask = target != -100  # (B, T-1)
    # Unembedding and log_softmax only at the completion positions: the vocabulary axis is the cost.
    logits = next_token_logits(model, batch["input_ids"], batch["attention_mask"], mask, **kwargs)  # (N, V)
    logp = torch.log_softmax(logits.float(), dim=-1)  # (N, V)
    tok_lp = logp.gather(-1, target[mask].unsqueeze(-1)).squeeze(-1)  # (N,)
    rows = mask.nonzero()[:, 0]  # (N,) batch row of each position
    B = batch["input_ids"].shape[0]
    sums = torch.zeros(B, dtype=torch.float64, device=tok_lp.device).index_add_(0, rows, tok_lp.double())  # (B,)
    return [float(v) for v in sums]


def _shared_prefix_logprobs(
    model: Any, encoded: list[tuple[list[int], list[int]]], splits: list[int], pad: int, batch_size: int
) -> list[float] | None:
    """completion_logprobs through the KV cache, a two-level prefix tree: header -> prompts -> completions.

    Sequence i = header (H tokens, common to all) + its prompt's rest (R_i, right-padded within a batch) + its
    suffix (from the last prompt token on, right-padded); padding inside the cache is masked out and positions
    are given explicitly, so every real token sees exactly the tokens and positions of the unshared sequence.
    None where the model returns no cache of the expected length (then the caller forwards whole sequences).
    """
    device = next(model.parameters()).device
    prompts: dict[tuple[int, ...], list[int]] = {}  # prompt tokens -> sequences that continue it
    for i, ((ids, _labels), s) in enumerate(zip(encoded, splits, strict=True)):
        prompts.setdefault(tuple(ids[:s]), []).append(i)
    keys = list(prompts)
    H = common_prefix_length(keys)  # the header: what every prompt starts with (R_i >= 0)
    header = None
    if H:
        ids0 = torch.tensor([keys[0][:H]], device=device)  # (1, H)
        header = model(
            input_ids=ids0, attention_mask=torch.ones_like(ids0), use_cache=True, logits_to_keep=1
        ).past_key_values
        if not _holds(header, H):
            return None
    out = [0.0] * len(encoded)
    keys.sort(key=len)
    for start in range(0, len(keys), batch_size):
        group = keys[start : start + batch_size]
        b = len(group)
        rest = pad_batch([list(k[H:]) for k in group], pad)
        rest_ids, rest_mask = rest["input_ids"], rest["attention_mask"]  # (b, R) each
        R = rest_ids.shape[1]
        rest_len = rest_mask.sum(1)  # (b,)
        cache = _batch_cache(header, torch.zeros(b, dtype=torch.long, device=device))
        if R:
            attention = torch.cat([torch.ones((b, H), dtype=torch.long), rest_mask], 1).to(device)  # (b, H + R)
            positions = (H + torch.arange(R)).expand(b, R).to(device)  # (b, R)
            cache = model(
                input_ids=rest_ids.to(device),
                attention_mask=attention,
                position_ids=positions,
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
            ).past_key_values
            if not _holds(cache, H + R):
                return None
        rows = [(j, i) for j, k in enumerate(group) for i in prompts[k]]  # (prompt row in this group, sequence)
        for c in range(0, len(rows), batch_size):
            chunk = rows[c : c + batch_size]
            owner = torch.tensor([j for j, _i in chunk], dtype=torch.long)  # (n,)
            seqs = [encoded[i][0][splits[i] :] for _j, i in chunk]
            batch = pad_batch(seqs, pad, [encoded[i][1][splits[i] :] for _j, i in chunk])
            n, S = batch["input_ids"].shape
            batch["attention_mask"] = torch.cat(
                [torch.ones((n, H), dtype=torch.long), rest_mask[owner], batch["attention_mask"]], 1
            )  # (n, H + R + S)
            positions = (H + rest_len[owner])[:, None] + torch.arange(S)  # (n, S)
            sums = _scored_sums(
                model,
                batch,
                past_key_values=_batch_cache(cache, owner.to(device)),
                position_ids=positions.to(device),
                use_cache=True,
            )
            for (_j, i), value in zip(chunk, sums, strict=True):
                out[i] = value
    return out


def common_prefix_length(seqs: Sequence[Sequence[int]]) -> int:
    """How many leading tokens all the sequences share."""
    n = 0
    while n < min(len(s) for s in seqs) and all(s[n] == seqs[0][n] for s in seqs):
        n += 1
    return n


def _holds(cache: Any, length: int) -> bool:
    """Whether the model returned a cache of `length` positions (one that drops it would score completions
    without their prompt)."""
    get = getattr(cache, "get_seq_length", None)
    return callable(get) and get() == length


def _batch_cache(cache: Any, rows: torch.Tensor) -> Any:
    """A new cache holding rows[k] of `cache` as its row k (None stays None: no cached positions)."""
    if cache is None:
        return None
    new = copy.deepcopy(cache)
    new.reorder_cache(rows)
    return new
