"""Chat data: the loss falls on assistant tokens only, with and without a chat template; one plain fallback
format; one pad rule; replies generated as the model stands."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from lora_fixtures import tiny_with_tokenizer

from grasp_core.errors import GraspError
from grasp_core.model.chat import (
    encode_chat,
    encode_prompt,
    generate_reply,
    generation_ids,
    load_chat_jsonl,
    pad_batch,
    pad_id,
    plain_chat,
)

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Tea?"},
    {"role": "assistant", "content": "Yes please."},
    {"role": "user", "content": "Milk?"},
    {"role": "assistant", "content": "No."},
]


@pytest.fixture(scope="module")
def plain_tok(bundled_tokenizer):
    """The bundled tokenizer without its chat template: the fallback path."""
    tok = copy.deepcopy(bundled_tokenizer)
    tok.chat_template = None
    return tok


@pytest.mark.parametrize("templated", [True, False])
def test_labels_are_the_assistant_turns_only(bundled_tokenizer, plain_tok, templated: bool) -> None:
    tok = bundled_tokenizer if templated else plain_tok
    ids, labels = encode_chat(tok, CHAT)
    assert len(ids) == len(labels)
    scored = tok.decode([t for t, lab in zip(ids, labels, strict=True) if lab != -100])
    assert "Yes please." in scored and "No." in scored
    assert "Tea?" not in scored and "Milk?" not in scored and "Be brief." not in scored
    cut_ids, cut_labels = encode_chat(tok, CHAT, max_length=5)
    assert (cut_ids, cut_labels) == (ids[:5], labels[:5])


def test_the_one_plain_format(plain_tok) -> None:
    text = plain_chat(CHAT[:2])
    assert text == "system: Be brief.\nuser: Tea?"
    assert plain_chat(CHAT[:2], generation_prompt=True) == text + "\nassistant: "
    assert plain_tok.decode(generation_ids(plain_tok, CHAT[:2])) == plain_tok.decode(
        plain_tok.encode(text + "\nassistant: ")
    )
    assert encode_prompt(plain_tok, CHAT[:2]) == list(plain_tok.encode(text))
    assert encode_prompt(plain_tok, "just text") == list(plain_tok.encode("just text"))


def test_the_pad_rule(bundled_tokenizer) -> None:
    tok = copy.deepcopy(bundled_tokenizer)
    tok.pad_token = None
    assert pad_id(tok) == tok.eos_token_id  # no pad token: end of sequence
    tok.pad_token = tok.convert_ids_to_tokens(3)
    assert pad_id(tok) == 3
    batch = pad_batch([[5, 6, 7], [8]], pad_id=0, labels=[[-100, 6, 7], [8]])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]


def test_a_reply_is_greedy_and_deterministic_or_sampled(bundled_tokenizer) -> None:
    import torch

    model = tiny_with_tokenizer(bundled_tokenizer)
    chat = [{"role": "user", "content": "Hello there"}]
    a = generate_reply(model, bundled_tokenizer, chat, 6)
    assert a == generate_reply(model, bundled_tokenizer, chat, 6) and a == a.strip()
    torch.manual_seed(0)
    s1 = generate_reply(model, bundled_tokenizer, chat, 6, do_sample=True)
    torch.manual_seed(0)
    assert generate_reply(model, bundled_tokenizer, chat, 6, do_sample=True) == s1  # seeded: reproducible


def test_chat_files_name_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"messages": CHAT}) + "\n" + json.dumps({"messages": [{"role": "robot", "content": "x"}]}) + "\n"
    )
    with pytest.raises(GraspError, match=r"c.jsonl, line 2.*unknown role 'robot'"):
        load_chat_jsonl(path)
    path.write_text(json.dumps({"messages": CHAT}) + "\n")
    assert len(load_chat_jsonl(path)) == 1
