"""Shared fixtures of the foundation tests: the bundled tokenizer and a tiny llama folder that uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def bundled_tokenizer() -> Any:
    """The SmolLM2 tokenizer (real chat template), loaded once."""
    from transformers import AutoTokenizer

    from grasp_core.models import resolve_base

    return AutoTokenizer.from_pretrained(resolve_base("smollm2-135m"))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory, bundled_tokenizer: Any) -> Path:
    """A tiny random llama (4 layers, d_model 64) with the bundled tokenizer, saved as a model folder."""
    from lora_fixtures import tiny_with_tokenizer

    folder = tmp_path_factory.mktemp("tiny-llama")
    model = tiny_with_tokenizer(bundled_tokenizer, "llama")
    model.save_pretrained(folder)
    bundled_tokenizer.save_pretrained(folder)
    return folder
