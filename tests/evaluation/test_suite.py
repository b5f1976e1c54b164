"""Several evals in one run: a failing eval keeps the others, ablation changes scores and is removed after."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch
from eval_fixtures import ITEMS, QUESTIONS, closed_port, write_jsonl
from train_fixtures import write_factors

from grasp_core.errors import ConfigError, GraspError
from grasp_core.evaluation.judges import OpenAIJudge
from grasp_core.evaluation.logprob import forced_choice, task_nll
from grasp_core.evaluation.suite import EvalSpec, ablated, evaluate


def test_failed_judge_keeps_the_other_results(tiny: Any, tmp_path: Path) -> None:
    fc = write_jsonl(tmp_path / "fc.jsonl", ITEMS)
    (tmp_path / "q.yaml").write_text(QUESTIONS.replace("samples_per_paraphrase: 3", "samples_per_paraphrase: 1"))
    judge = OpenAIJudge(url=f"http://127.0.0.1:{closed_port()}/v1", model="m", timeout_s=5)
    specs = [EvalSpec("fc", "choice", str(fc)), EvalSpec("ff", "free_form", str(tmp_path / "q.yaml"))]
    report = evaluate(tiny.model, tiny.tokenizer, specs, judge=judge, max_new_tokens=3)
    assert list(report.results) == ["fc"] and "unreachable" in report.errors["ff"]


def test_ablation_changes_scores_and_is_removed(tiny: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "fc.jsonl", ITEMS)
    d = tiny.model.config.hidden_size
    factors = write_factors(
        tmp_path / "f.safetensors", torch.randn(3, d, generator=torch.Generator().manual_seed(0)), base=tiny.spec
    )
    before = forced_choice(tiny.model, tiny.tokenizer, path)
    with ablated(tiny.model, factors, tiny.spec, select=[0, 2]) as ids:
        during = forced_choice(tiny.model, tiny.tokenizer, path)
    after = forced_choice(tiny.model, tiny.tokenizer, path)
    assert ids == ["f0", "f2"]
    assert max(abs(a - b) for a, b in zip(before.scores, during.scores, strict=True)) > 1e-6
    assert after.scores == before.scores
    with pytest.raises(GraspError, match="out of range"):
        with ablated(tiny.model, factors, tiny.spec, select=[7]):
            pass


def test_relative_to_base_nll_is_a_real_paired_change(tiny: Any, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    chats = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in [("Tea?", "Steep it three minutes."), ("Eggs?", "Boil them six minutes."), ("Rice?", "Rinse it.")]
    ]
    path = write_jsonl(tmp_path / "chat.jsonl", chats)
    torch.manual_seed(0)
    model = get_peft_model(
        copy.deepcopy(tiny.model), LoraConfig(r=2, target_modules=["o_proj"], init_lora_weights=False)
    )
    report = evaluate(model, tiny.tokenizer, [EvalSpec("task", "nll", str(path), relative_to_base=True)])
    with model.disable_adapter():
        base = task_nll(model, tiny.tokenizer, path)
    adapted = report.results["task"]
    change = report.changes["task"]
    expected = [a - b for a, b in zip(adapted.nll, base.nll, strict=True)]
    assert change.mean == pytest.approx(sum(expected) / len(expected)) and abs(change.mean) > 1e-4
    plain = evaluate(tiny.model, tiny.tokenizer, [EvalSpec("task", "nll", str(path), relative_to_base=True)])
    assert plain.changes["task"].mean == 0.0  # a plain model with no intervention is the base itself
    with pytest.raises(ConfigError, match="relative_to_base"):
        EvalSpec("q", "free_form", "q.yaml", relative_to_base=True)


def test_a_change_from_the_base_resamples_whole_groups(tiny: Any, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    rows = [{**item, "id": f"{item['id']}{s}", "group": item["id"]} for item in ITEMS for s in "xy"]
    path = write_jsonl(tmp_path / "lean.jsonl", rows)
    torch.manual_seed(0)
    model = get_peft_model(
        copy.deepcopy(tiny.model), LoraConfig(r=2, target_modules=["o_proj"], init_lora_weights=False)
    )
    report = evaluate(model, tiny.tokenizer, [EvalSpec("lean", "choice", str(path), relative_to_base=True)])
    assert report.changes["lean"].over == "clusters" and report.changes["lean"].n == len(ITEMS)
