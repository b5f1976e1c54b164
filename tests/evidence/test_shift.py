"""The adapter's shift along a factor, and steering in its units: multiple = 1 on the base reproduces it per layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from evidence_fixtures import PROMPTS, planted

from grasp_core.evidence.candidates import candidate_factors
from grasp_core.evidence.shift import adapter_shift, shift_ratio, steer_by_offsets, steering_offsets
from grasp_core.model.adapters import load_model
from grasp_core.model.chat import encode_prompt, pad_batch
from grasp_core.model.interventions import record_residual, run_until_recorded


def _mean_projection(model, tok, z: torch.Tensor, layers: list[int]) -> torch.Tensor:
    """(L+1,) mean h_l . z over every real token but the first, all prompts in one padded batch."""
    batch = pad_batch([encode_prompt(tok, p) for p in PROMPTS], tok.pad_token_id or 0)
    mask = batch["attention_mask"].bool()
    mask[:, 0] = False
    with record_residual(model, layers, stop_early=False) as rec:
        run_until_recorded(model, **batch)
    return torch.tensor([float((rec[l].double() @ z.double())[mask].mean()) for l in layers], dtype=torch.float64)


def test_steering_at_multiple_one_reproduces_the_adapter_shift(
    tmp_path: Path, home: Path, tiny_llama_dir: Path
) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    bm = load_model(str(p.base), p.adapter)
    model, tok = bm.model, bm.tokenizer
    _fs, cands = candidate_factors(p.adapter, str(p.base), top=2)
    layers = list(range(5))
    for _i, f in cands:
        (shift,) = adapter_shift(model, tok, PROMPTS, [f], batch_size=5, progress=False)  # batches of 5: not 1 pass
        m = torch.tensor(shift.per_layer, dtype=torch.float64)  # (L+1,)
        assert m.abs().max() > 0.5  # the planted adapter writes along its factors
        offsets = steering_offsets(model, tok, PROMPTS, f, shift)
        with model.disable_adapter():
            plain = _mean_projection(model, tok, f.vector, layers)
            with steer_by_offsets(model, f, offsets, multiple=1.0):
                steered = _mean_projection(model, tok, f.vector, layers)
        assert torch.allclose(steered - plain, m.double(), rtol=1e-4, atol=1e-4 * float(m.abs().max()))
        # Half the unit moves the first steered layer by half the shift (later layers respond non-linearly).
        first = int(torch.nonzero(m.abs() > 1e-3)[0])
        with model.disable_adapter(), steer_by_offsets(model, f, offsets, multiple=0.5):
            half = _mean_projection(model, tok, f.vector, layers)
        assert float(half[first] - plain[first]) == pytest.approx(0.5 * float(m[first]), rel=1e-3)


def test_shift_ratio_is_one_for_the_same_corpus_and_names_a_zero_train_shift(
    tmp_path: Path, home: Path, tiny_llama_dir: Path
) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    bm = load_model(str(p.base), p.adapter)
    _fs, cands = candidate_factors(p.adapter, str(p.base), top=1)
    (s,) = adapter_shift(bm.model, bm.tokenizer, PROMPTS, [cands[0][1]], progress=False)
    ratio = shift_ratio(s, s, n_boot=200)
    assert ratio is not None and ratio.mean == pytest.approx(1.0) and ratio.lo < 1.0 < ratio.hi
    zero = type(s)([0.0] * len(s.per_prompt), s.per_layer, s.base_per_layer, s.n_tokens)
    assert shift_ratio(s, zero) is None
