"""GRASP in rounds: train, identify the top new factors of that adapter's own spectrum, add them to Z, train again
from the base; each round recorded under out_dir/round-<i>/ (GRASP.md: more rounds cut latent drift most).

With `round_select: evidence` a round's new factors are not its largest by sigma but the best of its first 8 new
candidates by the evidence rule on an organism's probe files (ablate each from the round's adapter; keep those that
remove more of the probe's drift than they cost of its task gain, score > 0): the candidates and the evidence are
kept in round-<i>/. Where the round's adapter no longer moves the probe, nothing is added and Z stays as it was."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from ..evaluation.organisms import load_organism
from ..evidence.background import request_inputs
from ..evidence.evidence import adapter_evidence
from ..identification.factors import Factor, FactorSet, identify, load_factors, orthonormal_basis, save_factors
from ..io import read_json, write_json
from ..model.adapters import load_adapter
from ..model.models import load_config, n_layers
from .config import TrainConfig
from .loop import FACTORS_USED, RESULT_FILE, TrainHooks, TrainResult, train_once
from .parallel import DataParallel

# A spectrum direction counts as new when at least this share of its norm lies outside the current span.
NEW_FACTOR_MIN_RESIDUAL = 0.5
EVIDENCE_CANDIDATES = 8  # new factors of a round's adapter that evidence ranks (round_select: evidence)
CANDIDATES_FILE = "candidates.safetensors"
EVIDENCE_FILE = "evidence.json"


def next_round_factors(
    used: list[Factor],
    adapter_dir: Path,
    k_new: int,
    round_index: int,
    probes: str | None = None,
    base: str | None = None,
) -> list[Factor]:
    """`used` plus k_new global write factors of the adapter's own spectrum not already in span(used): its largest,
    or (with `probes`, an organism folder, and the `base` the adapter was trained on) the best of its first
    EVIDENCE_CANDIDATES by evidence on the probe files, only those scoring above 0 (none where the adapter does not
    move the probe)."""
    adapter = load_adapter(adapter_dir)
    if adapter.base:
        layers = n_layers(load_config(adapter.base))
    else:
        layers = max((m.layer for m in adapter.modules.values() if m.layer is not None), default=0) + 1
    n = k_new if probes is None else max(k_new, EVIDENCE_CANDIDATES)
    fs = identify(adapter, layers, n_factors=n + len(used), per_module=0, sides=("write",))
    Z = orthonormal_basis(torch.stack([f.vector for f in used])) if used else torch.zeros(0)  # (d_model, k)
    new: list[Factor] = []
    for f in fs.factors:
        if f.scope != "global" or len(new) >= n:
            continue
        residual = f.vector - Z @ (Z.T @ f.vector) if Z.numel() else f.vector  # (d_model,)
        if float(residual.norm()) < NEW_FACTOR_MIN_RESIDUAL:
            continue
        new.append(f)
        Z = orthonormal_basis(torch.stack([g.vector for g in [*used, *new]]))
    if probes is not None and new:
        fs.factors, fs.base = new, base or adapter.base
        new = [new[i] for i in _evidence_order(fs, adapter_dir, probes)][:k_new]
    for f in new:
        f.id = f"round{round_index}-{f.id}"
    return [*used, *new]


def _evidence_order(candidates: FactorSet, adapter_dir: Path, probes: str) -> list[int]:
    """Indices of `candidates` (the round adapter's new factors) with an evidence score above 0 on the organism's
    probe files, best first; the candidates and the evidence are kept beside the round's adapter."""
    path = adapter_dir.parent / CANDIDATES_FILE
    save_factors(candidates, path)
    measures, train, primary = request_inputs(probes, ())
    _fs, ev = adapter_evidence(
        adapter_dir,
        str(candidates.base),
        measures,
        path,
        select=list(range(len(candidates))),
        train=train,
        primary=primary,
        progress=False,
    )
    write_json(adapter_dir.parent / EVIDENCE_FILE, ev.to_dict())
    return [r.index for r in ev.rows if r.alone.score is not None and r.alone.score > 0]


def _finished_round(rdir: Path) -> tuple[TrainResult, list[Factor]] | None:
    """A round that an earlier (interrupted) call already finished: its result and factors, else None."""
    path, used = rdir / RESULT_FILE, rdir / FACTORS_USED
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
    config: TrainConfig, out_dir: Path, hooks: TrainHooks, resume: bool, dist: DataParallel
) -> TrainResult:
    """`rounds` rounds: train, take the top new factors of that adapter's own spectrum, add them, train again.

    Round i lives in out_dir/round-<i>/; with resume, finished rounds are kept and the first unfinished one resumes.
    """
    t0 = time.time()
    probes = config.round_probes if config.round_select == "evidence" else None
    if probes is not None:  # before any round trains: the organism and its probe files must be there
        request_inputs(str(load_organism(probes).dir), ())
    factors: list[Factor] | None = None
    records: list[dict[str, Any]] = []
    result: TrainResult | None = None
    k_new = 0
    for i in range(config.n_rounds):
        rdir = out_dir / f"round-{i}"
        done = _finished_round(rdir) if resume else None
        if done is not None:
            result, used = done
        else:
            rcfg = dataclasses.replace(config, rounds=1, round_select="sigma", round_probes=None)  # one round
            result, used = train_once(rcfg, rdir, _round_hooks(hooks, i, config.n_rounds), resume, dist, factors)
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
        if i < config.n_rounds - 1:
            factors = next_round_factors(
                used, rdir / "adapter", k_new, round_index=i + 1, probes=probes, base=config.base
            )
    assert result is not None
    adapter = None
    if dist.main and result.status == "done" and result.adapter is not None:
        adapter = out_dir / "adapter"
        shutil.rmtree(adapter, ignore_errors=True)
        shutil.copytree(result.adapter, adapter)
    final = dataclasses.replace(result, adapter=adapter, rounds=records, elapsed_s=time.time() - t0)
    if dist.main:
        write_json(out_dir / RESULT_FILE, {**final.to_dict(), "config": config.to_dict()})
    dist.barrier()
    return final
