"""Replies side by side on a tiny llama: each model's greedy and seeded sampled replies, model after model; s = 0
replies as the base does and s = 1 as the adapter does, token for token; prompt files of every kind are read and bad
ones named; a prompt longer than the context is refused before any model loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grasp_core.comparison.lineup import lineup
from grasp_core.comparison.transcript import (
    GREEDY,
    CompareConfig,
    check_prompts,
    compare,
    compare_replies,
    load_prompts,
    prompt_text,
    typed_prompts,
)
from grasp_core.errors import GraspError

PROMPTS = typed_prompts(["How do I keep basil fresh?", "What should I pack for a day hike?"])


def test_replies_of_every_model_to_every_prompt(kit: dict[str, Any]) -> None:
    base, adapter = str(kit["base"]), str(kit["adapter"])
    models = lineup(["base", adapter, f"{adapter}@0", f"{adapter}@1", kit["run"]], base, kit["runs"])
    config = CompareConfig(max_new_tokens=8, samples=2, temperature=1.0, seed=3)
    streamed = list(compare_replies(models, base, PROMPTS, config, progress=False))
    assert [r.model for r in streamed] == [m.label for m in models for _ in range(2 * 3)]  # model after model
    t = compare(models, base, PROMPTS, config, progress=False)
    assert [(r.model, r.prompt, r.kind, r.text) for r in t.replies] == [
        (r.model, r.prompt, r.kind, r.text) for r in streamed
    ]  # seeded: the same replies every time
    assert config.kinds == [GREEDY, "sample 1", "sample 2"]
    for i in range(2):
        for kind in config.kinds:
            got = {m: t.reply(i, kind, m) for m in t.models}
            assert all(v is not None for v in got.values())
            assert got[f"{Path(adapter).name}@0"] == got["base"], (i, kind)  # s = 0 is the base
            assert got[f"{Path(adapter).name}@1"] == got["planted"], (i, kind)  # s = 1 is the adapter
        assert t.reply(i, GREEDY, "planted") != t.reply(i, GREEDY, "base")  # the planted adapter speaks otherwise
    assert t.reply(0, "sample 1", "base") != t.reply(1, "sample 1", "base")
    assert json.loads(json.dumps(t.to_dict()))["models"] == t.models


def test_prompt_files_of_every_kind(tmp_path: Path) -> None:
    from grasp_core import DEMO_ROOT

    questions = load_prompts(DEMO_ROOT / "persona" / "replies.jsonl", limit=3)
    assert len(questions) == 3 and questions[0][0]["role"] == "user"
    chats = load_prompts(DEMO_ROOT / "persona" / "train.jsonl", limit=2)  # training chats: the reply dropped
    assert all(c[-1]["role"] == "user" for c in chats)
    text = tmp_path / "prompts.txt"
    text.write_text("first prompt\n\n  second prompt  \n")
    assert [prompt_text(c) for c in load_prompts(text)] == ["first prompt", "second prompt"]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('"a string"\n{"text": "a text"}\n{"id": "x", "prompt": "a prompt"}\n{"other": 1}\n')
    with pytest.raises(GraspError, match=r"mixed.jsonl, line 4: expected"):
        load_prompts(mixed)
    (tmp_path / "empty.txt").write_text("\n \n")
    with pytest.raises(GraspError, match="empty.txt: empty, no prompts"):
        load_prompts(tmp_path / "empty.txt")
    with pytest.raises(GraspError, match="not found"):
        load_prompts(tmp_path / "missing.jsonl")
    with pytest.raises(GraspError, match="no prompt to compare on"):
        typed_prompts(["", "  "])


def test_prompts_beyond_the_context_and_bad_settings_are_refused(kit: dict[str, Any]) -> None:
    base = str(kit["base"])  # max_position_embeddings 256 (model_fixtures)
    config = CompareConfig(max_new_tokens=16)
    check_prompts(PROMPTS, base, config)
    with pytest.raises(GraspError, match=r"prompt 2 .* longer than the base's context: \d+ tokens \+ 16 new > 256"):
        check_prompts(typed_prompts(["short", "basil " * 300]), base, config)
    with pytest.raises(GraspError, match=r"prompt 1 .*: over \d+ tokens"):
        check_prompts(typed_prompts(["x" * 10_000_000]), base, config)
    for bad, field in (
        ({"samples": 9}, "samples"),
        ({"temperature": 0.0}, "temperature"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
    ):
        with pytest.raises(GraspError, match=f"`{field}`"):
            CompareConfig(**bad)
