"""The replies measure on a tiny random model: seeded samples, judged, the share with an interval over questions;
bad questions files and a judge of the wrong kind named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grasp_core.errors import GraspError
from grasp_core.evaluation.replies import RepliesConfig, judged_replies, load_reply_questions, sample_replies


class _LengthJudge:
    """Shows the trait where a reply is longer than 20 characters: a rule the test can recompute."""

    name = "length"

    def trait_probs(self, texts: list[str]) -> list[float]:
        return [0.9 if len(t) > 20 else 0.1 for t in texts]


def _questions(tmp_path: Path) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"Question {i}?"}) + "\n" for i in range(3)))
    return path


def test_replies_are_sampled_per_question_seeded_and_judged(tiny: Any, tmp_path: Path) -> None:
    config = RepliesConfig(n_samples=3, max_new_tokens=6, seed=1, n_boot=200)
    r = judged_replies(tiny.model, tiny.tokenizer, _questions(tmp_path), _LengthJudge(), config)
    assert len(r.samples) == 9 and [s["id"] for s in r.samples[:4]] == ["q0", "q0", "q0", "q1"]
    assert all(s["trait"] == (len(s["reply"]) > 20) for s in r.samples)
    assert r.interval is not None and r.interval.mean == pytest.approx(sum(r.scores) / 9)
    assert r.interval.lo <= r.interval.mean <= r.interval.hi
    again = judged_replies(tiny.model, tiny.tokenizer, _questions(tmp_path), _LengthJudge(), config)
    assert [s["reply"] for s in again.samples] == [s["reply"] for s in r.samples]  # seeded per question
    other = sample_replies(tiny.model, tiny.tokenizer, [{"role": "user", "content": "Question 0?"}], config, 2)
    assert len(other) == 3
    assert r.to_dict()["kind"] == "replies" and "share of replies showing the trait" in r.summary()


def test_a_zero_to_hundred_judge_is_refused(tiny: Any, tmp_path: Path) -> None:
    class _Scorer:
        name = "openai:x"

        def number_probs(self, prompt: str) -> dict[int, float]:
            return {}

    with pytest.raises(GraspError, match="needs a trait judge"):
        judged_replies(tiny.model, tiny.tokenizer, _questions(tmp_path), _Scorer())


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"id": "a", "prompt": ""}', ": `prompt` must be a non-empty string"),
        ('{"id": true, "prompt": "x"}', ": `id` must be a non-empty string"),
        ('{"id": "q0", "prompt": "x"}', r" \(id q0\): duplicate id"),
    ],
)
def test_bad_questions_are_named_by_line(tmp_path: Path, line: str, says: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "q0", "prompt": "fine?"}\n' + line + "\n")
    with pytest.raises(GraspError, match=rf"q.jsonl, line 2{says}"):
        load_reply_questions(path)


def test_the_config_refuses_nonsense() -> None:
    with pytest.raises(GraspError, match="`n_samples` must be a whole number"):
        RepliesConfig(n_samples=0)
    with pytest.raises(GraspError, match="`temperature` must be above 0"):
        RepliesConfig(temperature=0.0)
