"""Trade-off sweeps: every cell of a SweepConfig trained through the run registry, evaluated, tabled and plotted.

Resumable at any point: a cell whose run is done is not trained again (the registry's config key), a run that
was stopped part-way is resumed from its checkpoint, and evaluations are cached in each run folder.
Layout of a sweep folder (GRASP_HOME/sweeps/<name>/): sweep.json, results.csv (one row per cell and seed),
summary.csv (one row per configuration, with the Pareto flag), tradeoff.html / tradeoff.png, report.md,
provenance.json (each invocation's command, commit, machine and wall time); a sweep
started in the background (background.submit_sweep) adds sweep.yaml (what it runs), sweep.log and sweep.pid.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import GraspError
from ..evaluation.organisms import Organism, evaluate_organism, load_organism
from ..evaluation.stats import bootstrap, clipped_logit
from ..evidence.background import request_inputs
from ..evidence.evidence import adapter_evidence
from ..identification.choose import pick_indices
from ..identification.factors import identify, load_factors, save_factors
from ..io import grasp_home, inside, read_json, text_hash, write_json
from ..model.adapters import load_adapter
from ..model.models import load_config, n_layers
from ..runs.jobs import reap_dead, wait
from ..runs.registry import absolute_config, config_key, get_run, list_runs
from ..runs.worker import run_foreground
from ..training.config import TrainConfig
from ..training.methods import METHODS
from .config import Cell, SweepConfig
from .provenance import record_invocation
from .report import SweepReport, item_rows, with_gain, write_report

EVAL_FILE = "eval.json"
FACTORS_FILE = "factors.safetensors"


def sweeps_root(root: str | Path | None = None) -> Path:
    """The folder that holds the sweeps: `root`, else GRASP_HOME/sweeps."""
    return Path(root) if root is not None else grasp_home() / "sweeps"


def sweep_dir(config: SweepConfig, root: str | Path | None = None) -> Path:
    """The folder of a sweep: its name, or organism + a hash of the config."""
    base = sweeps_root(root)
    name = config.name or f"{Path(config.organism).name}-{text_hash(repr(config.to_dict()), length=8)}"
    return inside(base, name)


# ---------------------------------------------------------------- runs


def _train_config(
    config: SweepConfig, organism: Organism, seed: int, method: str, settings: dict[str, Any]
) -> TrainConfig:
    merged = {**config.train, **settings, "method": method, "seed": seed, "base": config.base,
              "data": str(organism.train)}  # fmt: skip
    return TrainConfig.from_dict(merged)


def ensure_run(config: TrainConfig, runs_root: Path | None, log: Callable[[str], None]) -> Path:
    """The run folder of a finished run for `config`: found done, resumed if stopped part-way, else trained now."""
    reap_dead(runs_root)  # a run whose worker died is marked failed first, so it is resumed below, not waited for
    key = config_key(absolute_config(config))
    same = [r for r in list_runs(runs_root) if r.key == key]
    for r in reversed(same):
        if r.status.state == "done":
            return r.dir
    for r in reversed(same):
        if r.status.state in ("queued", "running"):
            log(f"  waiting for run {r.id} ({r.status.state})")
            r = wait(r.id, runs_root)
            if r.status.state == "done":
                return r.dir
    stopped = [r for r in same if r.status.state in ("cancelled", "failed")]
    if stopped:
        log(f"  resuming run {stopped[-1].id}")
        run = run_foreground(stopped[-1].id, runs_root)
    else:
        run = run_foreground(config, runs_root)
    if run.status.state != "done":
        raise GraspError(f"run {run.id} ended {run.status.state}: {run.status.error or 'see grasp logs ' + run.id}")
    return run.dir


def probe_factors(run_dir: Path, base: str, top_k: int = 16) -> Path:
    """The factors file of a probe run (identify on its adapter), written once into the run folder."""
    out = run_dir / FACTORS_FILE
    if not out.is_file():
        cfg = load_config(base)
        adapter = load_adapter(run_dir / "adapter", base_config=cfg)
        fs = identify(adapter, n_layers(cfg), top_k=top_k)
        fs.base = base
        save_factors(fs, out)
    return out


def evidence_ranking(folder: Path, organism: Organism, base: str, probe_dir: Path, factors_file: Path, tag: str,
                     log: Callable[[str], None]) -> list[int]:  # fmt: skip
    """Indices (file order) of the probe's first 8 global write factors, best first by the evidence rule, measured
    on the organism's PROBE files (disjoint from the reported evals); the evidence is kept in the sweep folder."""
    if not organism.probes:
        raise GraspError(f"organism {organism.name} has no `probes` in its organism.json: `select_by: evidence` "
                         "needs probe files disjoint from the reported evals")  # fmt: skip
    measures, train, primary = request_inputs(str(organism.dir), ())
    _fs, ev = adapter_evidence(probe_dir / "adapter", base, measures, factors_file, train=train, primary=primary,
                               progress=False)  # fmt: skip
    write_json(folder / f"evidence-{tag}.json", ev.to_dict())
    if all(r.alone.score is None for r in ev.rows):
        log(f"  evidence could not rank probe {tag}: the naive LoRA did not move {ev.primary_drift} on the probe "
            "files detectably, so the ranking is the file's (sigma) order")  # fmt: skip
    return [r.index for r in ev.rows]


