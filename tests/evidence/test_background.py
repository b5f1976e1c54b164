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
