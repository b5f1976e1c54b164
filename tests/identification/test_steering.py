"""Steering previews: deterministic, a push changes the reply, alpha 0 is the model as it stands at any layer."""

from __future__ import annotations

import pytest
import torch
from lora_fixtures import tiny_with_tokenizer

from grasp_core.errors import GraspError
from grasp_core.identification.steering import steering_preview
from grasp_core.model.chat import generate_reply


@pytest.fixture(scope="module")
def model_and_tok(bundled_tokenizer):
    return tiny_with_tokenizer(bundled_tokenizer), bundled_tokenizer


def test_steering_preview_is_deterministic_and_steers(model_and_tok) -> None:
    model, tok = model_and_tok
    z = torch.randn(64, generator=torch.Generator().manual_seed(1))
    a = steering_preview(model, tok, "Hello, how are you?", z, layer=2, alphas=(-20.0, 0.0, 20.0), max_new_tokens=6)
    b = steering_preview(model, tok, "Hello, how are you?", z, layer=2, alphas=(-20.0, 0.0, 20.0), max_new_tokens=6)
    assert [s.text for s in a] == [s.text for s in b]
    assert [s.alpha for s in a] == [-20.0, 0.0, 20.0]
    assert len({s.text for s in a}) == 3  # +/- a large push changes the greedy reply
    plain = steering_preview(model, tok, "Hello, how are you?", z, layer=0, alphas=(0.0,), max_new_tokens=6)
    assert plain[0].text == a[1].text  # alpha 0 is the unsteered model, at any layer
    unhooked = generate_reply(model, tok, [{"role": "user", "content": "Hello, how are you?"}], 6)
    assert unhooked == a[1].text  # and no hook outlives a preview
    with pytest.raises(GraspError, match="layer 7 outside"):
        steering_preview(model, tok, "hi", z, layer=7)
