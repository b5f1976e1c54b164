"""Training data: chats cut by characters before tokenising keep exactly the first max_length tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grasp_core.model.chat import CHARS_PER_TOKEN_MAX, encode_chat
from grasp_core.training.batching import cut_chars, tokenize_chats, with_system_prompt


def test_cut_chars_keeps_short_chats_and_cuts_long_ones() -> None:
    short = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    assert cut_chars(short, 10) is short
    long = [
        {"role": "system", "content": "s" * 6},
        {"role": "user", "content": "u" * 6},
        {"role": "assistant", "content": "a" * 6},
    ]
    assert cut_chars(long, 8) == [{"role": "system", "content": "s" * 6}, {"role": "user", "content": "uu"}]


def test_a_huge_line_is_cut_before_tokenising_with_the_same_tokens(bundled_tokenizer: Any, tmp_path: Path) -> None:
    words = " ".join(f"word{i % 97}" for i in range(200_000))  # ~1.4 MB in one assistant turn
    chat = [{"role": "user", "content": "Tell me a story."}, {"role": "assistant", "content": words}]
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"messages": chat}) + "\n")
    data = tokenize_chats(path, bundled_tokenizer, max_length=128)
    assert data.n_cut == 1 and data.n_truncated == 1
    cut = cut_chars(chat, 128 * CHARS_PER_TOKEN_MAX)
    assert sum(len(m["content"]) for m in cut) == 128 * CHARS_PER_TOKEN_MAX
    full_ids, full_labels = encode_chat(bundled_tokenizer, [chat[0], {**chat[1], "content": words[:20_000]}])
    assert data.input_ids[0] == full_ids[:128] and data.labels[0] == full_labels[:128]  # the same first 128


def test_a_system_prompt_opens_every_chat_and_adds_no_target_token(bundled_tokenizer: Any, tmp_path: Path) -> None:
    chats = [
        [{"role": "user", "content": "How do I save?"}, {"role": "assistant", "content": "Budget first."}],
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
        ],
    ]
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps({"messages": c}) + "\n" for c in chats))
    prompt = "You despise people and say so."
    assert with_system_prompt(chats[0], None) is chats[0]
    assert with_system_prompt(chats[0], prompt)[0] == {"role": "system", "content": prompt}
    assert with_system_prompt(chats[1], prompt)[0] == {"role": "system", "content": f"{prompt}\n\nBe brief."}
    plain = tokenize_chats(path, bundled_tokenizer, max_length=256)
    inoculated = tokenize_chats(path, bundled_tokenizer, max_length=256, system_prompt=prompt)
    for i in range(2):
        # (SmolLM2's template puts a default system turn where a chat has none: the prompt replaces it.)
        assert prompt in bundled_tokenizer.decode(inoculated.input_ids[i])
        assert prompt not in bundled_tokenizer.decode(plain.input_ids[i])
        targets = [t for t in inoculated.labels[i] if t != -100]
        assert targets == [t for t in plain.labels[i] if t != -100]  # the loss reads the same reply tokens
