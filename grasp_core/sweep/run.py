"""Trade-off sweeps: every cell of a SweepConfig trained through the run registry, evaluated, tabled and plotted.

Resumable at any point: a cell whose run is done is not trained again (the registry's config key), a run that
was stopped part-way is resumed from its checkpoint, and evaluations are cached in each run folder.
Layout of a sweep folder (GRASP_HOME/sweeps/<name>/): sweep.json, results.csv (one row per cell and seed),
summary.csv (one row per configuration, with the Pareto flag), tradeoff.html / tradeoff.png, report.md,
provenance.json (each invocation's command, commit, machine and wall time); a sweep
started in the background (background.submit_sweep) adds sweep.yaml (what it runs), sweep.log and sweep.pid.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import GraspError
from ..evaluation.organisms import CHANGE, Organism, current_column, evaluate_organism, load_organism
from ..evaluation.stats import bootstrap, clipped_logit
from ..evaluation.suite import EvalSpec
from ..evidence.background import request_inputs
from ..evidence.evidence import adapter_evidence
from ..identification.choose import pick_indices
from ..identification.factors import identify, load_factors, save_factors
from ..io import file_hash, grasp_home, inside, read_json, text_hash, write_json
from ..model.adapters import load_adapter
from ..model.models import load_config, n_layers
from ..procs import file_lock
from ..runs.queue import reap_dead, wait
from ..runs.registry import absolute_config, config_key, find_by_key, get_run, list_runs
from ..runs.worker import run_foreground
from ..training.config import TrainConfig
from ..training.methods import METHODS, OLD_METHOD_NAMES
from .config import ENTRY_RENAMED, SWEEP_RENAMED, Cell, SweepConfig, absolute_sweep
from .executor import ExecutorConfig, Job, check_available, live_state, read_records, run_jobs
from .provenance import record_invocation
from .report import SweepReport, item_rows, with_gain, write_report

EVAL_FILE = "eval.json"
STAMPS = "stamps"  # eval.json: measure -> the hash of what it was computed from
FACTORS_FILE = "factors.safetensors"
CELLS_DIR = "cells"  # a marker per finished cell: <sweep>/cells/<cell key>.json
BASE_MARK = "base.json"
JOBS_DIR = "jobs"  # an executor's files: jobs.json, submitit's pickles, scripts and logs


def sweeps_root(root: str | Path | None = None) -> Path:
    """The folder that holds the sweeps: `root`, else GRASP_HOME/sweeps."""
    return Path(root) if root is not None else grasp_home() / "sweeps"


def sweep_dir(config: SweepConfig, root: str | Path | None = None) -> Path:
    """The folder of a sweep: its name, or organism + a hash of the config."""
    base = sweeps_root(root)
    name = config.name or f"{Path(config.organism).name}-{text_hash(repr(_identity(config)), length=8)}"
    return inside(base, name)


def _identity(config: SweepConfig) -> dict[str, Any]:
    """What an unnamed sweep's folder is hashed from: the config without its executor (where it runs is not what it
    is), spelled as before `naive_runs` / `naive_run` / method `naive` were renamed, so a sweep begun then resumes in its folder."""
    old = {new: old for old, new in SWEEP_RENAMED.items()} | {new: old for old, new in ENTRY_RENAMED.items()}
    old_method = {new: old for old, new in OLD_METHOD_NAMES.items()}
    d = {old.get(k, k): v for k, v in config.to_dict().items() if k != "executor"}
    d["methods"] = [
        {old.get(k, k): old_method.get(v, v) if k == "method" else v for k, v in entry.items()}
        for entry in d["methods"]
    ]
    return d


# ---------------------------------------------------------------- runs


def _train_config(
    config: SweepConfig, organism: Organism, seed: int, method: str, settings: dict[str, Any]
) -> TrainConfig:
    merged = {
        **config.train,
        **settings,
        "method": method,
        "seed": seed,
        "base": config.base,
        "data": str(organism.train),
    }
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


def longer_run(config: TrainConfig, runs_root: Path | None) -> Path | None:
    """The folder of a done run whose config equals `config` but for more rounds, else None. Each round trains
    from the base as a one-round run of the factors so far, so round i of an n-round run IS the i-round run, and
    its round-<i-1> adapter serves `config` (a cell whose factors, picked another way, are a longer run's)."""
    want = config_key(absolute_config(dataclasses.replace(config, rounds=1)))
    for r in reversed(list_runs(runs_root)):
        if (
            r.status.state == "done"
            and r.config.n_rounds > config.n_rounds
            and config_key(absolute_config(dataclasses.replace(r.config, rounds=1))) == want
        ):
            return r.dir
    return None


def naive_factors(run_dir: Path, base: str, n_factors: int = 16) -> Path:
    """The factors file of a naive run (identify on its adapter), written once into the run folder."""
    out = run_dir / FACTORS_FILE
    if not out.is_file():
        cfg = load_config(base)
        adapter = load_adapter(run_dir / "adapter", base_config=cfg)
        fs = identify(adapter, n_layers(cfg), n_factors=n_factors)
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
    log: Callable[[str], None],
) -> list[int]:
    """Indices (file order) of the naive run's first 8 global write factors, best first by the evidence rule, measured
    on the organism's PROBE files (disjoint from the reported evals); the evidence is kept in the sweep folder."""
    _require_probe_files(organism)
    measures, train, primary = request_inputs(str(organism.dir), ())
    _fs, ev = adapter_evidence(
        naive_dir / "adapter", base, measures, factors_file, train=train, primary=primary, progress=False
    )
    write_json(folder / f"evidence-{tag}.json", ev.to_dict())
    if all(r.alone.score is None for r in ev.rows):
        log(
            f"  evidence could not rank naive run {tag}: the naive LoRA did not move {ev.primary_drift} on the probe "
            "files detectably, so the ranking is the file's (sigma) order"
        )
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
        return pick_indices(
            load_factors(factors_file),
            top=int(k),
            scope=cell.factor_scope,
            side=cell.factor_side,
            source=f"the naive run's factors file {factors_file}",
        )
    except GraspError as e:
        raise GraspError(f"cell {cell.label!r}: {e}") from None


