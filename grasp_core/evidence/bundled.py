"""Evidence shipped with a bundled organism: <organism>/naive-lora/evidence.json, written by `grasp demo evidence`,
so the Factors page opens on the ranking of a fresh install instead of minutes of gathering. The file is read only
while its stamp matches what it was computed from (adapter, probe files, corpora, candidates, base, rule); paths in
it are kept relative to the organism folder, so it reads the same wherever grasp is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.organisms import NAIVE_DIR, load_organism
from ..identification.factors import identify
from ..io import file_hash, read_json, write_json
from ..model.adapters import adapter_hash, load_adapter
from ..model.models import load_config, n_layers, portable_base
from .background import EvidenceRequest, evidence_for, request_inputs
from .candidates import UNRELATED_CORPUS
from .evidence import RULE
from .results import Evidence

BUNDLED_EVIDENCE = "evidence.json"


def _organism_dir(req: EvidenceRequest) -> Path | None:
    """The bundled organism folder whose naive LoRA the request is about, with the organism's own probes (else None:
    only that request has bundled evidence)."""
    if not req.organism or req.evals:
        return None
    folder = load_organism(req.organism).dir
    return folder if Path(req.adapter).resolve() == (folder / NAIVE_DIR).resolve() else None


def evidence_stamp(req: EvidenceRequest) -> dict[str, Any]:
    """What the evidence of `req` was computed from: if any of it changes, the bundled file is stale."""
    measures, train, _ = request_inputs(req.organism, req.evals)
    return {
        "adapter_hash": adapter_hash(req.adapter),
        "probes": {m.name: file_hash(m.file) for m in measures},
        "train": file_hash(train) if train else None,
        "unrelated": file_hash(UNRELATED_CORPUS),
        "top": req.top,
        "base": portable_base(req.base),
        "rule": RULE,
    }


def _relative(d: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Paths under the organism folder made relative to it (and the bundled corpus named by its file name)."""

    def rel(p: str | None) -> str | None:
        if p is None:
            return None
        path = Path(p).resolve()
        if path == UNRELATED_CORPUS.resolve():
            return UNRELATED_CORPUS.name
        return str(path.relative_to(folder.resolve())) if path.is_relative_to(folder.resolve()) else p

    out = dict(d)
    out["adapter"] = NAIVE_DIR
    out["measures"] = [{**m, "file": rel(m["file"])} for m in d["measures"]]
    out["train_corpus"], out["unrelated_corpus"] = rel(d["train_corpus"]), rel(d["unrelated_corpus"])
    return out


def _absolute(d: dict[str, Any], folder: Path) -> dict[str, Any]:
    def absolute(p: str | None) -> str | None:
        if p is None:
            return None
        return str(UNRELATED_CORPUS) if p == UNRELATED_CORPUS.name else str(folder / p)

    out = dict(d)
    out["adapter"] = str(folder / NAIVE_DIR)
    out["measures"] = [{**m, "file": absolute(m["file"])} for m in d["measures"]]
    out["train_corpus"], out["unrelated_corpus"] = absolute(d["train_corpus"]), absolute(d["unrelated_corpus"])
    return out


def write_bundled_evidence(req: EvidenceRequest, progress: bool = True) -> Path:
    """Gather the evidence of an organism's own request (its naive LoRA, its probes) and write it, stamped, beside
    the adapter."""
    folder = _organism_dir(req)
    if folder is None:
        raise GraspError(f"bundled evidence is for a bundled organism's {NAIVE_DIR} with its probes, not {req}")
    ev = evidence_for(req, progress=progress)[1]
    path = folder / NAIVE_DIR / BUNDLED_EVIDENCE
    body = _relative(ev.to_dict(), folder) | {"n_cached": 0, "n_computed": 0}
    write_json(path, {"stamp": evidence_stamp(req), "evidence": body})
    return path


def bundled_evidence(req: EvidenceRequest) -> Evidence | None:
    """The bundled evidence of `req` when there is one and its stamp still matches, else None."""
    folder = _organism_dir(req)
    path = folder / NAIVE_DIR / BUNDLED_EVIDENCE if folder is not None else None
    if folder is None or path is None or not path.is_file() or req.factors is not None:
        return None  # (the bundled evidence is on the adapter's own factors, not a file of other candidates)
    found = read_json(path, what="bundled evidence")
    if found.get("stamp") != evidence_stamp(req):
        return None
    return Evidence.from_dict(_absolute(found["evidence"], folder))


def organism_request(organism: str, base: str) -> EvidenceRequest:
    """The request the Factors page makes for a bundled organism's naive LoRA: its probes, the first 8 global write
    factors identified from the adapter (fewer when it has fewer)."""
    folder = load_organism(organism).dir / NAIVE_DIR
    fs = identify(load_adapter(folder), n_layers(load_config(base)), n_factors=8)
    return EvidenceRequest.for_adapter(str(folder), base, fs)