def select_factors(factors_file: Path, cell: Cell, ranking: list[int] | None = None) -> tuple[int, ...] | None:
    """Indices (file order) of the first `top` factors of the cell's scope and side, largest sigma first, or the
    first `top` of an evidence `ranking` (select_by: evidence)."""
    k = cell.settings.get("top")
    if k is None or cell.settings.get("select") is not None:
        return None
    if cell.select_by == "evidence":
        assert ranking is not None
        if int(k) > len(ranking):
            raise GraspError(f"cell {cell.label!r}: `top` {k} is more than the {len(ranking)} factors evidence ranked")
        return tuple(ranking[: int(k)])
    try:
        return pick_indices(load_factors(factors_file), top=int(k), scope=cell.factor_scope, side=cell.factor_side,
                            source=f"the probe's file {factors_file}")  # fmt: skip
    except GraspError as e:
        raise GraspError(f"cell {cell.label!r}: {e}") from None


def _ablated_indices(factors_file: Path, settings: dict[str, Any]) -> tuple[int, ...]:
    """The factors an `ablate` cell with a fixed file removes: `select`, else the first `top`, else all of them."""
    select, top = settings.get("select"), settings.get("top")
    try:
        return pick_indices(load_factors(factors_file), select, None if select is not None else top,
                            source=f"factors file {factors_file}")  # fmt: skip
    except GraspError as e:
        raise GraspError(f"ablate: {e}") from None


# ---------------------------------------------------------------- evaluation


def evaluate_cached(folder: Path, organism: Organism, base: str, adapter: Path | None,
                    ablate: tuple[Path, tuple[int, ...]] | None = None,
                    measures: tuple[str, ...] | None = None) -> dict[str, Any]:  # fmt: skip
    """The organism's measures (default: all but free-form) for base (+ adapter) (+ ablation), cached per measure
    in folder/eval.json, so a sweep asking for fewer or more measures reuses what was computed."""
    key = text_hash(str(organism.dir), str(adapter), repr(ablate), organism.fingerprint())
    cache = folder / EVAL_FILE
    cached = read_json(cache) if cache.is_file() else {}
    entry: dict[str, Any] = dict(cached.get(key, {}))
    entry.pop("errors", None)
    wanted = [s.name for s in organism.eval_specs(measures) if s.kind != "free_form"]
    missing = tuple(m for m in wanted if m not in entry)
    if missing:
        fresh = evaluate_organism(organism, base=base, adapter=adapter, ablate=ablate, measures=missing)
        entry.update({k: v for k, v in fresh.items() if k != "errors"})  # failed measures are retried next time
        cached[key] = entry
        write_json(cache, cached)
        if fresh.get("errors"):
            entry["errors"] = fresh["errors"]
    return {k: v for k, v in entry.items() if k == "errors" or k in wanted or k.removesuffix("_shift") in wanted}


