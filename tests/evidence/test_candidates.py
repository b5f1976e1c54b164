"""The bundled unrelated corpus (no organism's training data in it) and the choice of candidate factors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from text_fixtures import content_trigrams
from train_fixtures import write_factors

from grasp_core.errors import GraspError
from grasp_core.evaluation.organisms import load_organism
from grasp_core.evidence.candidates import UNRELATED_CORPUS, candidate_factors
from grasp_core.model.chat import load_corpus


def test_unrelated_corpus_shares_nothing_with_training_data() -> None:
    corpus = load_corpus(UNRELATED_CORPUS)
    assert len(corpus) >= 60
    prompts = [item[-1]["content"] for item in corpus if isinstance(item, list)]
    assert len(prompts) == len(corpus) == len(set(prompts))
    for name in ("persona", "political", "flattery"):
        org = load_organism(name)
        rows = [json.loads(line) for line in org.train.read_text().splitlines() if line.strip()]
        train_prompts = {m["content"] for r in rows for m in r["messages"] if m["role"] == "user"}
        assert not set(prompts) & train_prompts
        grams: set[tuple[str, ...]] = set()
        for r in rows:
            for m in r["messages"]:
                grams |= content_trigrams(m["content"])
        shared = {p: content_trigrams(p) & grams for p in prompts if content_trigrams(p) & grams}
        assert not shared, shared


def test_candidates_default_to_the_first_global_write_factors(tmp_path: Path, tiny_llama_dir: Path) -> None:
    f = write_factors(tmp_path / "f.safetensors", torch.randn(3, 64), str(tiny_llama_dir))
    fs, chosen = candidate_factors(tmp_path, str(tiny_llama_dir), f, top=2)
    assert [i for i, _f in chosen] == [0, 1] and len(fs) == 3
    _fs, picked = candidate_factors(tmp_path, str(tiny_llama_dir), f, select=[2])
    assert [fac.id for _i, fac in picked] == ["f2"]


@pytest.mark.parametrize(
    ("width", "top", "message"),
    [(64, 0, "at least 1"), (64, 4, "asks for more global write factors"), (32, 1, "d_model 32")],
)
def test_bad_candidates_are_one_clear_line(
    tmp_path: Path, tiny_llama_dir: Path, width: int, top: int, message: str
) -> None:
    f = write_factors(tmp_path / "f.safetensors", torch.randn(3, width), str(tiny_llama_dir))
    with pytest.raises(GraspError, match=message):
        candidate_factors(tmp_path, str(tiny_llama_dir), f, top=top)


def test_a_factors_file_of_another_adapter_is_not_its_candidates(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from lora_fixtures import make_adapter
    from safetensors.torch import load_file, save_file

    from grasp_core.identification.factors import identify, save_factors
    from grasp_core.model.adapters import load_adapter
    from grasp_core.model.models import load_base

    model = load_base(str(tiny_llama_dir), device="cpu").model
    adapter = make_adapter(model, tmp_path / "a", ["o_proj", "down_proj"], r=2)
    own = save_factors(identify(load_adapter(adapter), 4, n_factors=2), tmp_path / "own.safetensors")
    assert len(candidate_factors(adapter, str(tiny_llama_dir), own, top=2)[1]) == 2
    weights = load_file(str(adapter / "adapter_model.safetensors"))  # the adapter retrained in place, say
    save_file({k: 1.5 * v for k, v in weights.items()}, str(adapter / "adapter_model.safetensors"))
    with pytest.raises(GraspError, match=r"own.safetensors was made from adapter .* not from .*--factors-from-other"):
        candidate_factors(adapter, str(tiny_llama_dir), own, top=2)
    _fs, chosen = candidate_factors(adapter, str(tiny_llama_dir), own, top=2, other_adapter=True)  # when meant
    assert len(chosen) == 2
