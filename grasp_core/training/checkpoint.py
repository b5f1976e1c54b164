"""Training checkpoints: LoRA weights (safetensors) + optimizer, scheduler, RNG and step (torch.save, weights only).

The data order is not stored: batching.plan_steps recomputes it from the seed, so the step is enough.
A checkpoint is written whole into `<folder>.new/` and then switched in by renames (the old one steps aside to
`<folder>.prev/` for the moment of the switch), so a process killed at any point leaves a good checkpoint: the
previous one while the new one is being written, and `.prev` if it dies between the two renames.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ..errors import GraspError
from ..io import atomic_path

WEIGHTS = "adapter_model.safetensors"
STATE = "state.pt"


def _new(folder: Path) -> Path:
    return folder.with_name(folder.name + ".new")


def _prev(folder: Path) -> Path:
    return folder.with_name(folder.name + ".prev")


def has_checkpoint(folder: Path) -> bool:
    """Whether a checkpoint can be resumed from `folder` (or the previous one kept beside it)."""
    return any((f / STATE).is_file() for f in (folder, _prev(folder)))


def save_checkpoint(folder: Path, model: Any, opt: Any, sched: Any, step: int, config: Any) -> Path:
    """Write weights then state into `<folder>.new`, then switch it in for `folder`; the step is in both files so
    a torn pair is detected on load, and the previous checkpoint stays whole until the new one is."""
    from peft import get_peft_model_state_dict  # lazy: peft imports transformers, which takes seconds

    new, prev = _new(folder), _prev(folder)
    shutil.rmtree(new, ignore_errors=True)  # a torn write of an earlier attempt
    new.mkdir(parents=True)
    weights = {k: v.detach().to("cpu").clone().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    with atomic_path(new / WEIGHTS) as tmp:
        save_file(weights, str(tmp), metadata={"step": str(step)})
    state = {
        "step": step,
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "config": config.to_dict(),
    }
    with atomic_path(new / STATE) as tmp:
        torch.save(state, tmp)
    if folder.exists():
        shutil.rmtree(prev, ignore_errors=True)
        folder.rename(prev)
    new.rename(folder)
    shutil.rmtree(prev, ignore_errors=True)
    return folder


def load_checkpoint(folder: Path, model: Any, opt: Any, sched: Any, config: Any) -> int:
    """Restore weights, optimizer, scheduler and RNG from `folder`, or from the previous checkpoint kept beside it
    when `folder` is missing or torn; return the step to continue from."""
    errors = []
    for candidate in (folder, _prev(folder)):
        if not (candidate / STATE).is_file() and not (candidate / WEIGHTS).is_file():
            continue
        try:
            return _load(candidate, model, opt, sched, config)
        except GraspError as e:
            if "was made with" in str(e):
                raise  # a different run's checkpoint: the previous one would not fit either
            errors.append(str(e))
    raise GraspError("; ".join(errors) or f"checkpoint {folder}: none to resume from")


def _load(folder: Path, model: Any, opt: Any, sched: Any, config: Any) -> int:
    from peft import set_peft_model_state_dict  # lazy: peft imports transformers, which takes seconds

    try:
        state = torch.load(folder / STATE, map_location="cpu", weights_only=True)
        with safe_open(str(folder / WEIGHTS), framework="pt") as f:
            weights_step = int((f.metadata() or {}).get("step", -1))
        weights = load_file(str(folder / WEIGHTS))
    except Exception as e:  # torch and safetensors raise their own error types
        raise GraspError(f"checkpoint {folder}: unreadable ({type(e).__name__}: {e})") from None
    if weights_step != state["step"]:
        raise GraspError(
            f"checkpoint {folder}: weights are from step {weights_step} but the state from step {state['step']} "
            "(interrupted while saving); start again without resume"
        )
    saved = state.get("config", {})
    for key in ("method", "data", "r", "batch_size", "grad_accum", "epochs", "seed", "target_modules"):
        if key in saved and saved[key] != config.to_dict().get(key):
            raise GraspError(
                f"checkpoint {folder}: was made with {key}={saved[key]!r}, this run has {config.to_dict().get(key)!r}"
            )
    device = next(model.parameters()).device
    set_peft_model_state_dict(model, {k: v.to(device) for k, v in weights.items()})
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng_cpu"])
    if state["rng_cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    return int(state["step"])
