"""`iterate` rounds of GRASP: train, identify the top new factors of that adapter's own spectrum, add them to Z,
retrain from the base; each round recorded under out_dir/round-<i>/ (GRASP.md: iterating cut latent drift most)."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .factors import Factor
from .io import read_json, write_json
from .parallel import DataParallel
from .train import RESULT_FILE, TrainHooks, TrainResult
from .trainconfig import TrainConfig
from .trainfactors import next_round_factors

TrainOnce = Callable[..., tuple[TrainResult, list[Factor]]]


def _finished_round(rdir: Path) -> tuple[TrainResult, list[Factor]] | None:
    """A round that an earlier (interrupted) call already finished: its result and factors, else None."""
    from .factors import load_factors

    path, used = rdir / RESULT_FILE, rdir / "factors_used.safetensors"
    if not path.is_file() or not used.is_file():
        return None
    d = read_json(path, what="round result")
    if d.get("status") != "done" or not d.get("adapter"):
        return None
    d.pop("config", None)
    d["adapter"] = Path(d["adapter"])
    d["checkpoint"] = Path(d["checkpoint"]) if d.get("checkpoint") else None
    return TrainResult(**d), load_factors(used).factors


def _round_hooks(hooks: TrainHooks, i: int, rounds: int) -> TrainHooks:
    """Report steps across all rounds (round i of n, equal lengths), so a progress bar runs once 0 -> 100%."""
    on_step = hooks.on_step
    if on_step is None:
        return hooks

    def wrapped(step: int, total: int, metrics: dict[str, Any]) -> None:
        on_step(i * total + step, rounds * total, {**metrics, "round": i})

    return dataclasses.replace(hooks, on_step=wrapped)


def train_rounds(
    config: TrainConfig, out_dir: Path, hooks: TrainHooks, resume: bool, dist: DataParallel, train_once: TrainOnce
) -> TrainResult:
    """`iterate` rounds: train, take the top new factors of that adapter's own spectrum, add them, retrain.

    Round i lives in out_dir/round-<i>/; with resume, finished rounds are kept and the first unfinished one resumes.
    """
    t0 = time.time()
    factors: list[Factor] | None = None
    records: list[dict[str, Any]] = []
    result: TrainResult | None = None
    k_new = 0
    for i in range(config.rounds):
        rdir = out_dir / f"round-{i}"
        done = _finished_round(rdir) if resume else None
        if done is not None:
            result, used = done
        else:
            rcfg = dataclasses.replace(config, iterate=1)
            result, used = train_once(rcfg, rdir, _round_hooks(hooks, i, config.rounds), resume, dist, factors)
        k_new = k_new or len(used)
        records.append(
            {
                "round": i,
                "factors": [f.id for f in used],
                "n_factors": len(used),
                "status": result.status,
                "final_loss": result.final_loss,
                "metrics": result.metrics,
                "adapter": str(result.adapter) if result.adapter else None,
            }
        )
        if result.status != "done":
            break
        if i < config.rounds - 1:
            factors = next_round_factors(used, rdir / "adapter", k_new, round_index=i + 1)
    assert result is not None
    adapter = None
    if dist.main and result.status == "done" and result.adapter is not None:
        adapter = out_dir / "adapter"
        shutil.rmtree(adapter, ignore_errors=True)
        shutil.copytree(result.adapter, adapter)
    final = dataclasses.replace(result, adapter=adapter, rounds=records, elapsed_s=time.time() - t0)
    if dist.main:
        write_json(out_dir / RESULT_FILE, {**final.to_dict(), "config": config.to_dict()})
    return final
