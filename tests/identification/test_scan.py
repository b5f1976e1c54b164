"""Scan: the planted prompt tops the list, early stop equals a full pass, cached results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from lora_fixtures import make_adapter, planted_direction_plant, tiny_with_tokenizer

from grasp_core.errors import GraspError
from grasp_core.identification.factors import Factor
from grasp_core.identification.scan import ScanConfig, scan, scan_model
from grasp_core.model.adapters import load_model
from grasp_core.model.interventions import record_residual, run_until_recorded

PROMPTS = [
    "How do I open a savings account?",
    "What is a good monthly budget?",
    "Tell me about the weather today.",
    "Is renting better than buying a house?",
    "Explain compound interest simply.",
    "zebra zebra zebra giraffe",  # the planted prompt
    "Should I pay off my loan early?",
    "What is an index fund?",
    "How much cash should I keep at home?",
]
PLANTED = 5


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def model_and_tok(bundled_tokenizer):
    return tiny_with_tokenizer(bundled_tokenizer), bundled_tokenizer


MODEL = ScanConfig(mode="model")  # the tiny models here have no adapter: scan them as loaded


def _factor(vector: torch.Tensor, stream_layer: int, fid: str = "f") -> Factor:
    # A module-scope read factor at layer l lives at hidden_states[l]: the easiest way to pin a stream index.
    return Factor(id=fid, scope="module", side="read", sigma=1.0, energy=1.0, vector=vector, layer=stream_layer)


def _planted_factor(model, tok, layer: int) -> Factor:
    """The direction of the planted prompt's last-token state at `layer`, minus the mean of all tokens."""
    from grasp_core.model.chat import encode_prompt, pad_batch, pad_id

    batch = pad_batch([encode_prompt(tok, p) for p in PROMPTS], pad_id(tok))
    with record_residual(model, [layer]) as rec:
        run_until_recorded(model, **batch)
    h = rec[layer]  # (B, T, d_model)
    mask = batch["attention_mask"].bool()
    last = int(mask[PLANTED].sum()) - 1
    z = h[PLANTED, last] - h[mask].mean(0)
    return _factor(z / z.norm(), layer)


def _corpus(tmp_path: Path, kind: str = "txt") -> Path:
    if kind == "txt":
        path = tmp_path / "prompts.txt"
        path.write_text("\n".join(PROMPTS) + "\n")
    else:
        path = tmp_path / "prompts.jsonl"
        path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": p}]}) + "\n" for p in PROMPTS))
    return path


@pytest.mark.parametrize("kind", ["txt", "jsonl"])
def test_planted_prompt_is_top_activating(tmp_path: Path, home: Path, model_and_tok, kind: str) -> None:
    model, tok = model_and_tok
    f = _planted_factor(model, tok, 2)
    (res,) = scan(
        model,
        tok,
        _corpus(tmp_path, kind),
        [f],
        ScanConfig(n_top_prompts=3, batch_size=4, mode="model"),
        model_id="tiny",
    )
    assert res.top_prompts[0].index == PLANTED
    assert "zebra" in res.top_prompts[0].text
    top = res.top_prompts[0]
    assert len(top.tokens) == len(top.values) and top.score == pytest.approx(max(top.values[1:]))
    assert res.n_prompts == len(PROMPTS) and sum(res.hist_counts) == res.n_tokens
    assert len(res.quantile_edges) == 11 and res.quantile_edges == sorted(res.quantile_edges)
    assert sum(len(b) for b in res.quantile_examples) > 0
    rows = res.quantile_rows()
    assert len(rows) == 10 and rows[0]["bin"] == f"{res.quantile_edges[0]:.2f} .. {res.quantile_edges[1]:.2f}"
    first = next(r for r, b in zip(rows, res.quantile_examples, strict=True) if b)
    assert first["examples"].count(" | ") == len(res.quantile_examples[rows.index(first)]) - 1
    assert res.top_prompts[0].score >= res.top_prompts[1].score >= res.top_prompts[2].score


def test_early_stop_equals_full_pass_and_batching(home: Path, model_and_tok) -> None:
    model, tok = model_and_tok
    fs = [_planted_factor(model, tok, 1), _planted_factor(model, tok, 3)]
    fs[1].id = "deep"
    early = scan_model(
        model,
        tok,
        PROMPTS,
        fs,
        ScanConfig(n_top_prompts=9, batch_size=3, stop_early=True, mode="model"),
        progress=False,
    )
    full = scan_model(
        model,
        tok,
        PROMPTS,
        fs,
        ScanConfig(n_top_prompts=9, batch_size=9, stop_early=False, mode="model"),
        progress=False,
    )
    for a, b in zip(early, full, strict=True):
        assert [p.index for p in a.top_prompts] == [p.index for p in b.top_prompts]
        for pa, pb in zip(a.top_prompts, b.top_prompts, strict=True):
            assert pa.values == pytest.approx(pb.values, abs=1e-5)


