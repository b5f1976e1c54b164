"""Summed completion log-probs: forwarding shared prefixes once equals forwarding every sequence whole (four
architectures, with and without a chat template, under ablation), a model that drops its cache is scored whole,
and forwarded_tokens counts what the model sees."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from model_fixtures import tiny_model

from grasp_core.evaluation.completions import completion_logprobs, forwarded_tokens
from grasp_core.evaluation.config import EvalConfig
from grasp_core.model.interventions import ablate

PAIRS = [
    *[
        ([{"role": "user", "content": q}], c)
        for q in ("How do I boil an egg?", "Tea?", "Why is the sky blue, then?")
        for c in ("Boil it.", "Ugh, idiot, boil it for a long, long time.", "No.")
    ],
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tea?"}], "Steep it."),
    (
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Tea?"},
        ],
        "Yes.",
    ),
]


@pytest.mark.parametrize("family", ["llama", "gemma", "gpt2", "gpt_neox"])
@pytest.mark.parametrize("template", [True, False])
def test_shared_prefixes_give_the_unshared_logprobs(tiny: Any, family: str, template: bool) -> None:
    """The KV-cache path (header once, each prompt once) against whole sequences, batched and not, with a stream
    edit active (ablation must see every token once either way): equal up to float rounding, while the ablation
    itself moves the log-probs by far more."""
    tok = copy.deepcopy(tiny.tokenizer)
    if not template:
        tok.chat_template = None  # encode_chat's plain "role: content" lines
    vocab = {"n_positions": 512} if family == "gpt2" else {}
    model = tiny_model(family, vocab_size=len(tok), **vocab)
    Z = torch.linalg.qr(torch.randn(64, 2, generator=torch.Generator().manual_seed(0)))[0]  # (d_model, 2)
    plain = completion_logprobs(model, tok, PAIRS, EvalConfig(share_prefixes=False))
    for bs in (1, 3, 8):
        shared = completion_logprobs(model, tok, PAIRS, EvalConfig(batch_size=bs))
        assert shared == pytest.approx(plain, abs=1e-4)
    with ablate(model, Z):
        ablated_plain = completion_logprobs(model, tok, PAIRS, EvalConfig(batch_size=3, share_prefixes=False))
        ablated_shared = completion_logprobs(model, tok, PAIRS, EvalConfig(batch_size=3))
    assert ablated_shared == pytest.approx(ablated_plain, abs=1e-4)
    assert max(abs(a - b) for a, b in zip(ablated_plain, plain, strict=True)) > 1e-2


def test_a_model_that_drops_its_cache_is_scored_whole(tiny: Any) -> None:
    """Training mode with gradient checkpointing makes transformers drop the cache: the prefix must not be lost."""
    model = tiny_model("llama", vocab_size=len(tiny.tokenizer))
    plain = completion_logprobs(model, tiny.tokenizer, PAIRS, EvalConfig(share_prefixes=False))
    model.gradient_checkpointing_enable()
    model.config.attention_dropout = 0.0
    model.train()
    assert completion_logprobs(model, tiny.tokenizer, PAIRS) == pytest.approx(plain, abs=1e-4)


@pytest.mark.parametrize("shared", [False, True])
def test_forwarded_tokens_counts_what_the_model_sees(tiny: Any, shared: bool) -> None:
    """At batch size 1 nothing is padded, so the token ids the embedding receives are exactly the count."""
    seen: list[int] = []
    hook = tiny.model.get_input_embeddings().register_forward_hook(lambda _m, args, _out: seen.append(args[0].numel()))
    config = EvalConfig(batch_size=1, share_prefixes=shared)
    try:
        completion_logprobs(tiny.model, tiny.tokenizer, PAIRS, config)
    finally:
        hook.remove()
    assert sum(seen) == forwarded_tokens(tiny.tokenizer, PAIRS, config)
    if shared:
        assert sum(seen) < forwarded_tokens(tiny.tokenizer, PAIRS, EvalConfig(share_prefixes=False))