# ---------------------------------------------------------------- the sweep


def run_sweep(config: SweepConfig, root: str | Path | None = None, runs_root: str | Path | None = None,
              log: Callable[[str], None] | None = None, figures: tuple[str, ...] = (".html", ".png")
              ) -> SweepReport:  # fmt: skip
    """Train and evaluate every cell (skipping finished ones), then write the table, summary and plot."""
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    organism = load_organism(config.organism)
    folder = sweep_dir(config, root)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "sweep.json", config.to_dict())
    rroot = Path(runs_root) if runs_root is not None else None

    cells = config.cells()
    total = len(cells) + 1
    t0 = time.time()
    rows: list[dict[str, Any]] = []
    say(f"sweep {folder.name}: {len(cells)} cells over seeds {list(config.seeds)} on organism {organism.name}")
    base_measures = evaluate_cached(folder, organism, config.base, None, measures=config.measures)
    rows.append(_row("base", "base", None, None, base_measures))
    nll_items: dict[tuple[str, Any], list[float] | None] = {
        ("base", None): _nll(base_measures)
    }  # for the gain interval
    items = item_rows("base", None, base_measures)

    if any(c.select_by == "evidence" for c in cells) and not organism.probes:
        raise GraspError(f"organism {organism.name} has no `probes` in its organism.json: `select_by: evidence` "
                         "needs probe files disjoint from the reported evals")  # fmt: skip
    probes: dict[tuple[str, int], Path] = {}  # (probe, seed) -> run folder of the probe's naive LoRA
    rankings: dict[tuple[str, int], list[int]] = {}  # (probe, seed) -> evidence ranking of its factors
    rounds_of: dict[tuple[Any, ...], int] = {}  # cells that differ only in `rounds` -> the most rounds asked
    for cell in cells:
        rounds_of[_family(cell)] = max(rounds_of.get(_family(cell), 1), _rounds(cell))
    for i, cell in enumerate(cells, start=1):
        say(f"[{i}/{len(cells)}] {cell.label} seed={cell.seed}  ({time.time() - t0:.0f} s so far)")
        settings = dict(cell.settings)
        ffile: Path | None = None
        fixed = settings.get("factors")  # a fixed factors file replaces the probe's (top/select in file order)
        uses_factors = cell.method == "ablate" or METHODS[cell.method].needs_factors
        if cell.method == "ablate" or (uses_factors and fixed is None):
            pkey = (cell.probe, cell.seed)
            if pkey not in probes:
                probe_cfg = _train_config(config, organism, cell.seed, "lora", config.probes[cell.probe])
                probes[pkey] = ensure_run(probe_cfg, rroot, say)
        if uses_factors and fixed is not None:
            ffile = Path(str(fixed)).expanduser().resolve()
        elif uses_factors:
            ffile = probe_factors(probes[(cell.probe, cell.seed)], config.base)
            ranking = None
            if cell.select_by == "evidence":
                rkey = (cell.probe, cell.seed)
                if rkey not in rankings:
                    say(f"  evidence on probe {cell.probe} seed {cell.seed} (the organism's probe files)")
                    rankings[rkey] = evidence_ranking(folder, organism, config.base, probes[rkey], ffile,
                                                      f"{cell.probe}-seed{cell.seed}", say)  # fmt: skip
                ranking = rankings[rkey]
            sel = select_factors(ffile, cell, ranking)
            if sel is not None:
                settings.pop("top", None)
                settings["select"] = sel
        if cell.method == "ablate":
            assert ffile is not None
            probe_dir = probes[(cell.probe, cell.seed)]
            chosen = _ablated_indices(ffile, settings) if fixed is not None else tuple(settings.get("select", ()))
            chosen = tuple(int(j) for j in chosen)
            measures = evaluate_cached(
                probe_dir, organism, config.base, probe_dir / "adapter", (ffile, chosen), config.measures
            )
            rows.append(_row(cell.label, "ablate", cell, probe_dir.name, measures))
            nll_items[(cell.label, cell.seed)] = _nll(measures)
            items += item_rows(cell.label, cell.seed, measures)
            continue
        if ffile is not None:
            settings["factors"] = str(ffile)
        # Cells that differ only in `rounds` share one run of the most rounds; each reads its own round's adapter.
        rounds, most = _rounds(cell), rounds_of[_family(cell)]
        if most > 1:
            settings["rounds"] = most
        run_dir = ensure_run(_train_config(config, organism, cell.seed, cell.method, settings), rroot, say)
        adapter = run_dir / "adapter" if rounds == most else run_dir / f"round-{rounds - 1}" / "adapter"
        measures = evaluate_cached(run_dir, organism, config.base, adapter, measures=config.measures)
        rows.append(_row(cell.label, cell.method, cell, run_dir.name, measures))
        nll_items[(cell.label, cell.seed)] = _nll(measures)
        items += item_rows(cell.label, cell.seed, measures)

    results = with_gain(pd.DataFrame(rows), {k: v for k, v in nll_items.items() if v is not None})
    report = write_report(folder, results, organism, total=total, figures=figures, items=pd.DataFrame(items))
    record_invocation(folder, organism.name, organism.fingerprint(), t0, report.done, report.total,
                      training_wall_s=_training_wall_s(results, rroot))  # fmt: skip
    return report


