"""Trade-off sweeps: every cell of a SweepConfig trained through the run registry, evaluated, tabled and plotted.

Resumable at any point: a cell whose run is done is not trained again (the registry's config key), a run that
was stopped part-way is resumed from its checkpoint, and evaluations are cached in each run folder.
Layout of a sweep folder (GRASP_HOME/sweeps/<name>/): sweep.json, results.csv (one row per cell and seed),
summary.csv (one row per configuration, with the Pareto flag), tradeoff.html / tradeoff.png, report.md; a sweep
started in the background (jobs.submit_sweep) adds sweep.yaml (what it runs), sweep.log and sweep.pid.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import GraspError
from .io import grasp_home, inside, read_json, tail_lines, text_hash, write_json
from .methods import METHODS
from .report import SweepReport, item_rows, with_gain, write_report
from .runs import pid_alive
from .sweepconfig import Cell, SweepConfig
from .trainconfig import TrainConfig

EVAL_FILE = "eval.json"
FACTORS_FILE = "factors.safetensors"
SWEEP_YAML, SWEEP_LOG, SWEEP_PID = "sweep.yaml", "sweep.log", "sweep.pid"  # a background sweep's files
START_MARK = "=== grasp sweep started"  # the line submit_sweep writes to sweep.log before each start
_CELL = re.compile(r"^\[(\d+)/(\d+)\] ")  # run_sweep's progress line "[i/N] <label> seed=<s> ..."


def sweeps_root(root: str | Path | None = None) -> Path:
    """The folder that holds the sweeps: `root`, else GRASP_HOME/sweeps."""
    return Path(root) if root is not None else grasp_home() / "sweeps"


def sweep_dir(config: SweepConfig, root: str | Path | None = None) -> Path:
    """The folder of a sweep: its name, or organism + a hash of the config."""
    base = sweeps_root(root)
    name = config.name or f"{Path(config.organism).name}-{text_hash(repr(config.to_dict()), length=8)}"
    return inside(base, name)


# ---------------------------------------------------------------- runs


def _train_config(config: SweepConfig, organism: Any, seed: int, method: str, settings: dict[str, Any]) -> TrainConfig:
    merged = {**config.train, **settings, "method": method, "seed": seed, "base": config.base,
              "data": str(organism.train)}  # fmt: skip
    return TrainConfig.from_dict(merged)


def ensure_run(config: TrainConfig, runs_root: Path | None, log: Callable[[str], None]) -> Path:
    """The run folder of a finished run for `config`: found done, resumed if stopped part-way, else trained now."""
    from .jobs import run_foreground, wait
    from .runs import absolute_config, config_key, list_runs

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
    from .adapters import load_adapter
    from .factors import identify, save_factors
    from .models import load_config, n_layers

    out = run_dir / FACTORS_FILE
    if not out.is_file():
        cfg = load_config(base)
        adapter = load_adapter(run_dir / "adapter", base_config=cfg)
        fs = identify(adapter, n_layers(cfg), top_k=top_k)
        fs.base = base
        save_factors(fs, out)
    return out


def select_factors(factors_file: Path, cell: Cell) -> tuple[int, ...] | None:
    """Indices (file order) of the first `top` factors of the cell's scope and side, largest sigma first."""
    from .factors import load_factors

    k = cell.settings.get("top")
    if k is None or cell.settings.get("select") is not None:
        return None
    fs = load_factors(factors_file)
    pool = [i for i, f in enumerate(fs.factors) if f.scope == cell.factor_scope and f.side == cell.factor_side]
    pool.sort(key=lambda i: -fs.factors[i].sigma)
    if len(pool) < int(k):
        raise GraspError(f"cell {cell.label!r}: asks for {k} {cell.factor_scope} {cell.factor_side} factors, "
                         f"the probe's file {factors_file} has {len(pool)}")  # fmt: skip
    return tuple(pool[: int(k)])


