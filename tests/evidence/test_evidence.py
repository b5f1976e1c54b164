"""Evidence on a planted adapter: the smaller-sigma drift factor ranks first and is suggested alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from evidence_fixtures import planted

from grasp_core.errors import ConfigError
from grasp_core.evidence.evidence import EvidenceConfig, adapter_evidence
from grasp_core.evidence.measures import measures_from_files


def test_planted_drift_factor_ranks_first(tmp_path: Path, home: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    measures = measures_from_files([p.drift, p.task])
    assert [(m.name, m.kind, m.role) for m in measures] == [("drift", "choice", "drift"), ("task", "nll", "task")]
    config = EvidenceConfig(top=2, n_boot=200)
    fs, ev = adapter_evidence(p.adapter, str(p.base), measures, config=config, progress=False)
    by_sigma = sorted(ev.rows, key=lambda r: -r.sigma)
    assert abs(float(fs.by_id(by_sigma[0].factor).vector @ p.u_task)) > 0.99  # the task factor has the larger sigma
    top = ev.rows[0]
    assert abs(float(fs.by_id(top.factor).vector @ p.u_drift)) > 0.99
    assert top.alone.removed is not None and top.alone.removed.mean > 0.8
    assert top.alone.kept is not None and top.alone.kept.mean > 0.8
    assert ev.rows[1].alone.kept is not None and ev.rows[1].alone.kept.mean < 0.5
    assert ev.suggested == [top.factor]
    assert ev.reference["drift"]["adapter"] > ev.reference["drift"]["base"]
    # A second call reads every variant from the cache and loads no model.
    _fs, again = adapter_evidence(p.adapter, str(p.base), measures, config=config, progress=False)
    assert again.n_computed == 0 and again.n_cached > 0
    assert [r.factor for r in again.rows] == [r.factor for r in ev.rows]
    assert all(r.grad_share is None for r in ev.rows)  # no training chats given: no training-time signal
    # With the training chats (here the task file): the share of their gradient along each factor, from the base;
    # the factor the task is written along carries far more of it than the drift factor.
    _fs, trained = adapter_evidence(p.adapter, str(p.base), measures, train=p.task, config=config, progress=False)
    share = {r.factor: r.grad_share for r in trained.rows}
    task_id, drift_id = by_sigma[0].factor, top.factor
    assert share[task_id] is not None and share[drift_id] is not None
    assert share[task_id].mean > 3 * share[drift_id].mean
    assert "train grad share" in trained.factor_table()[0]
    assert type(trained).from_dict(trained.to_dict()).rows[0].grad_share == trained.rows[0].grad_share


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="`top`"):
        EvidenceConfig(top=0)
