"""Evidence shipped with the bundled organisms: each naive LoRA's evidence.json is up to date with its adapter,
probes and the ranking rule (else `grasp demo evidence --organism <name>` must be rerun), reads back as the Evidence
it was, and goes stale the moment a probe file changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grasp_core import DEMO_ROOT
from grasp_core.errors import GraspError
from grasp_core.evidence.background import EvidenceRequest
from grasp_core.evidence.bundled import (
    BUNDLED_EVIDENCE,
    bundled_evidence,
    evidence_stamp,
    organism_request,
    write_bundled_evidence,
)
from grasp_core.evidence.results import Evidence
from grasp_core.model.models import DEFAULT_BASE

ORGANISMS = ("persona", "political", "flattery")


@pytest.mark.parametrize("organism", ORGANISMS)
def test_each_bundled_organism_ships_up_to_date_evidence(organism: str) -> None:
    req = organism_request(organism, DEFAULT_BASE)
    assert req.organism == organism and req.top == 8
    ev = bundled_evidence(req)
    stored = json.loads((DEMO_ROOT / organism / "naive-lora" / BUNDLED_EVIDENCE).read_text())
    assert ev is not None, f"stale: rerun `grasp demo evidence --organism {organism}` ({stored['stamp']})"
    assert [r.rank for r in ev.rows] == list(range(8)) and Path(ev.adapter) == DEMO_ROOT / organism / "naive-lora"
    assert all(Path(m.file).is_file() for m in ev.measures) and Path(ev.unrelated_corpus).is_file()
    assert str(DEMO_ROOT) not in json.dumps(stored["evidence"])  # no machine's paths in it
    assert json.loads(json.dumps(Evidence.from_dict(ev.to_dict()).to_dict())) == json.loads(json.dumps(ev.to_dict()))


def test_a_changed_probe_makes_it_stale(tmp_path: Path) -> None:
    folder = tmp_path / "persona"
    shutil.copytree(DEMO_ROOT / "persona", folder, ignore=shutil.ignore_patterns("results"))
    req = EvidenceRequest(str(folder / "naive-lora"), DEFAULT_BASE, str(folder), top=8)
    assert bundled_evidence(req) is not None  # the copy: same contents, so the same stamp
    probe = folder / "drift-probe.jsonl"
    probe.write_text("\n".join(reversed(probe.read_text().splitlines())) + "\n")  # same items, another file
    assert (
        evidence_stamp(req)["probes"]["drift"]
        != evidence_stamp(organism_request("persona", DEFAULT_BASE))["probes"]["drift"]
    )
    assert bundled_evidence(req) is None
    other = EvidenceRequest(str(folder / "naive-lora"), DEFAULT_BASE, evals=(str(probe),))
    assert bundled_evidence(other) is None  # only the organism's own request has bundled evidence
    with pytest.raises(GraspError, match="bundled evidence is for a bundled organism's naive-lora"):
        write_bundled_evidence(other)
    with pytest.raises(GraspError, match="not an evidence file"):
        Evidence.from_dict({"adapter": "x"})
