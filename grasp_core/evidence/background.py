"""Evidence gathered by a detached `grasp evidence` process, so the dashboard never waits on it: the process fills
the evidence cache and writes evidence.json; a page that finds it done calls adapter_evidence, which then reads
only the cache. A request's process lives under GRASP_HOME/evidence/<key>/ (key: the request), and survives page reloads."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from ..errors import GraspError
from ..evaluation.organisms import CHANGE, bundled_organism_of, load_organism
from ..identification.factors import FactorSet
from ..io import grasp_home, tail_lines, text_hash
from ..procs import file_lock, live_pid, start_detached
from .evidence import EvidenceConfig, adapter_evidence
from .measures import Measure, measures_from_files, measures_from_specs
from .results import Evidence

ProcessState = Literal["none", "running", "done", "failed"]
RESULT = "evidence.json"


@dataclass(frozen=True)
class EvidenceRequest:
    """What to gather evidence on: adapter and base, and the measures (an organism's probes, eval files or none)."""

    adapter: str
    base: str
    organism: str | None = None
    evals: tuple[str, ...] = ()
    top: int = 8  # candidates: the first `top` global write factors
    factors: str | None = None  # their factors file (None: the adapter's own, else the one identify kept)

    def __post_init__(self) -> None:
        if self.organism and self.evals:
            raise GraspError("evidence: give an organism or eval files, not both")

    @classmethod
    def for_adapter(
        cls, adapter: str, base: str, fs: FactorSet, evals: tuple[str, ...] = (), factors: str | None = None
    ) -> EvidenceRequest:
        """What to gather evidence on for a loaded adapter: the eval files given, else the probe files of the bundled
        organism the adapter is the naive LoRA of, else the adapter's own replies; the candidates are the first 8
        global write factors of `fs` (its identified factors, kept in `factors` when they are not the adapter's
        default ones; fewer when it has fewer; of two factor sources, their sigma rankings in turn)."""
        organism = bundled_organism_of(adapter) if not evals else None
        n_write = sum(f.scope == "global" and f.side == "write" for f in fs.factors)
        name = organism.name if organism is not None and organism.probes else None
        return cls(adapter, base, name, tuple(evals), top=max(1, min(8, n_write)), factors=factors)

    @property
    def measured_on(self) -> str:
        """What the measures are read from, in words: the organism's probe files, the eval files' names, or the
        adapter's own replies."""
        if self.organism:
            return f"organism {self.organism}'s probe files"
        return ", ".join(Path(f).name for f in self.evals) or "the adapter's own replies to unrelated prompts"

    def key(self) -> str:  # `factors` counts only when given, so requests made before it keep their folder
        return text_hash(*(f"{k}={v}" for k, v in sorted(asdict(self).items()) if k != "factors" or v is not None))

    def argv(self) -> list[str]:
        """The `grasp evidence` arguments of this request."""
        out = ["--adapter", self.adapter, "--base", self.base, "--top", str(self.top)]
        if self.organism:
            out += ["--organism", self.organism]
        if self.evals:
            out += ["--evals", *self.evals]
        if self.factors:
            out += ["--factors", self.factors]
        return out


def request_inputs(
    organism: str | None, evals: tuple[str, ...] | list[str] = ()
) -> tuple[list[Measure], str | None, tuple[str | None, str | None]]:
    """(measures, training prompts, primary drift/task names) of an organism's PROBES or of eval files (none: the
    adapter's own replies)."""
    if organism:
        org = load_organism(organism)
        if not org.probes:
            raise GraspError(f"organism {org.name} ({org.dir}) has no `probes` in its organism.json: give eval files")
        return (
            measures_from_specs(list(org.probes.values())),
            str(org.train),
            (org.primary.removesuffix(CHANGE), None),
        )
    return (measures_from_files(list(evals)) if evals else []), None, (None, None)


def evidence_for(req: EvidenceRequest, progress: bool = True) -> tuple[FactorSet, Evidence]:
    """The evidence of a request in this process (fast once its background process is done: all is cached)."""
    measures, train, primary = request_inputs(req.organism, req.evals)
    return adapter_evidence(
        req.adapter,
        req.base,
        measures,
        req.factors,
        train=train,
        config=EvidenceConfig(top=req.top),
        primary=primary,
        progress=progress,
    )


@dataclass
class EvidenceProcess:
    """A request's background `grasp evidence` process as found on disk."""

    request: EvidenceRequest
    folder: Path
    state: ProcessState
    log: list[str]  # the last lines of its output (progress bars included)

    @property
    def result(self) -> Path:
        return self.folder / RESULT


def _folder(req: EvidenceRequest) -> Path:
    return grasp_home() / "evidence" / req.key()


def evidence_process(req: EvidenceRequest) -> EvidenceProcess:
    """The state of a request's background process (reads only: starts, stops and marks nothing)."""
    folder = _folder(req)
    pid_file, log = folder / "pid", folder / "log.txt"
    lines = [ln.rsplit("\r", 1)[-1] for ln in tail_lines(log, 6)] if log.is_file() else []
    if (folder / RESULT).is_file():
        state: ProcessState = "done"
    elif live_pid(pid_file, str(folder / RESULT)) is not None:  # its command line names its result file
        state = "running"
    elif pid_file.is_file():
        state = "failed"
    else:
        state = "none"
    return EvidenceProcess(req, folder, state, lines)


def start_evidence(req: EvidenceRequest, rerun: bool = False) -> EvidenceProcess:
    """Start the process unless it runs or is done (`rerun`: start again after a failure or to refresh)."""
    folder = _folder(req)
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / "lock"):
        found = evidence_process(req)
        if found.state == "running" or (found.state == "done" and not rerun):
            return found
        (folder / RESULT).unlink(missing_ok=True)
        log = folder / "log.txt"
        log.write_text("", encoding="utf-8")
        cmd = [sys.executable, "-m", "grasp_core", "evidence", *req.argv(), "--out", str(folder / RESULT)]
        start_detached(cmd, log, folder / "pid")
    return evidence_process(req)