def _ablated_indices(factors_file: Path, settings: dict[str, Any]) -> tuple[int, ...]:
    """The factors an `ablate` cell with a fixed file removes: `select`, else the first `top`, else all of them."""
    from .factors import load_factors

    n = len(load_factors(factors_file))
    if settings.get("select") is not None:
        chosen = tuple(int(j) for j in settings["select"])
    else:
        chosen = tuple(range(int(settings.get("top") or n)))
    bad = [j for j in chosen if not 0 <= j < n]
    if bad:
        raise GraspError(f"ablate: factor {bad[0]} asked for, but factors file {factors_file} has {n} (0..{n - 1})")
    return chosen


# ---------------------------------------------------------------- evaluation


def evaluate_cached(folder: Path, organism: Any, base: str, adapter: Path | None,
                    ablate: tuple[Path, tuple[int, ...]] | None = None,
                    measures: tuple[str, ...] | None = None) -> dict[str, Any]:  # fmt: skip
    """The organism's measures (default: all but free-form) for base (+ adapter) (+ ablation), cached per measure
    in folder/eval.json, so a sweep asking for fewer or more measures reuses what was computed."""
    from .organisms import evaluate_organism

    key = text_hash(str(organism.path), str(adapter), repr(ablate), organism.fingerprint())
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
    from .organisms import load_organism

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
    items = item_rows("base", None, base_measures)

    probes: dict[tuple[str, int], Path] = {}  # (probe, seed) -> run folder of the probe's naive LoRA
    rounds_of: dict[tuple[Any, ...], int] = {}  # cells that differ only in `iterate` -> the most rounds asked
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
            sel = select_factors(ffile, cell)
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
            items += item_rows(cell.label, cell.seed, measures)
            continue
        if ffile is not None:
            settings["factors"] = str(ffile)
        # Cells that differ only in `iterate` share one run of the most rounds; each reads its own round's adapter.
        rounds, most = _rounds(cell), rounds_of[_family(cell)]
        if most > 1:
            settings["iterate"] = most
        run_dir = ensure_run(_train_config(config, organism, cell.seed, cell.method, settings), rroot, say)
        adapter = run_dir / "adapter" if rounds == most else run_dir / f"round-{rounds - 1}" / "adapter"
        measures = evaluate_cached(run_dir, organism, config.base, adapter, measures=config.measures)
        rows.append(_row(cell.label, cell.method, cell, run_dir.name, measures))
        items += item_rows(cell.label, cell.seed, measures)

    results = with_gain(pd.DataFrame(rows))
    return write_report(folder, results, organism, total=total, figures=figures, items=pd.DataFrame(items))


def _rounds(cell: Cell) -> int:
    """The identify-again rounds a cell asks for (its method's default when unset)."""
    value = cell.settings.get("iterate")
    return int(value) if value is not None else METHODS[cell.method].default_iterate if cell.method in METHODS else 1


def _family(cell: Cell) -> tuple[Any, ...]:
    """A cell's identity without its `iterate` rounds (round i of an n-round run is the i-round run)."""
    rest = sorted((k, repr(v)) for k, v in cell.settings.items() if k != "iterate")
    return (cell.method, cell.seed, cell.probe, cell.factor_scope, cell.factor_side, tuple(rest))


def _row(label: str, method: str, cell: Cell | None, run_id: str | None, measures: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"label": label, "method": method, "curve": cell.curve if cell else method,
                           "seed": cell.seed if cell else None,
                           "strength": cell.strength_value if cell else None, "run": run_id}  # fmt: skip
    for name, m in sorted(measures.items()):  # sorted: fresh and cached (sorted JSON) rows agree
        if isinstance(m, dict) and "mean" in m:
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = m["mean"], m.get("lo"), m.get("hi")
        elif isinstance(m, int | float):
            row[name] = m
    return row


# ---------------------------------------------------------------- sweeps on disk (the dashboard's list)


