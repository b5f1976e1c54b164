"""Base models: aliases and folders resolve or fail with a named message; layout helpers per family."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from model_fixtures import tiny_model

from grasp_core.errors import GraspError
from grasp_core.model.models import (
    d_model,
    decoder_layers,
    default_device,
    default_dtype,
    final_norm,
    load_base,
    n_layers,
    resolve_base,
    unwrap,
)


@pytest.mark.parametrize("family", ["llama", "qwen2", "mistral", "gemma", "gpt2", "gpt_neox"])
def test_layout_helpers(family: str) -> None:
    model = tiny_model(family)
    assert len(decoder_layers(model)) == n_layers(model) == 4
    assert d_model(model) == 64
    norm = final_norm(model)
    assert isinstance(norm, torch.nn.Module) and norm is not model
    assert unwrap(model) is model


def test_unknown_alias_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(GraspError, match="unknown base alias 'no-such-model'"):
        resolve_base("no-such-model")
    with pytest.raises(GraspError, match="not a model folder: no config.json"):
        resolve_base(str(tmp_path))
    with pytest.raises(GraspError, match="base model folder ./nowhere/at/all not found"):
        resolve_base("./nowhere/at/all")
    with pytest.raises(GraspError, match="GGUF file .* not found"):
        resolve_base(str(tmp_path / "x.gguf"))


def test_device_and_dtype_follow_what_the_machine_has(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each branch, with the machine's answers set: CUDA first, then MPS, else CPU; bf16 only on a GPU that has it
    (this CPU box has neither GPU, so their availability is what is set here; the choice is the code's)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert default_device() == torch.device("cuda")  # CUDA wins over MPS
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert default_dtype(torch.device("cuda")) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert default_dtype(torch.device("cuda")) == torch.float32  # an older GPU: float32, not fp16
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")
    assert default_dtype(torch.device("cpu")) == default_dtype(torch.device("mps")) == torch.float32


def test_load_base_from_folder(tiny_llama_dir: Path) -> None:
    bm = load_base(str(tiny_llama_dir))
    assert bm.tokenizer.pad_token is not None
    assert not bm.model.training and bm.device.type == default_device().type
    assert n_layers(bm.model) == 4


@pytest.mark.parametrize("family", ["llama", "gpt2", "gemma"])
def test_next_token_logits_match_the_full_forward(family: str) -> None:
    from grasp_core.model.models import next_token_logits

    model = tiny_model(family)
    ids = torch.randint(0, 256, (3, 9), generator=torch.Generator().manual_seed(0))
    attn = torch.ones_like(ids)
    attn[2, 6:] = 0  # a padded row
    mask = torch.zeros(3, 8, dtype=torch.bool)
    mask[0, 2:] = True
    mask[1, [0, 5]] = True
    mask[2, 3:5] = True
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=attn).logits[:, :-1][mask]  # (N, V)
        sel = next_token_logits(model, ids, attn, mask)
    assert sel.shape == full.shape == (int(mask.sum()), 256)
    torch.testing.assert_close(sel, full, rtol=1e-5, atol=1e-5)
