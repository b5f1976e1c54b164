"""Paired streams: adapter on and off over the same tokens, at every stream index, with the scored positions."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lora_fixtures import make_adapter

from grasp_core.errors import GraspError
from grasp_core.model.adapters import load_model
from grasp_core.model.models import load_base
from grasp_core.model.stream_shift import encode_corpus, paired_streams

PROMPTS = ["A short one.", "A somewhat longer prompt than the first, to be padded against.", "Third."]


def test_adapter_on_and_off_differ_from_the_first_adapted_layer(tmp_path: Path, tiny_llama_dir: Path) -> None:
    base = load_base(str(tiny_llama_dir), device="cpu", dtype=torch.float32)

    def only_layer_2(name: str, A: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (A, B) if ".layers.2." in name else (A, torch.zeros_like(B))

    folder = make_adapter(base.model, tmp_path / "a", ["o_proj"], r=2, plant=only_layer_2)
    bm = load_model(str(tiny_llama_dir), folder)
    batches = list(paired_streams(bm.model, bm.tokenizer, PROMPTS, "test", batch_size=2, progress=False))
    assert [b.rows for b in batches] == [[0, 1], [2]]
    first = batches[0]
    L1, B, T, _d = first.adapted.shape
    assert (L1, B) == (5, 2) and first.base.shape == first.adapted.shape
    diff = (first.adapted - first.base).abs().amax(dim=(1, 2, 3))  # (L+1,)
    assert float(diff[:3].max()) == 0.0 and float(diff[3]) > 1e-4  # stream 3 = output of layer 2
    lengths = [len(x) for x in encode_corpus(bm.tokenizer, PROMPTS[:2], 256)]
    assert first.scored.sum(1).tolist() == [n - 1 for n in lengths]  # real tokens but the first
    assert not bool(first.scored[:, 0].any()) and T == max(lengths)


def test_bad_corpora_and_a_bare_model_are_named(tmp_path: Path, tiny_llama_dir: Path) -> None:
    base = load_base(str(tiny_llama_dir), device="cpu", dtype=torch.float32)
    folder = make_adapter(base.model, tmp_path / "a", ["o_proj"], r=2)
    bm = load_model(str(tiny_llama_dir), folder)
    with pytest.raises(GraspError, match="who: the corpus is empty"):
        list(paired_streams(bm.model, bm.tokenizer, [], "who", progress=False))
    with pytest.raises(GraspError, match="corpus item 1 has fewer than 2 tokens"):
        list(paired_streams(bm.model, bm.tokenizer, ["Fine here.", ""], "who", progress=False))
    bare = load_model(str(tiny_llama_dir))
    with pytest.raises(GraspError, match="who needs a model with an adapter"):
        list(paired_streams(bare.model, bare.tokenizer, PROMPTS, "who", progress=False))
