"""Shared fixtures of the foundation tests: the bundled tokenizer, a tiny llama folder that uses it, and the
persona organism cut down to a few items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def bundled_tokenizer() -> Any:
    """The SmolLM2 tokenizer (real chat template), loaded once."""
    from transformers import AutoTokenizer

    from grasp_core.model.models import resolve_base

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


def _head(src: Path, dst: Path, n: int) -> None:
    lines = src.read_text(encoding="utf-8").splitlines()[:n]
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def tiny_organism(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The persona organism cut to a few items, so a sweep on a tiny model takes seconds."""
    from grasp_core import DEMO_ROOT

    demo = DEMO_ROOT / "persona"
    folder = tmp_path_factory.mktemp("organism")
    _head(demo / "train.jsonl", folder / "train.jsonl", 12)
    for name in ("task", "drift", "leak", "drift-probe", "task-probe"):
        _head(demo / f"{name}.jsonl", folder / f"{name}.jsonl", 6)
    manifest = json.loads((demo / "organism.json").read_text())
    manifest["evals"] = {k: v for k, v in manifest["evals"].items() if k != "free_form"}
    (folder / "organism.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A one-line chat JSONL (a training file that exists; the tests using it do not train on it)."""
    path = tmp_path / "chats.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}) + "\n"
    )
    return path