def _ablated_indices(factors_file: Path, settings: dict[str, Any]) -> tuple[int, ...]:
    """The factors an `ablate` cell with a fixed file removes: `select`, else the first `top`, else all of them."""
    select, top = settings.get("select"), settings.get("top")
    try:
        return pick_indices(
            load_factors(factors_file),
            select,
            None if select is not None else top,
            source=f"factors file {factors_file}",
        )
    except GraspError as e:
        raise GraspError(f"ablate: {e}") from None


# ---------------------------------------------------------------- evaluation


def _stamp(spec: EvalSpec) -> str:
    """What a cached measure was computed from: its kind, options and file contents."""
    return text_hash(spec.kind, str(spec.relative_to_base), file_hash(spec.file))


def evaluate_cached(
    folder: Path,
    organism: Organism,
    base: str,
    adapter: Path | None,
    ablate: tuple[Path, tuple[int, ...]] | None = None,
    measures: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The organism's measures (default: all but free-form) for base (+ adapter) (+ ablation), cached per measure
    in folder/eval.json, so a sweep asking for fewer or more measures reuses what was computed. Each measure is
    stamped with its file's hash: editing one eval file recomputes that measure only."""
    key = text_hash(str(organism.dir), str(adapter), repr(ablate))
    cache = folder / EVAL_FILE
    cached = read_json(cache) if cache.is_file() else {}
    entry: dict[str, Any] = {current_column(k): v for k, v in cached.get(key, {}).items()}  # old: lean_shift
    entry.pop("errors", None)
    stamps: dict[str, str] = dict(entry.pop(STAMPS, {}))
    specs = {s.name: s for s in organism.eval_specs(measures) if s.kind != "free_form"}
    missing = tuple(m for m, s in specs.items() if m not in entry or stamps.get(m) != _stamp(s))
    if missing:
        fresh = evaluate_organism(organism, base=base, adapter=adapter, ablate=ablate, measures=missing)
        done = {k: v for k, v in fresh.items() if k != "errors"}  # failed measures are retried next time
        entry.update(done)
        new_stamps = {m: _stamp(specs[m]) for m in missing if m in done}
        stamps.update(new_stamps)
        # Jobs of one sweep may evaluate into one folder at once (the naive cell and an ablation on its adapter):
        # the file is re-read and merged under a lock, so neither loses what the other wrote.
        with file_lock(folder / ".eval.lock"):
            cached = read_json(cache) if cache.is_file() else {}
            old = cached.get(key, {})
            cached[key] = {**old, **done, STAMPS: {**old.get(STAMPS, {}), **new_stamps}}
            write_json(cache, cached)
        if fresh.get("errors"):
            entry["errors"] = fresh["errors"]
    return {k: v for k, v in entry.items() if k == "errors" or k in specs or k.removesuffix(CHANGE) in specs}


# ---------------------------------------------------------------- the sweep


class SweepWork:
    """The work of one sweep, shared by the loop in this process and the jobs of an executor: the naive runs'
    LoRAs, their evidence rankings, and each cell trained and evaluated (everything found done is reused)."""

    def __init__(
        self, config: SweepConfig, root: str | Path | None, runs_root: str | Path | None, say: Callable[[str], None]
    ) -> None:
        self.folder = sweep_dir(config, root)
        # Paths made absolute, so this process and a job started elsewhere name the same cells and runs.
        config = absolute_sweep(config)
        self.config = config
        self.organism = load_organism(config.organism)
        self.runs_root = Path(runs_root) if runs_root is not None else None
        self.say = say
        self.cells = config.cells()
        self._naive_runs: dict[tuple[str, int], Path] = {}  # (naive run, seed) -> its run folder
        self._rankings: dict[tuple[str, int], list[int]] = {}  # (naive run, seed) -> evidence ranking of its factors
        self.rounds_of: dict[tuple[Any, ...], int] = {}  # cells that differ only in `rounds` -> the most rounds asked
        for cell in self.cells:
            self.rounds_of[_family(cell)] = max(self.rounds_of.get(_family(cell), 1), _rounds(cell))
        self._spec_hash = text_hash(
            repr(sorted(config.train.items())),
            repr(config.naive_runs),
            str(config.base),
            repr(config.measures),
            self.organism.fingerprint(),
        )

    def spec(self) -> dict[str, Any]:
        """What a job process needs to rebuild this object (paths absolute, the folder by name)."""
        cfg = SweepConfig.from_dict({**self.config.to_dict(), "name": self.folder.name}, where=self.config.where)
        return {
            "config": cfg.to_dict(),
            "where": cfg.where,
            "root": str(self.folder.parent),
            "runs_root": str(self.runs_root.resolve()) if self.runs_root else None,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> SweepWork:
        say = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731  (a job's log)
        return cls(SweepConfig.from_dict(spec["config"], where=spec["where"]), spec["root"], spec["runs_root"], say)

    # what is done: a marker per cell, keyed by the cell and everything it was computed from

    def cell_key(self, cell: Cell) -> str:
        return text_hash(repr(cell), self._spec_hash)

    def cell_done(self, cell: Cell) -> bool:
        return (self.folder / CELLS_DIR / f"{self.cell_key(cell)}.json").is_file()

    def mark_done(self, cell: Cell, run_id: str | None) -> None:
        write_json(
            self.folder / CELLS_DIR / f"{self.cell_key(cell)}.json",
            {"label": cell.label, "seed": cell.seed, "run": run_id, "finished": time.time()},
        )

    # the steps

    def base_measures(self) -> dict[str, Any]:
        return evaluate_cached(self.folder, self.organism, self.config.base, None, measures=self.config.measures)

    def naive_run(self, name: str, seed: int) -> Path:
        """The run folder of naive run `name` at `seed` (trained or resumed when not done)."""
        key = (name, seed)
        if key not in self._naive_runs:
            cfg = _train_config(self.config, self.organism, seed, "naive", self.config.naive_runs[name])
            self._naive_runs[key] = ensure_run(cfg, self.runs_root, self.say)
        return self._naive_runs[key]

    def ranking(self, name: str, seed: int, factors_file: Path) -> list[int]:
        """The evidence ranking of a naive run's factors, computed once per sweep folder (kept in ranking-<tag>.json,
        keyed by the factors file and the organism's files)."""
        key = (name, seed)
        if key not in self._rankings:
            tag = f"{name}-seed{seed}"
            cache = self.folder / f"ranking-{tag}.json"
            stamp = text_hash(file_hash(factors_file), self.organism.fingerprint())
            cached = read_json(cache, what="evidence ranking") if cache.is_file() else {}
            if cached.get("key") == stamp:
                self._rankings[key] = [int(i) for i in cached["ranking"]]
            else:
                self.say(f"  evidence on naive run {name} seed {seed} (the organism's probe files)")
                ranking = evidence_ranking(
                    self.folder,
                    self.organism,
                    self.config.base,
                    self.naive_run(name, seed),
                    factors_file,
                    tag,
                    self.say,
                )
                write_json(cache, {"key": stamp, "ranking": ranking})
                self._rankings[key] = ranking
        return self._rankings[key]

    def prepare_naive_run(self, name: str, seed: int) -> None:
        """A naive run's job: its LoRA, its factors file and, when a cell picks by evidence, its ranking."""
        run_dir = self.naive_run(name, seed)
        ffile = naive_factors(run_dir, self.config.base)
        if any(c.naive_run == name and c.seed == seed and c.select_by == "evidence" for c in self.cells):
            self.ranking(name, seed, ffile)

    def measure(self, cell: Cell) -> tuple[dict[str, Any], list[float] | None, list[dict[str, Any]]]:
        """Train (or find) and evaluate one cell: its results row, its per-item task NLLs and its item rows."""
        config, organism = self.config, self.organism
        settings = dict(cell.settings)
        ffile: Path | None = None
        fixed = settings.get("factors")  # a fixed factors file replaces the naive run's (top/select in file order)
        uses_factors = cell.method == "ablate" or METHODS[cell.method].needs_factors
        if uses_factors and fixed is not None:
            ffile = Path(str(fixed)).expanduser().resolve()
        elif uses_factors:
            ffile = naive_factors(self.naive_run(cell.naive_run, cell.seed), config.base)
            ranking = self.ranking(cell.naive_run, cell.seed, ffile) if cell.select_by == "evidence" else None
            sel = select_factors(ffile, cell, ranking)
            if sel is not None:
                settings.pop("top", None)
                settings["select"] = sel
        if cell.method == "ablate":
            assert ffile is not None
            naive_dir = self.naive_run(cell.naive_run, cell.seed)
            chosen = _ablated_indices(ffile, settings) if fixed is not None else tuple(settings.get("select", ()))
            chosen = tuple(int(j) for j in chosen)
            measures = evaluate_cached(
                naive_dir, organism, config.base, naive_dir / "adapter", (ffile, chosen), config.measures
            )
            row = _row(cell.label, "ablate", cell, naive_dir.name, measures)
            return row, _nll(measures), item_rows(cell.label, cell.seed, measures)
        if ffile is not None:
            settings["factors"] = str(ffile)
        # Cells that differ only in `rounds` share one run of the most rounds; each reads its own round's adapter.
        rounds, most = _rounds(cell), self.rounds_of[_family(cell)]
        if most > 1:
            settings["rounds"] = most
        train = _train_config(config, organism, cell.seed, cell.method, settings)
        longer = None if find_by_key(train, self.runs_root) else longer_run(train, self.runs_root)
        if longer is not None:
            self.say(f"  round {rounds} of run {longer.name} is this cell's run (the same config but for rounds)")
            run_dir, adapter = longer, longer / f"round-{rounds - 1}" / "adapter"
        else:
            run_dir = ensure_run(train, self.runs_root, self.say)
            adapter = run_dir / "adapter" if rounds == most else run_dir / f"round-{rounds - 1}" / "adapter"
        measures = evaluate_cached(run_dir, organism, config.base, adapter, measures=config.measures)
        row = _row(cell.label, cell.method, cell, run_dir.name, measures)
        return row, _nll(measures), item_rows(cell.label, cell.seed, measures)

    def jobs(self) -> list[Job]:
        """The executor's jobs for what is not done yet: the base model's evaluation, each naive run's LoRA (its
        factors and evidence), then one job per group of cells that share a training run (they differ only in
        `rounds`), after its naive run's job."""
        spec = self.spec()
        todo = [c for c in self.cells if not self.cell_done(c)]
        jobs: list[Job] = []
        if (not (self.folder / CELLS_DIR / BASE_MARK).is_file()) or todo:
            jobs.append(Job("base", "base model evaluation", base_job, (spec,)))
        naive = sorted({(c.naive_run, c.seed) for c in todo if _needs_naive_run(c)}, key=lambda p: (p[1], p[0]))
        for name, seed in naive:
            jobs.append(Job(f"naive:{name}:{seed}", f"naive run {name} seed={seed}", naive_run_job, (spec, name, seed)))
        families: dict[tuple[Any, ...], list[int]] = {}
        for i, cell in enumerate(self.cells):
            if not self.cell_done(cell):
                families.setdefault(_family(cell), []).append(i)
        for indices in families.values():
            first = self.cells[indices[0]]
            label = " + ".join(self.cells[i].label for i in indices) + f" seed={first.seed}"
            after = (f"naive:{first.naive_run}:{first.seed}",) if _needs_naive_run(first) else ()
            key = "cells:" + ",".join(self.cell_key(self.cells[i]) for i in indices)
            jobs.append(Job(key, label, cells_job, (spec, indices), after))
        return jobs


# A job's entry points (module-level, so submitit pickles them by reference and the job process imports them).


def base_job(spec: dict[str, Any]) -> None:
    work = SweepWork.from_spec(spec)
    work.base_measures()
    write_json(work.folder / CELLS_DIR / BASE_MARK, {"finished": time.time()})


def naive_run_job(spec: dict[str, Any], name: str, seed: int) -> None:
    SweepWork.from_spec(spec).prepare_naive_run(name, seed)


def cells_job(spec: dict[str, Any], indices: list[int]) -> None:
    work = SweepWork.from_spec(spec)
    for i in indices:
        cell = work.cells[i]
        work.say(f"{cell.label} seed={cell.seed}")
        row, _nlls, _items = work.measure(cell)
        work.mark_done(cell, row.get("run"))


def run_sweep(
    config: SweepConfig,
    root: str | Path | None = None,
    runs_root: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    figures: tuple[str, ...] = (".html", ".png"),
    executor: ExecutorConfig | None = None,
) -> SweepReport:
    """Train and evaluate every cell (skipping finished ones), then write the table, summary and plot.

    With an executor other than inline (the argument, else the config's `executor`), the unfinished cells first
    run as jobs (local subprocesses or SLURM jobs); the table is then read from what they left."""
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    ex = executor or config.executor
    check_available(ex)  # before anything is written or submitted
    work = SweepWork(config, root, runs_root, say)
    organism, folder, cells = work.organism, work.folder, work.cells
    if any(c.select_by == "evidence" for c in cells):
        _require_probe_files(organism)  # before the folder is made
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "sweep.json", config.to_dict())
    t0 = time.time()
    # Recorded now and after every cell: an invocation killed mid-way still leaves its command and wall time.
    record = partial(record_invocation, folder, organism.name, organism.fingerprint(), t0, cells_total=len(cells) + 1)
    record(cells_done=0)
    say(f"sweep {folder.name}: {len(cells)} cells over seeds {list(config.seeds)} on organism {organism.name}")
    if ex.kind != "inline":
        jobs = work.jobs()
        n_todo = sum(not work.cell_done(c) for c in cells)
        say(
            f"executor {ex.kind}: {n_todo} of {len(cells)} cells to run ({len(cells) - n_todo} done) as "
            f"{len(jobs)} jobs; files in {folder / JOBS_DIR}"
        )
        run_jobs(jobs, ex, folder / JOBS_DIR, say)

    rows: list[dict[str, Any]] = []
    base_measures = work.base_measures()
    rows.append(_row("base", "base", None, None, base_measures))
    nll_items: dict[tuple[str, Any], list[float] | None] = {("base", None): _nll(base_measures)}  # the gain interval
    items = item_rows("base", None, base_measures)
    for i, cell in enumerate(cells, start=1):
        say(f"[{i}/{len(cells)}] {cell.label} seed={cell.seed}  ({time.time() - t0:.0f} s so far)")
        row, nlls, cell_items = work.measure(cell)
        work.mark_done(cell, row.get("run"))
        record(cells_done=i + 1)
        rows.append(row)
        nll_items[(cell.label, cell.seed)] = nlls
        items += cell_items

    results = with_gain(pd.DataFrame(rows), {k: v for k, v in nll_items.items() if v is not None})
    report = write_report(folder, results, organism, total=len(cells) + 1, figures=figures, items=pd.DataFrame(items))
    record(cells_done=report.done, training_wall_s=_training_wall_s(results, work.runs_root))
    return report


def sweep_status(folder: Path) -> pd.DataFrame:
    """Each cell of the sweep in `folder` by state: done (its marker), the state of the job it was given (running,
    failed, a SLURM state ...) with the job's id and log, waiting for its naive run, or `not started`; then the jobs
    that are not cells (kind `job`: the base model's evaluation, the naive runs)."""
    if not (folder / "sweep.json").is_file():
        raise GraspError(f"{folder}: no sweep.json (not a sweep folder, or its sweep never started)")
    config = SweepConfig.from_dict(
        read_json(folder / "sweep.json", what="sweep.json"), where=str(folder / "sweep.json")
    )
    config = SweepConfig.from_dict({**config.to_dict(), "name": folder.name}, where=config.where)
    work = SweepWork(config, folder.parent, None, lambda msg: None)
    records = read_records(folder / JOBS_DIR)
    rows = []
    for cell in work.cells:
        key = work.cell_key(cell)
        rec_key = next((k for k in records if k.startswith("cells:") and key in k.split(":", 1)[1].split(",")), None)
        rec = records.get(rec_key) if rec_key else None
        naive = records.get(f"naive:{cell.naive_run}:{cell.seed}") if _needs_naive_run(cell) else None
        if work.cell_done(cell):
            state = "done"
        elif rec is not None:
            state = live_state(rec, folder / JOBS_DIR)
        elif naive is not None and live_state(naive, folder / JOBS_DIR) not in ("done", "failed"):
            state = f"waiting for its naive run ({live_state(naive, folder / JOBS_DIR)})"
        else:
            state = "not started"
        rows.append(
            {
                "kind": "cell",
                "label": cell.label,
                "seed": str(cell.seed),
                "state": state,
                "job": rec.job_id if rec else "",
                "log": rec.stderr if rec else "",
                "error": (rec.error or "") if rec else "",
            }
        )
    for key, rec in records.items():  # the jobs that are not cells: the base evaluation and the naive runs
        if not key.startswith("cells:"):
            rows.append(
                {
                    "kind": "job",
                    "label": rec.label,
                    "seed": "",
                    "state": live_state(rec, folder / JOBS_DIR),
                    "job": rec.job_id,
                    "log": rec.stderr,
                    "error": rec.error or "",
                }
            )
    return pd.DataFrame(rows)


def _require_probe_files(organism: Organism) -> None:
    """`select_by: evidence` ranks on the organism's probe files; without them it cannot run."""
    if not organism.probes:
        raise GraspError(
            f"organism {organism.name} has no `probes` in its organism.json: `select_by: evidence` "
            "needs probe files disjoint from the reported evals"
        )


def _needs_naive_run(cell: Cell) -> bool:
    """Whether a cell uses its naive run's LoRA (ablation, or factors picked from the naive run's spectrum)."""
    if cell.method == "ablate":
        return True
    return METHODS[cell.method].needs_factors and cell.settings.get("factors") is None


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
            continue  # an ablate cell names its naive run; a run folder removed since
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
    return (cell.method, cell.seed, cell.naive_run, cell.factor_scope, cell.factor_side, cell.select_by, tuple(rest))


def _row(label: str, method: str, cell: Cell | None, run_id: str | None, measures: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "label": label,
        "method": method,
        "curve": cell.curve if cell else method,
        "seed": cell.seed if cell else None,
        "strength": cell.strength_value if cell else None,
        "run": run_id,
    }
    for name, m in sorted(measures.items()):  # sorted: fresh and cached (sorted JSON) rows agree
        if isinstance(m, dict) and "mean" in m:
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = m["mean"], m.get("lo"), m.get("hi")
        elif isinstance(m, int | float):
            row[name] = m
        if isinstance(m, dict) and m.get("kind") == "choice" and m.get("scores"):
            iv = bootstrap([clipped_logit(p) for p in m["scores"]])  # the same items on the log-odds scale
            row[f"{name}_logit"], row[f"{name}_logit_lo"], row[f"{name}_logit_hi"] = iv.mean, iv.lo, iv.hi
    return row
