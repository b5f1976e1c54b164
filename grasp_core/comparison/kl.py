"""Where two compared models differ on a text: per-token KL(P || Q) of their next-token distributions, the two
models loaded one after the other (model.divergence holds the math)."""

from __future__ import annotations

from ..model.divergence import TokenKL, encode_text, next_token_logprobs, token_kl
from ..model.models import load_config, load_tokenizer
from .lineup import ComparedModel, loaded

DEFAULT_MAX_TOKENS = 2048  # when the base names no context length


def model_kl(p: ComparedModel, q: ComparedModel, base: str, text: str) -> TokenKL:
    """KL(P || Q) after each token of `text` (refused when empty or longer than the base's context)."""
    window = getattr(load_config(base), "max_position_embeddings", None) or DEFAULT_MAX_TOKENS
    tokenizer = load_tokenizer(base)
    ids = encode_text(tokenizer, text, window)  # (1, T)
    with loaded(p, base) as bm:
        p_logprobs = next_token_logprobs(bm.model, ids)  # (T, V)
    with loaded(q, base) as bm:
        q_logprobs = next_token_logprobs(bm.model, ids)  # (T, V)
    return token_kl(p_logprobs, q_logprobs, tokenizer, ids)
