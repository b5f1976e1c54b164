"""Example replies: the greedy replies of a model to an organism's first questions, the same every time, the ablated
model's own where factors are ablated, and none where the organism has no questions file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from train_fixtures import write_factors

from grasp_core.evaluation.examples import EXAMPLE_PROMPTS, example_replies
from grasp_core.evaluation.organisms import load_organism


def test_greedy_replies_to_the_first_questions(tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path) -> None:
    folder = tmp_path / "organism"
    shutil.copytree(tiny_organism, folder)
    assert example_replies(load_organism(folder), str(tiny_llama_dir)) == []  # no replies.jsonl yet
    questions = [f"Question number {i}?" for i in range(EXAMPLE_PROMPTS + 2)]
    (folder / "replies.jsonl").write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": q}) + "\n" for i, q in enumerate(questions))
    )
    org = load_organism(folder)
    got = example_replies(org, str(tiny_llama_dir))
    assert [(r["id"], r["prompt"]) for r in got] == [(f"q{i}", questions[i]) for i in range(EXAMPLE_PROMPTS)]
    assert example_replies(org, str(tiny_llama_dir)) == got  # greedy: the same every time
    d_model = 64  # conftest's tiny llama
    Z = torch.linalg.qr(torch.randn(d_model, 4, generator=torch.Generator().manual_seed(0)))[0].T  # (4, d_model)
    ffile = write_factors(tmp_path / "f.safetensors", Z, str(tiny_llama_dir))
    ablated = example_replies(org, str(tiny_llama_dir), ablate=(ffile, (0, 1, 2, 3)))
    assert [r["id"] for r in ablated] == [r["id"] for r in got] and ablated != got
