"""GRASP's rounds: each adds the last adapter's new top factors and trains again from the base; a resumed run keeps
its finished rounds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_fixtures import tiny_config, tiny_kit

from grasp_core.identification.factors import load_factors, orthonormal_basis
from grasp_core.training.config import TrainConfig
from grasp_core.training.loop import TrainHooks
from grasp_core.training.rounds import NEW_FACTOR_MIN_RESIDUAL, next_round_factors
from grasp_core.training.run import train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_kit(tmp_path_factory.mktemp("tinyr"))


def _cfg(tiny: dict[str, Path], **kw) -> TrainConfig:
    return tiny_config(tiny, **{"warmup_ratio": 0.0, **kw})


def test_rounds_add_new_factors_each_round(tiny, tmp_path):
    res = train(_cfg(tiny, method="grasp", factors=str(tiny["factors"]), rounds=2, epochs=2), tmp_path)
    assert res.status == "done" and [r["n_factors"] for r in res.rounds] == [2, 4]
    assert (tmp_path / "round-0" / "adapter").is_dir() and (tmp_path / "round-1" / "adapter").is_dir()
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    assert all(fid.startswith("round1-") for fid in res.rounds[1]["factors"][2:])


def test_rounds_resume_keeps_finished_rounds(tiny, tmp_path):
    cfg = _cfg(tiny, method="grasp", factors=str(tiny["factors"]), rounds=2)
    seen: list[tuple[int, int]] = []
    hooks = TrainHooks(on_step=lambda s, t, m: seen.append((s, t)), should_stop=lambda: len(seen) >= 8)
    cut = train(cfg, tmp_path, hooks)
    assert cut.status == "cancelled" and [r["status"] for r in cut.rounds] == ["done", "cancelled"]
    assert seen == [(i, 12) for i in range(1, 9)]  # steps counted across both rounds of 6
    first = tmp_path / "round-0" / "adapter" / "adapter_model.safetensors"
    stamp = first.stat().st_mtime_ns
    done = train(cfg, tmp_path, resume=True)
    assert done.status == "done" and [r["n_factors"] for r in done.rounds] == [2, 4]
    assert first.stat().st_mtime_ns == stamp  # round 0 was kept, not trained again


def test_next_round_factors_are_new_directions_named_by_round(tiny, tmp_path):
    res = train(_cfg(tiny, method="grasp", factors=str(tiny["factors"]), rounds=1), tmp_path)
    used = list(load_factors(tiny["factors"]).factors)
    added = next_round_factors(used, res.adapter, k_new=2, round_index=1)
    assert [f.id for f in added[:2]] == [f.id for f in used]  # the factors so far come first, as they were
    new = added[2:]
    assert len(new) == 2 and all(f.id.startswith("round1-") for f in new)
    for j in range(2, len(added)):  # each new direction lies mostly outside the span of those before it
        Z = orthonormal_basis(torch.stack([f.vector for f in added[:j]]))  # (d_model, j)
        v = added[j].vector  # (d_model,)
        assert float((v - Z @ (Z.T @ v)).norm()) >= NEW_FACTOR_MIN_RESIDUAL * float(v.norm())
