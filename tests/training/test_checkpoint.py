"""Checkpoints: written whole into checkpoint.new/ and switched in by renames, so a crash at any point resumes from
the last good one to the adapter an uninterrupted run gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from run_fixtures import adapter_weights
from train_fixtures import tiny_config, tiny_kit

from grasp_core.training.checkpoint import has_checkpoint
from grasp_core.training.config import TrainConfig
from grasp_core.training.loop import TrainHooks
from grasp_core.training.run import train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_kit(tmp_path_factory.mktemp("tinyc"))


def _cfg(tiny: dict[str, Path], **kw) -> TrainConfig:
    return tiny_config(tiny, **{"warmup_ratio": 0.2, **kw})


def test_a_crash_while_checkpointing_resumes_from_the_last_good_checkpoint(tiny, tmp_path, monkeypatch):
    cfg = _cfg(tiny, epochs=2, grad_accum=2, checkpoint_every=2)
    full = train(cfg, tmp_path / "full")
    calls = iter(range(100))
    train(cfg, tmp_path / "cut", TrainHooks(should_stop=lambda: next(calls) == 2))  # checkpoint at step 3
    ckpt = tmp_path / "cut" / "checkpoint"

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed between the weights and the optimizer state")

    with monkeypatch.context() as m:
        m.setattr(torch, "save", killed)  # the next checkpoint (step 4) dies after its weights are written
        with pytest.raises(KeyboardInterrupt):
            train(cfg, tmp_path / "cut", resume=True)
    assert (ckpt.with_name("checkpoint.new") / "adapter_model.safetensors").is_file()  # the torn one
    assert torch.load(ckpt / "state.pt", weights_only=True)["step"] == 3  # the good one is untouched
    ckpt.rename(ckpt.with_name("checkpoint.prev"))  # and as if it also died between the two renames
    resumed = train(cfg, tmp_path / "cut", resume=True)
    assert resumed.status == "done" and resumed.steps == full.steps
    a, b = adapter_weights(full.adapter), adapter_weights(resumed.adapter)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-5
    assert len((tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()) == full.steps


def test_a_checkpoint_is_one_with_its_state_here_or_kept_beside_as_previous(tmp_path):
    folder = tmp_path / "checkpoint"
    assert not has_checkpoint(folder)
    folder.mkdir()
    assert not has_checkpoint(folder)  # a folder without its state is no checkpoint
    new = folder.with_name("checkpoint.new")
    new.mkdir()
    (new / "state.pt").write_bytes(b"")
    assert not has_checkpoint(folder)  # a new one is not switched in until it is whole
    prev = folder.with_name("checkpoint.prev")
    prev.mkdir()
    (prev / "state.pt").write_bytes(b"")
    assert has_checkpoint(folder)  # died between the renames: the previous one is resumed from
