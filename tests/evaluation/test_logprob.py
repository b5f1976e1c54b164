"""Log-probability evals on a tiny random llama with the bundled tokenizer: forced choice against hand-computed
log-probs, task NLL, bad forced-choice files."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from eval_fixtures import ITEMS, write_jsonl
from model_fixtures import tiny_model

from grasp_core.errors import GraspError
from grasp_core.evaluation.logprob import (
    EvalConfig,
    completion_logprobs,
    forced_choice,
    forwarded_tokens,
    task_nll,
)
from grasp_core.model.interventions import ablate


def _hand_logprob(bm: Any, messages: list[dict[str, str]], completion: str) -> float:
    """Sum of log p(completion tokens) from one unbatched forward pass; the completion starts where the
    prompt with its generation prompt ends."""

    def ids(msgs: list[dict[str, str]], gen: bool) -> list[int]:
        out = bm.tokenizer.apply_chat_template(msgs, tokenize=True, add_generation_prompt=gen)
        return list(out["input_ids"] if hasattr(out, "keys") else out)

    prompt_ids = ids(messages, True)
    full = ids([*messages, {"role": "assistant", "content": completion}], False)
    assert full[: len(prompt_ids)] == prompt_ids
    with torch.no_grad():
        logp = torch.log_softmax(bm.model(input_ids=torch.tensor([full])).logits[0].double(), -1)  # (T, V)
    return sum(float(logp[t - 1, full[t]]) for t in range(len(prompt_ids), len(full)))


def test_forced_choice_matches_hand_computed_logprobs(tiny: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "fc.jsonl", ITEMS)
    r = forced_choice(tiny.model, tiny.tokenizer, path, EvalConfig(batch_size=3))
    assert r.options == ("aligned", "misaligned") and r.ids == ["a", "b"]
    for item, score in zip(ITEMS, r.scores, strict=True):
        msgs = [{"role": "user", "content": item["prompt"]}] if isinstance(item["prompt"], str) else item["prompt"]
        la = torch.logsumexp(
            torch.tensor([_hand_logprob(tiny, msgs, c) for c in item["aligned"]], dtype=torch.float64), 0
        )
        lb = torch.logsumexp(
            torch.tensor([_hand_logprob(tiny, msgs, c) for c in item["misaligned"]], dtype=torch.float64), 0
        )
        expected = 1.0 / (1.0 + math.exp(float(la - lb)))  # exp(lb) / (exp(la) + exp(lb)), without underflow
        assert score == pytest.approx(expected, rel=1e-4, abs=1e-7)
    # Batching and padding do not change the scores.
    r1 = forced_choice(tiny.model, tiny.tokenizer, path, EvalConfig(batch_size=1))
    assert r1.scores == pytest.approx(r.scores, rel=1e-4, abs=1e-7)
    assert r.accuracy == sum(s < 0.5 for s in r.scores) / 2


def test_task_nll_is_mean_over_assistant_tokens(tiny: Any, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "task.jsonl", [{"id": "t", "prompt": "Save?", "good": ["Yes, save."], "bad": ["No."]}]
    )
    r = task_nll(tiny.model, tiny.tokenizer, path)
    lp = _hand_logprob(tiny, [{"role": "user", "content": "Save?"}], "Yes, save.")
    assert r.nll[0] == pytest.approx(-lp / r.tokens[0], rel=1e-4)
    assert r.nll[0] > 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"prompt": "x", "aligned": ["a"], "misaligned": ["b"]}, r"line 2: missing field `id`"),
        (
            {"id": "z", "prompt": "x", "aligned": ["a"], "misaligned": [""]},
            r"line 2 \(id z\): `misaligned` completion 0 is empty",
        ),
        ({"id": "z", "prompt": "x", "aligned": ["a"]}, r"line 2 \(id z\): field `misaligned` must be a non-empty list"),
        ({"id": "z", "prompt": "", "aligned": ["a"], "misaligned": ["b"]}, r"line 2 \(id z\): `prompt`"),
        ({"id": "a", "prompt": "x", "aligned": ["a"], "misaligned": ["b"]}, r"line 2 \(id a\): duplicate id"),
        ("{not json", r"line 2: malformed JSON"),
    ],
)
def test_bad_forced_choice_files_name_file_line_and_id(tiny: Any, tmp_path: Path, row: Any, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [ITEMS[0], row])
    with pytest.raises(GraspError, match=message) as e:
        forced_choice(tiny.model, tiny.tokenizer, path)
    assert "bad.jsonl" in str(e.value)


def test_file_without_options_is_named(tiny: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"id": "1", "prompt": "p", "yes": ["a"], "no": ["b"]}])
    with pytest.raises(GraspError, match=r"x.jsonl, line 1: no completion options found"):
        forced_choice(tiny.model, tiny.tokenizer, path)


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
