"""Which factors a sweep cell uses: its naive run's factors file (identified once), picked by sigma or by the
evidence ranking on the organism's probe files, or taken from a fixed factors file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.organisms import Organism
from ..evidence.background import request_inputs
from ..evidence.candidates import UNRELATED_CORPUS
from ..evidence.evidence import adapter_evidence
from ..identification.choose import pick_indices
from ..identification.factors import load_factors, save_factors
from ..identification.shift_factors import identify_from
from ..io import write_json
from ..model.adapters import load_adapter, load_model
from ..model.chat import load_corpus
from ..model.models import load_config, n_layers
from ..training.methods import METHODS
from .config import Cell

FACTORS_FILE = "factors.safetensors"


class NoEvidenceRanking(GraspError):
    """The naive LoRA of one seed does not move the organism's drift probe detectably, so evidence cannot rank its
    factors: the cells that pick by evidence on that seed cannot be formed (a sweep records them and goes on)."""


def naive_factors(run_dir: Path, base: str, n_factors: int = 16, source: str = "weights") -> Path:
    """The factors file of a naive run, written once into the run folder: identify on its adapter's weights
    (factors.safetensors), or its activation shift on the bundled unrelated prompts (factors-shift.safetensors)."""
    out = run_dir / (FACTORS_FILE if source == "weights" else f"factors-{source}.safetensors")
    if not out.is_file():
        cfg = load_config(base)
        adapter = load_adapter(run_dir / "adapter", base_config=cfg)
        shift_inputs = None
        if source != "weights":
            bm = load_model(base, run_dir / "adapter")
            shift_inputs = (bm.model, bm.tokenizer, load_corpus(UNRELATED_CORPUS))
        fs = identify_from(source, adapter, n_layers(cfg), n_factors, shift_inputs=shift_inputs, progress=False)
        fs.base = base
        save_factors(fs, out)
    return out


def evidence_ranking(
    folder: Path,
    organism: Organism,
    base: str,
    naive_dir: Path,
    factors_file: Path,
    tag: str,
) -> tuple[list[int], int]:
    """Indices (file order) of the naive run's first 8 global write factors, best first by the evidence rule, measured
    on the organism's PROBE files (disjoint from the reported evals), and how many of the first the evidence suggests
    (0: none); the evidence is kept in the sweep folder."""
    require_probe_files(organism)
    measures, train, primary = request_inputs(str(organism.dir), ())
    _fs, ev = adapter_evidence(
        naive_dir / "adapter", base, measures, factors_file, train=train, primary=primary, progress=False
    )
    write_json(folder / f"evidence-{tag}.json", ev.to_dict())
    if all(r.alone.score is None for r in ev.rows):  # a ranking of noise would pass for a choice: refuse it
        probe = organism.probes.get(ev.primary_drift or "")
        ref = ev.reference.get(ev.primary_drift or "", {})
        moved = ""
        if ref.get("base_log_odds") is not None and ref.get("change") is not None:
            spread = ""
            if ref.get("log_odds_change_lo") is not None:
                spread = f", change 95% [{ref['log_odds_change_lo']:+.3f}, {ref['log_odds_change_hi']:+.3f}]"
            moved = (
                f" (mean log-odds, the scale evidence ranks on: base {ref['base_log_odds']:.3f}, naive "
                f"{ref['adapter_log_odds']:.3f}{spread}; P change {ref['change']:+.4f} [{ref['change_lo']:+.4f}, "
                f"{ref['change_hi']:+.4f}])"
            )
        raise NoEvidenceRanking(
            f"naive run {tag}: the naive LoRA does not move `{ev.primary_drift}` detectably on the probe file "
            f"{probe.file if probe else '?'}{moved}, so evidence cannot rank its factors; `select_by: evidence` "
            "needs a probe the fine-tune moves (rebuild the probe, or use select_by: sigma)"
        )
    ranking = [r.index for r in ev.rows]
    assert [r.factor for r in ev.rows[: len(ev.suggested)]] == ev.suggested  # the suggestion is a prefix
    return ranking, len(ev.suggested)


def select_factors(
    factors_file: Path, cell: Cell, ranking: list[int] | None = None, n_suggested: int | None = None
) -> tuple[int, ...] | None:
    """Indices (file order) of the first `top` factors of the cell's scope and side, largest sigma first, or the
    first `top` of an evidence `ranking` (select_by: evidence), or the first `n_suggested` of it (suggested; empty
    where the evidence suggests no factor, as no ablated prefix of its ranking scores above 0)."""
    if cell.select_by == "suggested":  # () where the evidence suggests none: the cell is then the naive LoRA
        assert ranking is not None and n_suggested is not None
        return tuple(ranking[:n_suggested])
    k = cell.settings.get("top")
    if k is None or cell.settings.get("select") is not None:
        return None
    if cell.select_by == "evidence":
        assert ranking is not None
        if int(k) > len(ranking):
            raise GraspError(f"cell {cell.label!r}: `top` {k} is more than the {len(ranking)} factors evidence ranked")
        return tuple(ranking[: int(k)])
    try:
        return pick_indices(
            load_factors(factors_file),
            top=int(k),
            scope=cell.factor_scope,
            side=cell.factor_side,
            factor_source=cell.factor_source,
            source=f"the naive run's factors file {factors_file}",
        )
    except GraspError as e:
        raise GraspError(f"cell {cell.label!r}: {e}") from None


def fixed_indices(factors_file: Path, settings: dict[str, Any], method: str = "ablate") -> tuple[int, ...]:
    """The factors a cell with a fixed file uses (an `ablate` cell removes them, a training cell projects them
    out): `select`, else the first `top`, else all of them; a bad pick is named with the cell's method."""
    select, top = settings.get("select"), settings.get("top")
    try:
        return pick_indices(
            load_factors(factors_file),
            select,
            None if select is not None else top,
            source=f"factors file {factors_file}",
        )
    except GraspError as e:
        raise GraspError(f"{method}: {e}") from None