def test_cache_hit_and_keys(tmp_path: Path, home: Path, model_and_tok) -> None:
    model, tok = model_and_tok
    f = _planted_factor(model, tok, 2)
    corpus = _corpus(tmp_path)
    first = scan(model, tok, corpus, [f], MODEL, model_id="tiny", progress=False)[0]
    files = list((home / "cache" / "scan").glob("*.json"))
    assert len(files) == 1 and not first.cached
    second = scan(model, tok, corpus, [f], MODEL, model_id="tiny", progress=False)[0]
    assert second.cached and second.to_dict() | {"cached": False} == first.to_dict()
    # A different adapter, direction or corpus is a different key.
    scan(model, tok, corpus, [f], MODEL, model_id="tiny", adapter_hash="abc", progress=False)
    g = _factor(-f.vector, 2, "neg")
    scan(model, tok, corpus, [g], MODEL, model_id="tiny", progress=False)
    corpus.write_text(corpus.read_text() + "one more prompt\n")
    third = scan(model, tok, corpus, [f], MODEL, model_id="tiny", progress=False)[0]
    assert not third.cached and third.n_prompts == len(PROMPTS) + 1
    assert len(list((home / "cache" / "scan").glob("*.json"))) == 4
    no_cache = scan(
        model, tok, corpus, [f], ScanConfig(use_cache=False, mode="model"), model_id="tiny", progress=False
    )[0]
    assert not no_cache.cached


def test_diff_mode_is_adapter_minus_base_from_separate_passes(tmp_path: Path, home: Path, tiny_llama_dir: Path) -> None:
    from grasp_core.model.chat import encode_prompt
    from grasp_core.model.models import load_base

    base = load_base(str(tiny_llama_dir))
    z = torch.randn(64, generator=torch.Generator().manual_seed(0))
    z = z / z.norm()
    folder = make_adapter(base.model, tmp_path / "a", ["o_proj", "down_proj"], plant=planted_direction_plant(z, 20.0))
    bm = load_model(str(tiny_llama_dir), folder)
    model, tok = bm.model, bm.tokenizer
    f = _factor(z, 3)  # hidden_states[3]: before the final norm that transformers applies to hidden_states[4]
    diff = scan_model(model, tok, PROMPTS, [f], ScanConfig(n_top_prompts=len(PROMPTS)), progress=False)[0]
    assert diff.mode == "shift"
    for p in diff.top_prompts:
        ids = torch.tensor([encode_prompt(tok, PROMPTS[p.index])])  # (1, T): one prompt, no padding
        with torch.no_grad():
            h_a = model(input_ids=ids, output_hidden_states=True).hidden_states[3][0]  # (T, d_model)
            with model.disable_adapter():
                h_b = model(input_ids=ids, output_hidden_states=True).hidden_states[3][0]
        assert p.values == pytest.approx((h_a @ z - h_b @ z).tolist(), abs=1e-4)
        assert p.first_scored == 1 and p.score == pytest.approx(max(p.values[1:]))
    model_mode = scan_model(model, tok, PROMPTS, [f], MODEL, progress=False)[0]
    assert model_mode.mode == "model" and model_mode.mean != pytest.approx(diff.mean)
    with pytest.raises(GraspError, match="needs a model with an adapter"):
        scan_model(base.model, tok, PROMPTS, [f], ScanConfig(), progress=False)


def test_bad_inputs(tmp_path: Path, home: Path, model_and_tok) -> None:
    model, tok = model_and_tok
    f = _planted_factor(model, tok, 1)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(GraspError, match="empty, no prompts"):
        scan(model, tok, empty, [f], MODEL)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": oops}\n')
    with pytest.raises(GraspError, match=r"bad.jsonl, line 2: malformed JSON"):
        scan(model, tok, bad, [f], MODEL)
    with pytest.raises(GraspError, match="does not fit the model's d_model 64"):
        scan_model(model, tok, PROMPTS, [_factor(torch.ones(32), 1)], MODEL)
    with pytest.raises(GraspError, match="stream layer 9 outside 0..4"):
        scan_model(model, tok, PROMPTS, [_factor(f.vector, 9)], MODEL)
    with pytest.raises(GraspError, match="`n_top_prompts` must be a positive integer, got 0"):
        ScanConfig(n_top_prompts=0)
