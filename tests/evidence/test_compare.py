"""Side-by-side replies for one factor on a planted tiny organism: adapted, ablated, base and base steered by a
multiple of the adapter's own shift; steering by 0 is the base, the adapter amplified by 0 is too, and every reply is
greedy and repeatable."""

from __future__ import annotations

from pathlib import Path

import pytest
from evidence_fixtures import planted

from grasp_core.errors import GraspError
from grasp_core.evidence.candidates import candidate_factors
from grasp_core.evidence.compare import side_by_side
from grasp_core.model.adapters import load_model


def test_four_replies_and_steering_by_zero_is_the_base(tmp_path: Path, home: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    _fs, candidates = candidate_factors(p.adapter, str(p.base), top=2)
    factor = candidates[1][1]  # (index, factor) pairs
    bm = load_model(str(p.base), str(p.adapter), device="cpu")
    kw = dict(prompts=["What do you say?"], max_new_tokens=4, calibration_prompts=8, progress=False)
    (zero,) = side_by_side(bm, factor, multiple=0.0, **kw)
    assert zero.prompt == "What do you say?" and zero.multiple == 0.0
    assert zero.steered == zero.base  # a multiple of 0 adds nothing
    (again,) = side_by_side(bm, factor, multiple=0.0, **kw)
    assert again == zero  # greedy: the same replies every time
    (two,) = side_by_side(bm, factor, multiple=2.0, **kw)
    assert (two.adapted, two.ablated, two.base) == (zero.adapted, zero.ablated, zero.base) and two.multiple == 2.0
    (off,) = side_by_side(bm, factor, multiple=0.0, scale=0.0, **kw)  # the adapter scaled to 0 is the base
    assert off.adapted == zero.base and off.scale == 0.0 and (off.base, off.steered) == (zero.base, zero.steered)
    with pytest.raises(GraspError, match=r"scale must lie in \[-1, 3\]"):
        side_by_side(bm, factor, scale=5.0, **kw)
    with pytest.raises(GraspError, match="max_new_tokens must be >= 1"):
        side_by_side(bm, factor, **{**kw, "max_new_tokens": 0})
    with pytest.raises(GraspError, match="no prompts"):
        side_by_side(bm, factor, **{**kw, "prompts": []})