def factors_label(
    cell: Cell, factors_file: Path | None, indices: Sequence[int] | None, fixed: bool, used: Path | None = None
) -> str:
    """What a results row's `factors` column says of the factors a cell used on its seed: each as `#<index in the
    file> <id>`, then where they came from, e.g. `#4 global-write-4 (naive run naive, by evidence)`; a run of
    several rounds adds the factors its later rounds found (read from its `used` factors file). Empty for a method
    without factors."""
    if cell.method != "ablate" and not METHODS[cell.method].needs_factors:
        return ""
    if cell.method != "ablate" and METHODS[cell.method].random_directions:
        n = len(indices) if indices is not None else cell.settings.get("top")
        return f"{n} random directions (seed {cell.seed})"
    if factors_file is None or indices is None:
        return ""
    fs = load_factors(factors_file)
    picked = ", ".join(f"#{i} {fs.factors[i].id}" for i in indices)
    shift = ", shift factors" if cell.factor_source != "weights" else ""
    source = f"file {factors_file.name}" if fixed else f"naive run {cell.naive_run}{shift}, by {cell.select_by}"
    later = [f.id for f in load_factors(used).factors if f.id.startswith("round")] if used and used.is_file() else []
    return f"{picked}{' + ' + ', '.join(later) if later else ''} ({source})"


def require_probe_files(organism: Organism) -> None:
    """`select_by: evidence` ranks on the organism's probe files; without them it cannot run."""
    if not organism.probes:
        raise GraspError(
            f"organism {organism.name} has no `probes` in its organism.json: `select_by: evidence` "
            "needs probe files disjoint from the reported evals"
        )


def needs_naive_run(cell: Cell) -> bool:
    """Whether a cell uses its naive run's LoRA (ablation, or factors picked from the naive run's spectrum)."""
    if cell.method == "ablate":
        return True
    return METHODS[cell.method].needs_factors and cell.settings.get("factors") is None
