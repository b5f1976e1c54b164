"""Amplifying an adapter: its LoRA update scaled by s while a block runs, W + s * dW, to expose (s > 1) or invert
(s < 0) what a fine-tune learned (the model-diffing view of science-of-finetuning/diffing-toolkit).

s = 1 is the adapter as trained, s = 0 the base (dW switched off), s = -1 the update inverted. The scales of every
LoRA layer are multiplied on entry and restored exactly on exit (in `finally`), so nothing outlives the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import GraspError

SCALE_RANGE = (-1.0, 3.0)  # what the dashboard and CLI offer; beyond it the model's replies are noise


def check_scale(s: float) -> float:
    """An amplification scale within SCALE_RANGE, else one line saying so."""
    lo, hi = SCALE_RANGE
    if not isinstance(s, int | float) or isinstance(s, bool) or not lo <= float(s) <= hi:
        raise GraspError(f"amplification scale must lie in [{lo:g}, {hi:g}] (1 = as trained, 0 = base), got {s!r}")
    return float(s)


def lora_layers(model: Any) -> list[Any]:
    """The LoRA layers of a PEFT model (modules with a `scaling` dict per adapter and lora_A weights)."""
    return [m for m in model.modules() if isinstance(getattr(m, "scaling", None), dict) and hasattr(m, "lora_A")]


@contextmanager
def amplified(model: Any, s: float) -> Iterator[None]:
    """While the block runs, every active adapter's update is s times as trained: W + s * dW."""
    s = check_scale(s)
    layers = lora_layers(model)
    if not layers:
        raise GraspError("amplification needs a model with a LoRA adapter loaded (PEFT), this one has none")
    saved = [dict(layer.scaling) for layer in layers]
    try:
        for layer in layers:
            for name in layer.scaling:
                layer.scaling[name] = layer.scaling[name] * s
        yield
    finally:
        for layer, scaling in zip(layers, saved, strict=True):
            layer.scaling.clear()
            layer.scaling.update(scaling)
