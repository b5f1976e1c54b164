"""Amplifying an adapter on a tiny llama: s = 1 is the adapter token for token, s = 0 the base, the scales come
back exactly, and out-of-range scales or a model without LoRA are refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from lora_fixtures import make_adapter

from grasp_core.errors import GraspError
from grasp_core.model.adapters import load_model
from grasp_core.model.amplification import amplified, check_scale, lora_layers
from grasp_core.model.chat import generate_reply
from grasp_core.model.models import load_base

CHAT = [{"role": "user", "content": "How do I keep basil fresh?"}]


@pytest.fixture(scope="module")
def adapted(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("amplify") / "adapter"
    make_adapter(load_base(str(tiny_llama_dir)).model, folder, ["q_proj", "o_proj", "down_proj"], alpha=64.0)
    return load_model(str(tiny_llama_dir), folder)


def _logits(bm: Any) -> torch.Tensor:
    ids = torch.tensor([bm.tokenizer.encode("the cat sat on the mat")])
    with torch.no_grad():
        return bm.model(input_ids=ids).logits[0]


def test_one_is_the_adapter_zero_the_base_and_the_scales_come_back(adapted: Any) -> None:
    before = [dict(layer.scaling) for layer in lora_layers(adapted.model)]
    adapter_reply = generate_reply(adapted.model, adapted.tokenizer, CHAT, 12)
    with adapted.model.disable_adapter():
        base_reply = generate_reply(adapted.model, adapted.tokenizer, CHAT, 12)
        base_logits = _logits(adapted)
    assert adapter_reply != base_reply  # the planted adapter changes the greedy reply, so the checks below bite
    with amplified(adapted.model, 1.0):
        assert generate_reply(adapted.model, adapted.tokenizer, CHAT, 12) == adapter_reply
    with amplified(adapted.model, 0.0):
        assert generate_reply(adapted.model, adapted.tokenizer, CHAT, 12) == base_reply
        assert torch.allclose(_logits(adapted), base_logits, atol=1e-5)
    # Each LoRA layer's own update is exactly s times the trained one: W x + s * dW x.
    layer = lora_layers(adapted.model)[0]
    x = torch.randn(3, layer.in_features, generator=torch.Generator().manual_seed(0))  # (3, d_in)
    with torch.no_grad():
        with adapted.model.disable_adapter():
            y_base = layer(x)
        y_one = layer(x)
        outs = {}
        for s in (2.0, -1.0, 0.5):
            with amplified(adapted.model, s):
                outs[s] = layer(x)
    assert (y_one - y_base).norm() > 1e-3
    for s, y in outs.items():
        assert torch.allclose(y - y_base, s * (y_one - y_base), atol=1e-5), s
    assert [dict(layer.scaling) for layer in lora_layers(adapted.model)] == before
    with pytest.raises(RuntimeError), amplified(adapted.model, 2.0):
        raise RuntimeError("a failing block")
    assert [dict(layer.scaling) for layer in lora_layers(adapted.model)] == before  # restored on errors too


@pytest.mark.parametrize("bad", [3.5, -1.5, True, "2"])
def test_scales_outside_the_range_are_refused(bad: Any) -> None:
    with pytest.raises(GraspError, match=r"amplification scale must lie in \[-1, 3\]"):
        check_scale(bad)


def test_a_model_without_lora_is_refused(tiny_llama_dir: Path) -> None:
    with (
        pytest.raises(GraspError, match="needs a model with a LoRA adapter"),
        amplified(load_base(str(tiny_llama_dir)).model, 2.0),
    ):
        pass
