"""Training checkpoints: LoRA weights (safetensors) + optimizer, scheduler, RNG and step (torch.save, weights only).

The data order is not stored: batching.plan_steps recomputes it from the seed, so the step is enough.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ..errors import GraspError
from ..io import atomic_path

WEIGHTS = "adapter_model.safetensors"
STATE = "state.pt"


def save_checkpoint(folder: Path, model: Any, opt: Any, sched: Any, step: int, config: Any) -> Path:
    """Write weights then state, each atomically; the step is in both so a torn pair is detected on load."""
    from peft import get_peft_model_state_dict  # lazy: peft imports transformers, which takes seconds

    folder.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().to("cpu").clone().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    with atomic_path(folder / WEIGHTS) as tmp:
        save_file(weights, str(tmp), metadata={"step": str(step)})
    state = {
        "step": step,
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "config": config.to_dict(),
    }
    with atomic_path(folder / STATE) as tmp:
        torch.save(state, tmp)
    return folder


def load_checkpoint(folder: Path, model: Any, opt: Any, sched: Any, config: Any) -> int:
    """Restore weights, optimizer, scheduler and RNG from `folder`; return the step to continue from."""
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
