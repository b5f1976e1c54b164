"""Per-token KL between two models on a tiny llama: zero between a model and itself, equal to a direct computation
between base and adapter, and bad texts refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from lora_fixtures import make_adapter

from grasp_core.errors import GraspError
from grasp_core.model.adapters import load_model
from grasp_core.model.divergence import encode_text, next_token_logprobs, token_kl
from grasp_core.model.models import load_base

TEXT = "Keep the basil in a glass of water on the windowsill."


@pytest.fixture(scope="module")
def adapted(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("kl") / "adapter"
    make_adapter(load_base(str(tiny_llama_dir)).model, folder, ["q_proj", "o_proj", "down_proj"], alpha=64.0)
    return load_model(str(tiny_llama_dir), folder)


def test_kl_is_zero_against_itself_and_matches_a_direct_computation(adapted: Any) -> None:
    ids = encode_text(adapted.tokenizer, TEXT, 128)
    tuned = next_token_logprobs(adapted.model, ids)
    with adapted.model.disable_adapter():
        base = next_token_logprobs(adapted.model, ids)
    same = token_kl(tuned, tuned, adapted.tokenizer, ids)
    assert len(same.kl) == ids.shape[1] and max(same.kl) < 1e-6
    got = token_kl(tuned, base, adapted.tokenizer, ids)
    with torch.no_grad():
        p = torch.softmax(adapted.model(input_ids=ids).logits[0].double(), -1)  # (T, V)
        with adapted.model.disable_adapter():
            q = torch.softmax(adapted.model(input_ids=ids).logits[0].double(), -1)
    direct = (p * (p.log() - q.log())).sum(-1)  # (T,)
    assert got.kl == pytest.approx(direct.tolist(), abs=1e-4) and max(got.kl) > 1e-3
    top = got.top(3)
    assert [t for t, _tok, _v in top] == sorted(range(len(got.kl)), key=lambda t: -got.kl[t])[:3]
    assert "".join(got.tokens) == adapted.tokenizer.decode(ids[0])


def test_bad_texts_and_mismatched_vocabularies_are_refused(adapted: Any) -> None:
    with pytest.raises(GraspError, match="needs a non-empty text"):
        encode_text(adapted.tokenizer, "  \n", 128)
    with pytest.raises(GraspError, match=r"more than max_length 4"):
        encode_text(adapted.tokenizer, TEXT, 4)
    ids = encode_text(adapted.tokenizer, TEXT, 128)
    a = torch.zeros(ids.shape[1], 10)
    with pytest.raises(GraspError, match="vocabularies differ"):
        token_kl(a, torch.zeros(ids.shape[1], 11), adapted.tokenizer, ids)
