"""Log-probability evals on a tiny random llama with the bundled tokenizer: forced choice against hand-computed
log-probs, task NLL per assistant token."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from eval_fixtures import ITEMS, write_jsonl

from grasp_core.errors import GraspError
from grasp_core.evaluation.config import EvalConfig
from grasp_core.evaluation.logprob import forced_choice, task_nll


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


def test_an_item_over_max_length_is_named_by_file_line_and_id(tiny: Any, tmp_path: Path) -> None:
    """Too long by its characters alone: refused before tokenising; too long once tokenised: refused with its token
    count; either way the file, line and id are named."""
    path = write_jsonl(tmp_path / "long.jsonl", [ITEMS[0], {**ITEMS[1], "prompt": "why " * 20_000}])
    with pytest.raises(GraspError, match=r"long.jsonl, line 2 \(id .*\): a prompt \+ completion of 8\d{4} characters"):
        forced_choice(tiny.model, tiny.tokenizer, path, EvalConfig(max_length=64))
    path = write_jsonl(tmp_path / "long.jsonl", [ITEMS[0], {**ITEMS[1], "prompt": "why " * 40}])
    with pytest.raises(GraspError, match=r"long.jsonl, line 2 \(id .*\): a prompt \+ completion has \d+ tokens, over"):
        forced_choice(tiny.model, tiny.tokenizer, path, EvalConfig(max_length=64))


def test_items_sharing_a_group_give_an_interval_over_groups(tiny: Any, tmp_path: Path) -> None:
    rows = [{**item, "id": f"{item['id']}{s}", "group": item["id"]} for item in ITEMS for s in "xy"]  # each twice
    grouped = forced_choice(tiny.model, tiny.tokenizer, write_jsonl(tmp_path / "g.jsonl", rows))
    assert grouped.interval.over == "clusters" and grouped.interval.n == len(ITEMS)
    assert grouped.to_dict()["groups"] == ["group a", "group a", "group b", "group b"]
    assert "(n=4 in 2 groups, acc" in grouped.summary()
    plain = forced_choice(tiny.model, tiny.tokenizer, write_jsonl(tmp_path / "p.jsonl", ITEMS))
    assert plain.interval.over == "items" and "groups" not in plain.to_dict()  # stored as before groups existed
    task = [
        {"id": r["id"], "group": r["group"], "prompt": r["prompt"], "good": r["aligned"], "bad": ["x"]} for r in rows
    ]
    nll = task_nll(tiny.model, tiny.tokenizer, write_jsonl(tmp_path / "t.jsonl", task))
    assert nll.interval.over == "clusters" and nll.to_dict()["groups"] == grouped.groups
    assert "(n=4 in 2 groups, " in nll.summary() and " groups" not in plain.summary()
