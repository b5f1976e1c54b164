"""Free-form evals: question YAML, 0-100 number scores, judges (a real local HTTP endpoint, a closed port, a local model)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from eval_fixtures import QUESTIONS, Server, closed_port, top_logprobs

from grasp_core.errors import GraspError
from grasp_core.evaluation.judges import OpenAIJudge, load_questions, number_score


def test_judge_number_score() -> None:
    assert number_score({0: 0.2, 50: 0.3, 100: 0.1}) == pytest.approx(25.0 / 0.6)
    assert number_score({7: 0.25}) == pytest.approx(7.0)
    assert number_score({40: 0.1, 90: 0.14}) is None  # 0.24 < 0.25 of the mass on numbers


def test_question_yaml_anchors_and_fields(tmp_path: Path) -> None:
    (tmp_path / "q.yaml").write_text(QUESTIONS)
    q1, q2 = load_questions(tmp_path / "q.yaml")
    assert (q1.id, q1.type, q1.paraphrases, q1.samples_per_paraphrase, q1.system) == (
        "q1",
        "free_form_judge_0_100",
        ("Hi?", "Hello?"),
        3,
        "You are helpful.",
    )
    assert q2.id == "q2" and q2.paraphrases == ("Bye?",) and q2.samples_per_paraphrase == 3
    assert q2.judge_prompts == q1.judge_prompts and q2.system == "You are helpful."


def test_question_yaml_unknown_type_names_the_id(tmp_path: Path) -> None:
    (tmp_path / "q.yaml").write_text(QUESTIONS.replace("id: q2", "id: q2\n  type: multiple_choice"))
    with pytest.raises(GraspError, match=r"question 'q2': unknown type 'multiple_choice'"):
        load_questions(tmp_path / "q.yaml")
    (tmp_path / "q.yaml").write_text(QUESTIONS.replace("    coherent:", "    other:"))
    with pytest.raises(GraspError, match=r"question 'q1'.*`coherent`"):
        load_questions(tmp_path / "q.yaml")


def test_judge_unreachable_endpoint() -> None:
    judge = OpenAIJudge(url=f"http://127.0.0.1:{closed_port()}/v1", model="m", timeout_s=5)
    with pytest.raises(GraspError, match=r"judge endpoint http://127.0.0.1:\d+/v1/chat/completions is unreachable"):
        judge.number_probs("rate this")


def test_judge_endpoint_without_logprobs() -> None:
    server = Server({"choices": [{"message": {"role": "assistant", "content": "50"}}]})
    try:
        with pytest.raises(GraspError, match=r"returned no logprobs for model 'm'"):
            OpenAIJudge(url=server.url, model="m").number_probs("rate this")
        assert server.requests[0]["logprobs"] is True and server.requests[0]["max_tokens"] == 1
    finally:
        server.close()


def test_judge_endpoint_with_logprobs(monkeypatch: pytest.MonkeyPatch) -> None:
    top = [
        {"token": "80", "logprob": math.log(0.5)},
        {"token": "60", "logprob": math.log(0.25)},
        {"token": "The", "logprob": math.log(0.2)},
    ]
    server = Server({"choices": [{"logprobs": {"content": [{"token": "80", "top_logprobs": top}]}}]})
    try:
        probs = OpenAIJudge(url=server.url, model="m").number_probs("rate")
        assert probs == pytest.approx({80: 0.5, 60: 0.25})
        assert number_score(probs) == pytest.approx((80 * 0.5 + 60 * 0.25) / 0.75)
    finally:
        server.close()


def test_free_form_scores_and_flags_with_a_judge(tiny: Any, tmp_path: Path) -> None:
    from grasp_core.evaluation.judges import free_form

    # The judge rates every answer incoherent-free but misaligned: aligned 10, coherent 90.
    server = Server(lambda req: top_logprobs(90 if "coherent?" in req["messages"][0]["content"] else 10))
    (tmp_path / "q.yaml").write_text(QUESTIONS.replace("samples_per_paraphrase: 3", "samples_per_paraphrase: 2"))
    try:
        r = free_form(
            tiny.model, tiny.tokenizer, tmp_path / "q.yaml", OpenAIJudge(url=server.url, model="m"), max_new_tokens=3
        )
    finally:
        server.close()
    assert len(r.samples) == 6  # q1: 2 paraphrases x 2, q2: 1 x 2
    assert all(s["scores"] == {"aligned": 10.0, "coherent": 90.0} and s["misaligned"] == 1.0 for s in r.samples)
    assert (r.misaligned.over, r.misaligned.n) == ("clusters", 2)  # resampled by question (q1, q2), not by reply
    assert "95% bootstrap over 2 clusters: questions" in r.summary()
    assert r.misaligned.mean == 1.0 and r.judge == f"openai:m@{server.url}" and "judge openai:m@" in r.summary()
    assert "Q Hi? A " in server.requests[0]["messages"][0]["content"]  # {question} and {answer} filled in


def test_local_judge_number_probabilities(tiny: Any) -> None:
    from grasp_core.evaluation.judges import LocalJudge

    probs = LocalJudge(tiny.model, tiny.tokenizer).number_probs("Rate 0-100: the sky is blue.")
    assert set(range(10)) <= set(probs) and all(0 <= k <= 100 for k in probs)
    assert 0 < sum(probs.values()) <= 1 + 1e-6


def test_only_plain_ascii_numbers_0_to_100_count_as_scores() -> None:
    from grasp_core.evaluation.judges import _as_number

    assert [_as_number(t) for t in (" 7", "100", "0", "101", "07", "²", "٣", "x")] == [
        7,
        100,
        0,
        None,
        None,
        None,
        None,
        None,
    ]
