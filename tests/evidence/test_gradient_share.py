"""Training gradient share: exact over a whole basis, high along the direction the task is learned in, no
parameter touched, bad chats named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from evidence_fixtures import planted

from grasp_core.errors import GraspError
from grasp_core.evidence.gradient_share import training_gradient_share
from grasp_core.identification.factors import Factor
from grasp_core.model.adapters import load_model


def _factor(v: torch.Tensor, name: str) -> Factor:
    return Factor(id=name, scope="global", side="write", sigma=1.0, energy=0.0, vector=(v / v.norm()).float())


def _chats(path: Path) -> list[list[dict[str, str]]]:
    return [json.loads(line)["messages"] for line in path.read_text().splitlines() if line.strip()]


def test_the_task_direction_carries_the_training_signal(tmp_path: Path, home: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    bm = load_model(str(p.base), p.adapter)
    chats = _chats(p.task)
    basis = torch.linalg.qr(torch.randn(64, 64, generator=torch.Generator().manual_seed(1), dtype=torch.float64))[0]
    every = [_factor(basis[:, j], f"b{j}") for j in range(64)]
    shares = training_gradient_share(bm.model, bm.tokenizer, chats, every, batch_size=5, progress=False)
    # Over a whole orthonormal basis the shares average to exactly 1 (the gradient's energy is split among them).
    assert sum(s.share(n_boot=50).mean for s in shares) / 64 == pytest.approx(1.0, rel=1e-4)
    task, drift = training_gradient_share(
        bm.model, bm.tokenizer, chats, [_factor(p.u_task, "task"), _factor(p.u_drift, "drift")], progress=False
    )
    t, d = task.share(), drift.share()
    assert t.mean > 3 and t.lo <= t.mean <= t.hi and t.n == len(chats)  # the answers' unembedding points along it
    assert t.mean > 3 * d.mean
    assert all(prm.grad is None for prm in bm.model.parameters())  # no parameter got a gradient
    assert all(not prm.requires_grad or "lora" in n for n, prm in bm.model.named_parameters())


def test_chats_without_an_answer_and_a_bare_model_are_named(tmp_path: Path, home: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    bm = load_model(str(p.base), p.adapter)
    f = [_factor(p.u_task, "task")]
    with pytest.raises(GraspError, match="no training chats"):
        training_gradient_share(bm.model, bm.tokenizer, [], f, progress=False)
    with pytest.raises(GraspError, match="chat 1 has no assistant token"):
        chats = [_chats(p.task)[0], [{"role": "user", "content": "only a question"}]]
        training_gradient_share(bm.model, bm.tokenizer, chats, f, progress=False)
    bare = load_model(str(p.base))
    with pytest.raises(GraspError, match="training gradient share needs a model with an adapter"):
        training_gradient_share(bare.model, bare.tokenizer, _chats(p.task), f, progress=False)
