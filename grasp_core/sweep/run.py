"""Trade-off sweeps: every cell of a SweepConfig trained through the run registry, evaluated, tabled and plotted
(the orchestration: which run a cell uses is cell_runs.py, its factors factor_choice.py, its cached measures
eval_cache.py, the folder folders.py).

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
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import GraspError
from ..evaluation.organisms import load_organism
from ..evaluation.stats import bootstrap, clipped_logit
from ..io import file_hash, read_json, text_hash, write_json
from ..runs.registry import find_by_key, get_run
from ..training.loop import FACTORS_USED
from ..training.methods import METHODS
from .cell_runs import cell_adapter, cell_rounds, ensure_run, inoculation_prompt, longer_run, train_config
from .config import BY_EVIDENCE, Cell, SweepConfig, absolute_sweep
from .eval_cache import evaluate_cached, examples_cached
from .executor import ExecutorConfig, Job, check_available, run_jobs
from .factor_choice import (
    NoEvidenceRanking,
    evidence_ranking,
    factors_label,
    fixed_indices,
    naive_factors,
    needs_naive_run,
    require_probe_files,
    select_factors,
)
from .folders import BASE_MARK, CELLS_DIR, JOBS_DIR, sweep_dir
from .provenance import record_invocation
from .report import SweepReport, item_rows, with_gain, write_report

# ---------------------------------------------------------------- runs


# ---------------------------------------------------------------- evaluation


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
        # (naive run, seed, factor source) -> the evidence ranking of its factors and how many of them it suggests
        self._rankings: dict[tuple[str, int, str], tuple[list[int], int]] = {}
        self._unranked: dict[tuple[str, int, str], NoEvidenceRanking] = {}  # refusals, so a seed asks once
        self.rounds_of: dict[tuple[Any, ...], int] = {}  # cells that differ only in `rounds` -> the most rounds asked
        for cell in self.cells:
            self.rounds_of[_family(cell)] = max(self.rounds_of.get(_family(cell), 1), cell_rounds(cell))
        self._spec_hash = text_hash(
            repr(sorted(config.train.items())),
            repr({k: dict(sorted(v.items())) for k, v in sorted(config.naive_runs.items())}),  # as sweep.json sorts
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
            cfg = train_config(self.config, self.organism, seed, "naive", self.config.naive_runs[name])
            self._naive_runs[key] = ensure_run(cfg, self.runs_root, self.say)
        return self._naive_runs[key]

    def ranking(self, name: str, seed: int, factors_file: Path, source: str = "weights") -> tuple[list[int], int]:
        """The evidence ranking of a naive run's factors (of one factor source) and how many of its first the evidence
        suggests, computed once per sweep folder (kept in ranking-<tag>.json, keyed by the factors file, the organism's
        files and its probe files; one written before suggestions were kept is read again from the evidence cache)."""
        key = (name, seed, source)
        if key in self._unranked:
            raise self._unranked[key]
        if key not in self._rankings:
            tag = f"{name}-seed{seed}" + (f"-{source}" if source != "weights" else "")
            cache = self.folder / f"ranking-{tag}.json"
            probes = [Path(s.file) for s in self.organism.probes.values()]  # a rebuilt probe ranks again
            stamp = text_hash(file_hash(factors_file), self.organism.fingerprint(), file_hash(*probes))
            cached = read_json(cache, what="evidence ranking") if cache.is_file() else {}
            if cached.get("key") == stamp and "suggested" in cached:
                self._rankings[key] = ([int(i) for i in cached["ranking"]], int(cached["suggested"]))
            else:
                self.say(f"  evidence on naive run {name} seed {seed} (the organism's probe files)")
                try:
                    ranking, n_suggested = evidence_ranking(
                        self.folder,
                        self.organism,
                        self.config.base,
                        self.naive_run(name, seed),
                        factors_file,
                        tag,
                    )
                except NoEvidenceRanking as e:
                    self._unranked[key] = e
                    raise
                write_json(cache, {"key": stamp, "ranking": ranking, "suggested": n_suggested})
                self._rankings[key] = (ranking, n_suggested)
        return self._rankings[key]

    def prepare_naive_run(self, name: str, seed: int) -> None:
        """A naive run's job: its LoRA, its factors file and, when a cell picks by evidence, its ranking."""
        run_dir = self.naive_run(name, seed)
        mine = [c for c in self.cells if c.naive_run == name and c.seed == seed]
        for source in sorted({c.factor_source for c in mine} | {"weights"}):
            ffile = naive_factors(run_dir, self.config.base, source=source)
            if any(c.select_by in BY_EVIDENCE and c.factor_source == source for c in mine):
                try:
                    self.ranking(name, seed, ffile, source)
                except NoEvidenceRanking as e:  # its cells' jobs record it; the naive run's other cells go on
                    self.say(f"  {e}")

    def base_examples(self) -> list[dict[str, Any]]:
        replies = examples_cached(self.folder, self.organism, self.config.base, None)
        return _examples("base", None, replies)

    def measure(
        self, cell: Cell
    ) -> tuple[dict[str, Any], list[float] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        """Train (or find) and evaluate one cell: its results row, its per-item task NLLs, its item rows and its
        example replies."""
        config, organism = self.config, self.organism
        settings = dict(cell.settings)
        ffile: Path | None = None
        chosen: tuple[int, ...] | None = None  # indices into ffile of the factors the cell uses
        fixed = settings.get("factors")  # a fixed factors file replaces the naive run's (top/select in file order)
        uses_factors = cell.method == "ablate" or METHODS[cell.method].needs_factors
        if uses_factors and fixed is not None:
            ffile = Path(str(fixed)).expanduser().resolve()
            chosen = fixed_indices(ffile, settings, cell.method)
            if settings.get("top") is None and settings.get("select") is None:
                settings["select"] = list(chosen)  # the whole file, as labelled, not the method's default `top`
        elif uses_factors:
            naive_dir = self.naive_run(cell.naive_run, cell.seed)
            ffile = naive_factors(naive_dir, config.base, source=cell.factor_source)
            ranking, n_suggested = (
                self.ranking(cell.naive_run, cell.seed, ffile, cell.factor_source)
                if cell.select_by in BY_EVIDENCE
                else (None, None)
            )
            sel = select_factors(ffile, cell, ranking, n_suggested)
            if sel == ():  # the evidence suggests no factor: GRASP on the empty set is the naive LoRA itself
                measures = evaluate_cached(
                    naive_dir, organism, config.base, naive_dir / "adapter", measures=config.measures
                )
                row = _row(cell.label, cell.method, cell, naive_dir.name, measures)
                row["factors"] = f"none suggested: the naive LoRA (naive run {cell.naive_run}, by suggested)"
                replies = examples_cached(naive_dir, organism, config.base, naive_dir / "adapter")
                return (
                    row,
                    _nll(measures),
                    item_rows(cell.label, cell.seed, measures),
                    _examples(cell.label, cell.seed, replies),
                )
            if sel is not None:
                settings.pop("top", None)
                settings["select"] = sel
            chosen = tuple(int(j) for j in settings.get("select", ()))
        if cell.method == "ablate":
            assert ffile is not None and chosen is not None
            naive_dir = self.naive_run(cell.naive_run, cell.seed)
            measures = evaluate_cached(
                naive_dir, organism, config.base, naive_dir / "adapter", (ffile, chosen), config.measures
            )
            row = _row(cell.label, "ablate", cell, naive_dir.name, measures)
            row["factors"] = factors_label(cell, ffile, chosen, fixed is not None)
            replies = examples_cached(naive_dir, organism, config.base, naive_dir / "adapter", (ffile, chosen))
            examples = _examples(cell.label, cell.seed, replies)
            return row, _nll(measures), item_rows(cell.label, cell.seed, measures), examples
        if ffile is not None:
            settings["factors"] = str(ffile)
        # Cells that differ only in `rounds` share one run of the most rounds; each reads its own round's adapter.
        rounds, most = cell_rounds(cell), self.rounds_of[_family(cell)]
        if most > 1:
            settings["rounds"] = most
            if cell.select_by in BY_EVIDENCE:  # picked by evidence: so are the factors each later round adds
                settings.setdefault("round_select", "evidence")
        if settings.get("round_select") == "evidence":
            settings.setdefault("round_probes", str(organism.dir))
        train = train_config(config, organism, cell.seed, cell.method, settings)
        longer = None if find_by_key(train, self.runs_root) else longer_run(train, self.runs_root)
        if longer is not None:
            self.say(f"  round {rounds} of run {longer.name} is this cell's run (the same config but for rounds)")
            run_dir = longer
        else:
            run_dir = ensure_run(train, self.runs_root, self.say)
        adapter = cell_adapter(run_dir, rounds)
        measures = evaluate_cached(run_dir, organism, config.base, adapter, measures=config.measures)
        row = _row(cell.label, cell.method, cell, run_dir.name, measures)
        trained = run_dir / f"round-{rounds - 1}" if most > 1 or longer is not None else run_dir  # where Z is saved
        row["factors"] = factors_label(cell, ffile, chosen, fixed is not None, trained / FACTORS_USED)
        examples = _examples(cell.label, cell.seed, examples_cached(run_dir, organism, config.base, adapter))
        return row, _nll(measures), item_rows(cell.label, cell.seed, measures), examples

    def jobs(self) -> list[Job]:
        """The executor's jobs for what is not done yet: the base model's evaluation, each naive run's LoRA (its
        factors and evidence), then one job per group of cells that share a training run (they differ only in
        `rounds`), after its naive run's job."""
        spec = self.spec()
        todo = [c for c in self.cells if not self.cell_done(c)]
        jobs: list[Job] = []
        if (not (self.folder / CELLS_DIR / BASE_MARK).is_file()) or todo:
            jobs.append(Job("base", "base model evaluation", base_job, (spec,)))
        naive = sorted({(c.naive_run, c.seed) for c in todo if needs_naive_run(c)}, key=lambda p: (p[1], p[0]))
        for name, seed in naive:
            jobs.append(Job(f"naive:{name}:{seed}", f"naive run {name} seed={seed}", naive_run_job, (spec, name, seed)))
        families: dict[tuple[Any, ...], list[int]] = {}
        for i, cell in enumerate(self.cells):
            if not self.cell_done(cell):
                families.setdefault(_family(cell), []).append(i)
        for indices in families.values():
            first = self.cells[indices[0]]
            label = " + ".join(self.cells[i].label for i in indices) + f" seed={first.seed}"
            after = (f"naive:{first.naive_run}:{first.seed}",) if needs_naive_run(first) else ()
            key = "cells:" + ",".join(self.cell_key(self.cells[i]) for i in indices)
            jobs.append(Job(key, label, cells_job, (spec, indices), after))
        return jobs


# A job's entry points (module-level, so submitit pickles them by reference and the job process imports them).


def base_job(spec: dict[str, Any]) -> None:
    work = SweepWork.from_spec(spec)
    work.base_measures()
    work.base_examples()  # cached here, so the driver's tables of finished cells generate nothing
    write_json(work.folder / CELLS_DIR / BASE_MARK, {"finished": time.time()})


def naive_run_job(spec: dict[str, Any], name: str, seed: int) -> None:
    SweepWork.from_spec(spec).prepare_naive_run(name, seed)


def cells_job(spec: dict[str, Any], indices: list[int]) -> None:
    work = SweepWork.from_spec(spec)
    for i in indices:
        cell = work.cells[i]
        work.say(f"{cell.label} seed={cell.seed}")
        try:
            row, _nlls, _items, _examples = work.measure(cell)
        except NoEvidenceRanking as e:  # not marked done: the sweep's own pass records it and a rerun retries it
            work.say(f"  not formed: {e}")
            continue
        work.mark_done(cell, row.get("run"))


PARTIAL_REPORT_S = 60.0  # a running sweep rewrites its table of finished cells at most this often


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
    if any(c.select_by in BY_EVIDENCE for c in cells):
        require_probe_files(organism)  # before the folder is made
    if any(
        c.method in METHODS and METHODS[c.method].needs_system_prompt and not c.settings.get("system_prompt")
        for c in cells
    ):
        inoculation_prompt(organism)  # the organism has one, else one line before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "sweep.json", config.to_dict())
    t0 = time.time()
    # Recorded now and after every cell: an invocation killed mid-way still leaves its command and wall time.
    record = partial(record_invocation, folder, organism.name, organism.fingerprint(), t0, cells_total=len(cells) + 1)
    record(cells_done=0)
    say(f"sweep {folder.name}: {len(cells)} cells over seeds {list(config.seeds)} on organism {organism.name}")
    if "replies" not in organism.evals:
        say(f"  replies measure skipped: organism {organism.name} has no `replies` eval and trait `judge`")
    elif config.measures is not None and "replies" not in config.measures:
        say("  replies measure skipped: not among the sweep's `measures`")
    if ex.kind != "inline":
        jobs = work.jobs()
        n_todo = sum(not work.cell_done(c) for c in cells)
        say(
            f"executor {ex.kind}: {n_todo} of {len(cells)} cells to run ({len(cells) - n_todo} done) as "
            f"{len(jobs)} jobs; files in {folder / JOBS_DIR}"
        )
        run_jobs(jobs, ex, folder / JOBS_DIR, say, on_finish=partial(_write_finished_quietly, work))

    table = _Table(work)
    written = time.time()
    for i, cell in enumerate(cells, start=1):
        # A stopped sweep leaves the table of what it finished (report.md counts the cells): rewritten after a cell
        # once a minute has passed since the last time, so a resumed sweep's quick cached cells do not each write.
        if time.time() - written > PARTIAL_REPORT_S:
            table.write((".html",))
            written = time.time()
        say(f"[{i}/{len(cells)}] {cell.label} seed={cell.seed}  ({time.time() - t0:.0f} s so far)")
        if table.add(cell):
            record(cells_done=i + 1)

    report = table.write(figures)
    record(cells_done=report.done, training_wall_s=_training_wall_s(report.results, work.runs_root))
    return report


class _Table:
    """The rows of a sweep's report (results, per-item NLLs for the gain interval, item rows, example replies and
    the cells not formed), filled cell by cell from the base model's measures on. A table read `while_running` (an
    executor's jobs still at work) writes no cell marker and keeps the cells not formed as the last pass recorded."""

    def __init__(self, work: SweepWork, while_running: bool = False) -> None:
        self.work = work
        self.while_running = while_running
        base = work.base_measures()
        self.rows: list[dict[str, Any]] = [_row("base", "base", None, None, base)]
        self.nll_items: dict[tuple[str, Any], list[float] | None] = {("base", None): _nll(base)}
        self.nll_groups = _groups(base.get("task_nll"))  # the task items' groups, None where each is its own
        self.items = item_rows("base", None, base)
        self.examples = work.base_examples()
        self.not_formed: list[dict[str, Any]] | None = None if while_running else []  # None: as recorded

    def add(self, cell: Cell) -> bool:
        """Measure `cell` (trained first if it is not done) into the table; False when it could not be formed (it is
        recorded, not marked done: a rerun retries it)."""
        try:
            row, nlls, cell_items, cell_examples = self.work.measure(cell)
        except NoEvidenceRanking as e:
            self.work.say(f"  not formed: {e}")
            if self.not_formed is not None:
                self.not_formed.append({"label": cell.label, "seed": cell.seed, "reason": str(e)})
            return False
        if not self.while_running:
            self.work.mark_done(cell, row.get("run"))
        self.rows.append(row)
        self.nll_items[(cell.label, cell.seed)] = nlls
        self.items += cell_items
        self.examples += cell_examples
        return True

    def write(self, figures: tuple[str, ...]) -> SweepReport:
        nlls = {k: v for k, v in self.nll_items.items() if v is not None}
        return write_report(
            self.work.folder,
            with_gain(pd.DataFrame(self.rows), nlls, clusters=self.nll_groups),
            self.work.organism,
            total=len(self.work.cells) + 1,
            figures=figures,
            items=pd.DataFrame(self.items),
            examples=self.examples,
            not_formed=self.not_formed,
        )


def write_finished(work: SweepWork) -> SweepReport | None:
    """The table of the cells an executor's jobs have finished so far (each read from its cached measures, nothing
    trained), written while the others run; None until the base model's job has ended. The cells not formed are
    those the last full pass recorded."""
    if not (work.folder / CELLS_DIR / BASE_MARK).is_file():
        return None
    table = _Table(work, while_running=True)
    for cell in work.cells:
        if work.cell_done(cell):
            table.add(cell)
    return table.write((".html",))


def _write_finished_quietly(work: SweepWork) -> None:
    """write_finished after a job ends; a table that cannot be written now is said, and the jobs go on."""
    try:
        write_finished(work)
    except (GraspError, OSError) as e:
        work.say(f"  table of finished cells not written now: {e}")


def _examples(label: str, seed: int | None, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A configuration's example replies as rows of the sweep's examples.jsonl."""
    return [{"label": label, "seed": seed, **r} for r in replies]


def _nll(measures: dict[str, Any]) -> list[float] | None:
    """The per-item NLLs of the task_nll measure, where it was evaluated."""
    m = measures.get("task_nll")
    return list(m["nll"]) if isinstance(m, dict) and isinstance(m.get("nll"), list) else None


def _groups(measure: Any) -> list[str] | None:
    """A measure's per-item groups (stored where some items share one), else None."""
    return list(measure["groups"]) if isinstance(measure, dict) and isinstance(measure.get("groups"), list) else None


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


def _family(cell: Cell) -> tuple[Any, ...]:
    """A cell's identity without its `rounds` (round i of an n-round run is the i-round run)."""
    rest = sorted((k, repr(v)) for k, v in cell.settings.items() if k != "rounds")
    where = (cell.naive_run, cell.factor_scope, cell.factor_side, cell.factor_source, cell.select_by)
    return (cell.method, cell.seed, *where, tuple(rest))


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
            logits = [clipped_logit(p) for p in m["scores"]]  # the same items on the log-odds scale
            iv = bootstrap(logits, clusters=_groups(m))
            row[f"{name}_logit"], row[f"{name}_logit_lo"], row[f"{name}_logit_hi"] = iv.mean, iv.lo, iv.hi
    return row
