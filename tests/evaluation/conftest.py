"""The evaluation tests' tiny model: a random llama with the bundled tokenizer, loaded once per module."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from train_fixtures import make_tiny_base

from grasp_core.model.models import load_base


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = make_tiny_base(tmp_path_factory.mktemp("evals") / "tiny")
    return load_base(str(folder), device="cpu", dtype=torch.float32)
