"""Which registry run a sweep cell uses: its training config, a finished run of it (or of the same config for more
rounds), one resumed from its checkpoint, or one trained now. Nothing is trained twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.organisms import INOCULATION_FILE, Organism
from ..runs.queue import reap_dead, wait
from ..runs.registry import absolute_config, config_key, list_runs
from ..runs.worker import run_foreground
from ..training.config import TrainConfig
from ..training.methods import METHODS
from .config import SweepConfig


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
    else:
        run = run_foreground(config, runs_root)
    if run.status.state != "done":
        raise GraspError(f"run {run.id} ended {run.status.state}: {run.status.error or 'see grasp logs ' + run.id}")
    return run.dir


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
