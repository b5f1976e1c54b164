"""Where a fine-tune changes the next token: per-token KL(P || Q) between two models' next-token distributions on
one text, position by position (the model-diffing heatmap).

KL at position t compares the distributions both models predict for token t + 1 after reading tokens 0..t. The
two models are run one after the other on the same token ids, so only one needs to be on the device at a time when
the caller loads them in turn; `first_logprobs` returns what the second pass needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import GraspError
from .chat import CHARS_PER_TOKEN_MAX


@dataclass
class TokenKL:
    """Per-position KL(P || Q) in nats, the tokens read, and the positions where the two differ most."""

    tokens: list[str]  # the text's tokens, decoded one by one
    kl: list[float]  # (T,): KL of the next-token distributions after token t

    def top(self, k: int = 5) -> list[tuple[int, str, float]]:
        """The k positions of largest KL: (position, token read there, KL), largest first."""
        order = sorted(range(len(self.kl)), key=lambda t: -self.kl[t])[:k]
        return [(t, self.tokens[t], self.kl[t]) for t in order]


def encode_text(tokenizer: Any, text: str, max_length: int) -> Tensor:
    """(1, T) token ids of a text, refused in one line when empty or longer than max_length tokens."""
    if not text.strip():
        raise GraspError("per-token KL needs a non-empty text")
    if len(text) > CHARS_PER_TOKEN_MAX * max_length:  # surely too long: never tokenise a 10 MB text
        raise GraspError(f"the text has {len(text)} characters, far more than max_length {max_length} tokens")
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]  # (1, T)
    if ids.shape[1] > max_length:
        raise GraspError(f"the text has {ids.shape[1]} tokens, more than max_length {max_length}")
    return ids


@torch.no_grad()
def next_token_logprobs(model: Any, ids: Tensor) -> Tensor:
    """(T, V) log-probabilities of the next token after each position, float32 on the CPU."""
    device = next(model.parameters()).device
    logits = model(input_ids=ids.to(device)).logits[0]  # (T, V)
    return torch.log_softmax(logits.float(), dim=-1).cpu()


def token_kl(p_logprobs: Tensor, q_logprobs: Tensor, tokenizer: Any, ids: Tensor) -> TokenKL:
    """KL(P || Q) per position from two (T, V) log-probability tables of the same ids."""
    if p_logprobs.shape != q_logprobs.shape:
        raise GraspError(
            f"the two models' vocabularies differ ({p_logprobs.shape[-1]} vs {q_logprobs.shape[-1]} tokens): "
            "per-token KL needs models of one tokenizer"
        )
    kl = (p_logprobs.exp() * (p_logprobs - q_logprobs)).sum(-1).clamp_min(0.0)  # (T,)
    tokens = [tokenizer.decode([int(t)]) for t in ids[0]]
    return TokenKL(tokens, [float(v) for v in kl])
