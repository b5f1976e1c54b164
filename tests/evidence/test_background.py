"""Evidence gathered by a detached `grasp evidence` process: running, done (then read from the cache), failed."""

from __future__ import annotations

import time
from pathlib import Path

from evidence_fixtures import planted

from grasp_core.evidence.background import EvidenceRequest, evidence_for, evidence_process, start_evidence


def _wait(req: EvidenceRequest, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while evidence_process(req).state == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    return evidence_process(req).state


def test_a_job_runs_detached_and_its_evidence_is_then_cached(tmp_path: Path, home: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    req = EvidenceRequest(str(p.adapter), str(p.base), evals=(str(p.drift), str(p.task)), top=2)
    assert evidence_process(req).state == "none"
    proc = start_evidence(req)
    assert proc.state in ("running", "done")
    assert start_evidence(req).folder == proc.folder  # a second start while it runs starts nothing new
    assert _wait(req) == "done", evidence_process(req).log
    _fs, ev = evidence_for(req, progress=False)
    assert ev.n_computed == 0 and ev.suggested == ["global-write-1"]


def test_a_failed_job_keeps_its_last_lines(tmp_path: Path, home: Path, tiny_llama_dir: Path) -> None:
    p = planted(tmp_path, tiny_llama_dir)
    req = EvidenceRequest(str(p.adapter), str(p.base), evals=(str(tmp_path / "missing.jsonl"),))
    start_evidence(req)
    assert _wait(req) == "failed"
    assert any("missing.jsonl" in line for line in evidence_process(req).log)


def test_the_request_for_a_loaded_adapter_uses_its_organisms_probe_files(tmp_path: Path) -> None:
    from grasp_core.evaluation.organisms import DEMO_ROOT
    from grasp_core.identification.factors import identify
    from grasp_core.model.adapters import load_adapter

    demo = DEMO_ROOT / "persona" / "naive-lora"
    fs = identify(load_adapter(demo), n_layers=30, n_factors=3)
    req = EvidenceRequest.for_adapter(str(demo), "smollm2-135m", fs)
    assert (req.organism, req.evals, req.top) == ("persona", (), 3)  # as many candidates as global write factors
    assert req.measured_on == "organism persona's probe files"
    given = EvidenceRequest.for_adapter(str(demo), "smollm2-135m", fs, ("/x/drift.jsonl", "/x/task.jsonl"))
    assert (given.organism, given.measured_on) == (None, "drift.jsonl, task.jsonl")  # files given win
    elsewhere = tmp_path / "naive-lora"
    elsewhere.mkdir()
    mine = EvidenceRequest.for_adapter(str(elsewhere), "smollm2-135m", fs)
    assert mine.organism is None and mine.measured_on == "the adapter's own replies to unrelated prompts"
    assert EvidenceRequest.for_adapter(str(demo), "b", identify(load_adapter(demo), 30, n_factors=12)).top == 8