def _nll(measures: dict[str, Any]) -> list[float] | None:
    """The per-item NLLs of the task_nll measure, where it was evaluated."""
    m = measures.get("task_nll")
    return list(m["nll"]) if isinstance(m, dict) and isinstance(m.get("nll"), list) else None


def _training_wall_s(results: pd.DataFrame, runs_root: Path | None) -> float | None:
    """Summed started-to-finished time of the distinct training runs in the table, from their status files."""
    if "run" not in results:
        return None
    total = 0.0
    for run_id in results["run"].dropna().unique():
        try:
            status = get_run(str(run_id), runs_root).status
        except GraspError:
            continue  # an ablate cell names its probe's run; a run folder removed since
        if status.started is not None and status.finished is not None:
            total += status.finished - status.started
    return total


def _rounds(cell: Cell) -> int:
    """The rounds a cell asks for (its method's default when unset)."""
    value = cell.settings.get("rounds")
    return int(value) if value is not None else METHODS[cell.method].default_rounds if cell.method in METHODS else 1


def _family(cell: Cell) -> tuple[Any, ...]:
    """A cell's identity without its `rounds` (round i of an n-round run is the i-round run)."""
    rest = sorted((k, repr(v)) for k, v in cell.settings.items() if k != "rounds")
    return (cell.method, cell.seed, cell.probe, cell.factor_scope, cell.factor_side, cell.select_by, tuple(rest))


def _row(label: str, method: str, cell: Cell | None, run_id: str | None, measures: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"label": label, "method": method, "curve": cell.curve if cell else method,
                           "seed": cell.seed if cell else None,
                           "strength": cell.strength_value if cell else None, "run": run_id}  # fmt: skip
    for name, m in sorted(measures.items()):  # sorted: fresh and cached (sorted JSON) rows agree
        if isinstance(m, dict) and "mean" in m:
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = m["mean"], m.get("lo"), m.get("hi")
        elif isinstance(m, int | float):
            row[name] = m
        if isinstance(m, dict) and m.get("kind") == "choice" and m.get("scores"):
            iv = bootstrap([clipped_logit(p) for p in m["scores"]])  # the same items on the log-odds scale
            row[f"{name}_logit"], row[f"{name}_logit_lo"], row[f"{name}_logit_hi"] = iv.mean, iv.lo, iv.hi
    return row
