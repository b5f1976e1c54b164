"""The evidence table's views: the order factors are inspected in, and the table factors are picked from."""

from __future__ import annotations

import torch

from grasp_core.evidence.results import Ablation, Evidence, FactorEvidence, inspection_order, pick_rows
from grasp_core.identification.factors import Factor, FactorSet


def _factor(fid: str, scope: str, sigma: float) -> Factor:
    return Factor(id=fid, scope=scope, side="write", sigma=sigma, energy=0.1, vector=torch.ones(4) / 2, layer=1)


FACTORS = [
    _factor("global-write-0", "global", 3.0),
    _factor("global-write-1", "global", 2.0),
    _factor("global-write-2", "global", 1.0),
    _factor("layers.1.o_proj-0", "module", 0.5),
]
FS = FactorSet(factors=FACTORS, base="b", adapter="a", adapter_hash="h", d_model=4, n_layers=2)


def _evidence(ranked: list[str], scores: list[float]) -> Evidence:
    rows = []
    for rank, (fid, score) in enumerate(zip(ranked, scores, strict=True)):
        alone = Ablation(factors=[fid], effects={}, removed=None, kept=None, score=score)
        rows.append(FactorEvidence(rank=rank, factor=fid, index=0, sigma=1.0, stream_layer=1, alone=alone))
    return Evidence("a", "h", "b", [], None, None, {}, rows, [], [ranked[0]], "u.jsonl", None, "rule")


def test_inspection_order_puts_the_ranked_factors_first() -> None:
    assert inspection_order(FS) == ["global-write-0", "global-write-1", "global-write-2"]  # globals, file order
    ev = _evidence(["global-write-2", "global-write-0"], [0.9, 0.1])
    assert inspection_order(FS, ev) == ["global-write-2", "global-write-0", "global-write-1"]
    only_module = FactorSet([FS.factors[3]], "b", "a", "h", 4, 2)
    assert inspection_order(only_module) == ["layers.1.o_proj-0"]  # no global factor: all of them


def test_pick_rows_tick_the_picked_and_show_the_evidence_score() -> None:
    rows = pick_rows(FS, _evidence(["global-write-1"], [0.75]), picked=["global-write-1", "layers.1.o_proj-0"])
    assert [r["id"] for r in rows] == [f.id for f in FS.factors]
    assert [r["pick"] for r in rows] == [False, True, False, True]
    assert [r["evidence score"] for r in rows] == [None, 0.75, None, None]
    assert "loadings" not in rows[0] and rows[0]["sigma"] == 3.0
    assert all(r["evidence score"] is None and not r["pick"] for r in pick_rows(FS))  # before any evidence
