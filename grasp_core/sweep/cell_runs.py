"""Which registry run a sweep cell uses: its training config, a finished run of it (or of the same config for more
rounds), one resumed from its checkpoint, or one trained now (whose round 0 a finished one-round run of the same
config gives, when there is one). Nothing is trained twice. And back: the adapter a finished cell was measured on."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.organisms import INOCULATION_FILE, Organism
from ..io import read_json, write_json
from ..runs.queue import reap_dead, wait
from ..runs.registry import absolute_config, config_key, create_run, list_runs, load_run, runs_root
from ..runs.worker import run_foreground
from ..training.config import TrainConfig
from ..training.loop import FACTORS_USED, RESULT_FILE, check_inputs
from ..training.methods import METHODS
from .config import Cell, SweepConfig
from .report import load_results


def train_config(
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
    if METHODS[method].needs_system_prompt and not merged.get("system_prompt"):
        merged["system_prompt"] = inoculation_prompt(organism)
    return TrainConfig.from_dict(merged)


def inoculation_prompt(organism: Organism) -> str:
    """The organism's inoculation prompt (what the inoculate method trains with), or one line saying it has none."""
    if organism.inoculation is None:
        raise GraspError(
            f"organism {organism.name} ({organism.dir}): method `inoculate` needs a system prompt that asks for the "
            f"trait, in {INOCULATION_FILE} beside its organism.json (or `system_prompt` in the sweep's method entry)"
        )
    return organism.inoculation


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
    elif (first := shorter_run(config, runs_root)) is not None:
        log(f"  round 0 of this run is run {first.name} (the same config for one round): the later rounds train")
        run = run_foreground(seeded_run(config, first, runs_root), runs_root)
    else:
        run = run_foreground(config, runs_root)
    if run.status.state != "done":
        raise GraspError(f"run {run.id} ended {run.status.state}: {run.status.error or 'see grasp logs ' + run.id}")
    return run.dir


def shorter_run(config: TrainConfig, runs_root: Path | None) -> Path | None:
    """The folder of a done one-round run that is round 0 of `config` (a run of two rounds or more): the same config
    for one round (round 0 ranks nothing, so how later rounds pick their factors does not change it), else None."""
    if config.n_rounds < 2:
        return None
    one = dataclasses.replace(config, rounds=1, round_select="sigma", round_probes=None)
    want = config_key(absolute_config(one))
    for r in reversed(list_runs(runs_root)):
        if r.status.state == "done" and r.key == want and (r.dir / FACTORS_USED).is_file():
            return r.dir
    return None


def seeded_run(config: TrainConfig, first: Path, runs_root: Path | None) -> str:
    """A new run of `config` whose round-0 is the finished one-round run `first` (its adapter, factors and result
    copied), left stopped after round 0, so resuming it trains the later rounds only; its id."""
    check_inputs(config)  # a bad data or factors file is named before a run folder exists
    run = create_run(config, runs_root, state="cancelled", resume=True)
    r0 = run.dir / "round-0"
    shutil.copytree(first / "adapter", r0 / "adapter")
    shutil.copy2(first / FACTORS_USED, r0 / FACTORS_USED)
    result = read_json(first / RESULT_FILE, what="one-round run result")
    write_json(r0 / RESULT_FILE, {**result, "adapter": str(r0 / "adapter"), "checkpoint": None})
    return run.id


def longer_run(config: TrainConfig, runs_root: Path | None) -> Path | None:
    """The folder of a done run whose config equals `config` but for more rounds, else None. Each round trains
    from the base as a one-round run of the factors so far, so round i of an n-round run IS the i-round run, and
    its round-<i-1> adapter serves `config` (a cell whose factors, picked another way, are a longer run's)."""
    want = config_key(absolute_config(config), rounds=False)
    for r in reversed(list_runs(runs_root)):
        if (
            r.status.state == "done"
            and r.config.n_rounds > config.n_rounds
            and config_key(absolute_config(r.config), rounds=False) == want
        ):
            return r.dir
    return None


def cell_rounds(cell: Cell) -> int:
    """The rounds a cell asks for (its method's default when unset)."""
    value = cell.settings.get("rounds")
    return int(value) if value is not None else METHODS[cell.method].default_rounds if cell.method in METHODS else 1


def cell_adapter(run_dir: Path, rounds: int) -> Path:
    """The adapter a cell of `rounds` rounds reads from its run: the run's own when the run trained that many
    rounds, else its round-<rounds-1>/ (cells that differ only in `rounds` share the run of the most)."""
    trained = load_run(run_dir).config.n_rounds
    return run_dir / "adapter" if rounds >= trained else run_dir / f"round-{rounds - 1}" / "adapter"


def sweep_adapters(
    folder: Path, seed: int, labels: list[str], root: str | Path | None = None
) -> list[tuple[str, Path]]:
    """(label, adapter folder) of each named cell of a sweep on one seed, from the run its results.csv names: what
    its measures were read from. A cell not finished on that seed, or one with no adapter of its own (an ablation
    of the naive LoRA, the base), is refused by name."""
    results = load_results(folder)
    cfg = read_json(folder / "sweep.json", what="sweep.json")
    # sweep.json keeps an entry's settings sorted, the YAML (and so results.csv's labels) in the order written
    cells = {
        _label_key(c.label): c
        for c in SweepConfig.from_dict(cfg, where=str(folder / "sweep.json")).cells()
        if c.seed == seed
    }
    on_seed = results[results["seed"].astype(str).isin([str(seed), f"{float(seed)}"])]
    out: list[tuple[str, Path]] = []
    for label in labels:
        if label == "base":
            raise GraspError("the base is not a cell: its replies are in every sheet unless --no-base")
        key = _label_key(label)
        rows = on_seed[[_label_key(str(x)) == key for x in on_seed["label"]]]
        cell = cells.get(key)
        if cell is None:
            known = ", ".join(sorted(c.label for c in cells.values()))
            raise GraspError(f"{folder}: no cell {label!r} on seed {seed} in sweep.json (cells: {known})")
        if rows.empty:
            raise GraspError(f"{folder}/results.csv: cell {label!r} has no result on seed {seed} yet")
        if cell.method == "ablate":
            raise GraspError(f"{folder}: cell {label!r} ablates the naive LoRA at inference; it has no adapter to ask")
        run_dir = runs_root(root) / str(rows.iloc[-1]["run"])
        adapter = cell_adapter(run_dir, cell_rounds(cell))  # a naive run (none suggested): its adapter
        if not (adapter / "adapter_config.json").is_file():
            raise GraspError(
                f"{adapter}: cell {label!r} seed {seed}'s adapter is missing (run folder moved or pruned?)"
            )
        out.append((label, adapter))
    return out


def _label_key(label: str) -> tuple[str, ...]:
    """A cell label as its method and its sorted `key=value` settings: the same cell however they were ordered."""
    method, *settings = label.split(" ")
    return (method, *sorted(settings))
