"""Per-token KL between two compared models: zero between a model and itself, the direct computation between the
base and an adapter, and the amplified adapter further from the base than the adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from grasp_core.comparison.kl import model_kl
from grasp_core.comparison.lineup import ComparedModel
from grasp_core.errors import GraspError
from grasp_core.model.adapters import load_model

TEXT = "Keep the basil in a glass of water on the windowsill."


def test_kl_against_itself_the_base_and_an_amplified_adapter(kit: dict[str, Any]) -> None:
    base, folder = str(kit["base"]), Path(kit["adapter"])
    plain, tuned, doubled = ComparedModel("base"), ComparedModel("a", folder), ComparedModel("a@2", folder, 2.0)
    assert max(model_kl(tuned, tuned, base, TEXT).kl) < 1e-6
    got = model_kl(tuned, plain, base, TEXT)
    bm = load_model(base, folder)
    ids = bm.tokenizer(TEXT, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        p = torch.softmax(bm.model(input_ids=ids).logits[0].double(), -1)  # (T, V)
        with bm.model.disable_adapter():
            q = torch.softmax(bm.model(input_ids=ids).logits[0].double(), -1)
    assert got.kl == pytest.approx((p * (p.log() - q.log())).sum(-1).tolist(), abs=1e-4)
    assert sum(model_kl(doubled, plain, base, TEXT).kl) > sum(got.kl) > 1e-3
    with pytest.raises(GraspError, match="non-empty text"):
        model_kl(tuned, plain, base, " ")