@dataclass
class SweepInfo:
    """A sweep folder as the dashboard lists it: what it runs, how far it got, and its background process."""

    name: str
    folder: Path
    organism: str | None  # the organism's name (its folder's name), None when no config was found
    done: int | None  # cells finished; None when unknown
    total: int | None  # cells of its config (seeds included); None when its config cannot be read
    pid: int | None  # its live background process, None when none runs
    log: list[str]  # the last lines of sweep.log ([] for a sweep run from a terminal)

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def state(self) -> str:
        """running | done (every cell evaluated, results.csv written) | stopped (a background sweep that ended
        early: see the log) | incomplete (run from a terminal, which may still be at it: this process cannot tell)."""
        if self.running:
            return "running"
        if self.total is not None and self.done == self.total:
            return "done"
        return "stopped" if (self.folder / SWEEP_PID).is_file() else "incomplete"


def live_sweep_pid(folder: Path) -> int | None:
    """The pid in folder/sweep.pid while that process lives and runs this folder's sweep.yaml (not a reused pid)."""
    try:
        pid = int((folder / SWEEP_PID).read_text().strip())
    except (OSError, ValueError):
        return None
    if not pid_alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return pid  # no /proc (macOS): trust the live pid
    return pid if str(folder / SWEEP_YAML) in cmdline else None


def sweep_config_of(folder: str | Path) -> SweepConfig:
    """The config a sweep folder ran: its sweep.yaml (a background sweep), else the sweep.json `grasp sweep` wrote,
    named after the folder so running it again resumes this sweep."""
    folder = Path(folder)
    if (folder / SWEEP_YAML).is_file():
        cfg = SweepConfig.from_yaml(folder / SWEEP_YAML)
    else:
        cfg = SweepConfig.from_dict(read_json(folder / "sweep.json", what="sweep config"), where=str(folder))
    return SweepConfig.from_dict({**cfg.to_dict(), "name": folder.name}, where=cfg.where)


def list_sweeps(root: str | Path | None = None) -> list[SweepInfo]:
    """Every sweep folder under the sweeps root (default GRASP_HOME/sweeps), most recently changed first."""
    base = sweeps_root(root)
    if not base.is_dir():
        return []
    folders = [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")]
    return [_sweep_info(d) for d in sorted(folders, key=lambda d: d.stat().st_mtime, reverse=True)]


def _sweep_info(folder: Path) -> SweepInfo:
    import yaml

    data: Any = None
    if (folder / SWEEP_YAML).is_file():  # what the background process was asked to run
        try:
            data = yaml.safe_load((folder / SWEEP_YAML).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            data = None
    if not isinstance(data, dict) and (folder / "sweep.json").is_file():  # what `grasp sweep` last ran here
        try:
            data = read_json(folder / "sweep.json")
        except GraspError:
            data = None
    organism, total = None, None
    if isinstance(data, dict):
        organism = Path(str(data.get("organism", ""))).name or None
        try:
            total = len(SweepConfig.from_dict(data, where=str(folder)).cells())
        except (GraspError, TypeError, ValueError):
            total = None  # e.g. a factors file it names was deleted since
    pid = live_sweep_pid(folder)
    lines = tail_lines(folder / SWEEP_LOG, 4000)
    at = None  # the cell the latest start last began, from its "[i/N]" lines
    for line in lines:
        if line.startswith(START_MARK):
            at = None
        elif m := _CELL.match(line):
            at = int(m.group(1))
    done = at - 1 if at is not None else (0 if pid is not None else None)
    results = folder / "results.csv"
    pid_file = folder / SWEEP_PID
    fresh = results.is_file() and (not pid_file.is_file() or results.stat().st_mtime >= pid_file.stat().st_mtime)
    if pid is None and fresh:  # written when a sweep ends: one row per cell plus the base row
        try:
            done = max(0, len(pd.read_csv(results)) - 1)
        except (OSError, ValueError):
            pass  # unreadable: keep what the log says
    return SweepInfo(folder.name, folder, organism, done, total, pid, lines[-40:])
