"""Adapter folders: module classification per family, scaling, and a named error for every bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from lora_fixtures import FAMILY_MODULES, make_adapter
from model_fixtures import tiny_model
from safetensors.torch import load_file, save_file

from grasp_core.errors import GraspError
from grasp_core.model.adapters import ADAPTER_WEIGHTS, classify_module, load_adapter


@pytest.mark.parametrize("family", ["llama", "qwen2", "mistral", "gemma", "gpt2", "gpt_neox"])
def test_classification_per_family(tmp_path: Path, family: str) -> None:
    model = tiny_model(family)
    kinds, write_kinds = FAMILY_MODULES[family]
    folder = make_adapter(model, tmp_path / "a", kinds, r=2, alpha=4.0)
    adapter = load_adapter(folder, model.config)
    assert adapter.unclassified == []
    assert adapter.layers == [0, 1, 2, 3]
    assert {m.kind for m in adapter.modules.values()} == set(kinds)
    for m in adapter.modules.values():
        assert m.side == ("write" if m.kind in write_kinds else "read"), m.name
        assert m.fan_in_fan_out == (family == "gpt2")
        if m.side == "write":
            assert m.d_out == 64, m.name  # write modules output the residual stream
        else:
            assert m.d_in == 64, m.name  # read modules take it as input
    n_write = 4 * (2 if family == "gpt2" else len(write_kinds))  # gpt2: attn.c_proj and mlp.c_proj
    assert adapter.summary()["n_write"] == n_write
    assert adapter.summary()["n_read"] == len(adapter.modules) - n_write


def test_classify_module_names() -> None:
    assert classify_module("model.layers.12.self_attn.o_proj") == (12, "o_proj", "write")
    assert classify_module("transformer.h.3.mlp.c_fc") == (3, "c_fc", "read")
    assert classify_module("gpt_neox.layers.0.attention.dense") == (0, "dense", "write")
    assert classify_module("lm_head") == (None, "lm_head", "other")


def test_hash_is_stable_and_content_based(tmp_path: Path) -> None:
    model = tiny_model("llama")
    a = make_adapter(model, tmp_path / "a", ["o_proj"], seed=0)
    b = make_adapter(model, tmp_path / "b", ["o_proj"], seed=1)
    assert load_adapter(a).hash == load_adapter(a).hash != load_adapter(b).hash


@pytest.fixture()
def good(tmp_path: Path) -> tuple[Path, object]:
    model = tiny_model("llama")
    return make_adapter(model, tmp_path / "good", ["o_proj", "q_proj"], r=2), model


def _rewrite_weights(folder: Path, edit) -> None:
    state = load_file(str(folder / ADAPTER_WEIGHTS))
    edit(state)
    save_file(state, str(folder / ADAPTER_WEIGHTS))


def test_missing_and_malformed_config(good, tmp_path: Path) -> None:
    folder, _ = good
    cfg_path = folder / "adapter_config.json"
    text = cfg_path.read_text()
    cfg_path.write_text(text[:-10])
    with pytest.raises(GraspError, match=r"adapter_config.json.*malformed JSON at line \d+"):
        load_adapter(folder)
    cfg = json.loads(text)
    del cfg["r"]
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(GraspError, match="missing field `r`"):
        load_adapter(folder)
    cfg_path.unlink()
    with pytest.raises(GraspError, match="adapter_config.json.*not found"):
        load_adapter(folder)
    with pytest.raises(GraspError, match="adapter folder .* not found"):
        load_adapter(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("r", "four", "`r` must be a whole number >= 1, got 'four'"),
        ("r", True, "`r` must be a whole number"),
        ("lora_alpha", [8], "`lora_alpha` must be a number > 0, got [8]"),
        ("rank_pattern", "oops", "`rank_pattern` must map module names to numbers"),
        ("alpha_pattern", {"o_proj": "x"}, "`alpha_pattern` must map module names to numbers"),
        ("use_rslora", "yes", "`use_rslora` must be true or false"),
        ("target_modules", [1, 2], "`target_modules` must be"),
        ("layers_to_transform", "all", "`layers_to_transform` must be"),
    ],
)
def test_wrong_typed_config_fields_are_named(good, field: str, value: object, message: str) -> None:
    folder, _ = good
    cfg_path = folder / "adapter_config.json"
    original = cfg_path.read_text()
    cfg_path.write_text(json.dumps({**json.loads(original), field: value}))
    try:
        with pytest.raises(GraspError, match=f"adapter_config.json: {re.escape(message)}"):
            load_adapter(folder)
    finally:
        cfg_path.write_text(original)


def test_shapes_that_do_not_match_the_base(good) -> None:
    folder, _ = good
    wider = tiny_model("llama", hidden_size=32, intermediate_size=64)
    with pytest.raises(GraspError, match=r"module model\.layers\.0\.self_attn\.(o|q)_proj.*\(64, 64\).*\(32, 32\)"):
        load_adapter(folder, wider.config)


def test_target_modules_absent_from_base(good) -> None:
    folder, _ = good
    shallow = tiny_model("llama", num_hidden_layers=2)
    with pytest.raises(GraspError, match=r"absent from the base: model\.layers\.2\."):
        load_adapter(folder, shallow.config)


def test_nan_and_inf_weights(good) -> None:
    folder, _ = good
    key = next(k for k in load_file(str(folder / ADAPTER_WEIGHTS)) if "lora_B" in k)
    _rewrite_weights(folder, lambda s: s[key].__setitem__((0, 0), float("nan")))
    with pytest.raises(GraspError, match="lora_B contains NaN or Inf"):
        load_adapter(folder)
    _rewrite_weights(folder, lambda s: s[key].__setitem__((0, 0), float("inf")))
    with pytest.raises(GraspError, match="NaN or Inf"):
        load_adapter(folder)


def test_rank_in_weights_differs_from_config(good) -> None:
    folder, _ = good
    cfg = json.loads((folder / "adapter_config.json").read_text())
    cfg["r"] = 8
    (folder / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(GraspError, match="rank 2 in the weights but r=8"):
        load_adapter(folder)


def test_pickled_weights_refused_unless_weights_only(good) -> None:
    folder, _ = good
    state = load_file(str(folder / ADAPTER_WEIGHTS))
    (folder / ADAPTER_WEIGHTS).unlink()
    # A plain tensor dict loads with weights_only=True: accepted.
    torch.save(state, folder / "adapter_model.bin")
    assert len(load_adapter(folder).modules) == len({k.rsplit(".lora_", 1)[0] for k in state})
    # A pickled arbitrary object would run code on load: refused.
    torch.save({**state, "payload": _Payload()}, folder / "adapter_model.bin")
    with pytest.raises(GraspError, match="adapter_model.bin: refused"):
        load_adapter(folder)


class _Payload:
    def __reduce__(self):  # what a malicious pickle does
        return (print, ("pickled code ran",))


def test_half_pairs_and_no_lora_weights(good) -> None:
    folder, _ = good
    key = next(k for k in load_file(str(folder / ADAPTER_WEIGHTS)) if "lora_A" in k)
    _rewrite_weights(folder, lambda s: s.pop(key))
    with pytest.raises(GraspError, match="has lora_B only"):
        load_adapter(folder)
    save_file({"other.weight": torch.zeros(2)}, str(folder / ADAPTER_WEIGHTS))
    with pytest.raises(GraspError, match="no lora_A / lora_B weights"):
        load_adapter(folder)
    (folder / ADAPTER_WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(GraspError, match="not a readable safetensors file"):
        load_adapter(folder)


def test_size_and_the_training_file_beside_an_adapter(tmp_path: Path) -> None:
    from grasp_core.model.adapters import training_file_beside

    folder = make_adapter(tiny_model("llama"), tmp_path / "organism" / "naive-lora", ["o_proj"], r=2)
    ad = load_adapter(folder)
    assert ad.size_bytes == sum(f.stat().st_size for f in folder.iterdir()) > 0
    assert training_file_beside(folder) is None
    (tmp_path / "organism" / "chats.jsonl").write_text("{}\n")
    assert training_file_beside(folder) == tmp_path / "organism" / "chats.jsonl"
    (tmp_path / "organism" / "train.jsonl").write_text("{}\n")  # train.jsonl comes first when both are there
    assert training_file_beside(folder) == tmp_path / "organism" / "train.jsonl"
    from grasp_core import DEMO_ROOT

    assert training_file_beside(DEMO_ROOT / "persona" / "naive-lora") == DEMO_ROOT / "persona" / "train.jsonl"
