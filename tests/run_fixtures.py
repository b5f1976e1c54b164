"""What the tests of real run processes share: waiting on the registry, and an adapter's weights."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file

from grasp_core.runs.registry import list_runs


def poll(root: Path, until: Callable[[], bool], timeout_s: float = 90.0, every_s: float = 0.05) -> None:
    """Wait until `until()` holds, failing with the registry's runs after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, f"timed out; runs: {[r.summary() for r in list_runs(root)]}"
        time.sleep(every_s)


def adapter_weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "adapter_model.safetensors"))


def train_flags(tiny: dict[str, Path]) -> list[str]:
    """`grasp train` on the tiny base and chats, as the tests' tiny_config trains them (r 4, batch 4, 64 tokens)."""
    flags = {"--data": tiny["data"], "--base": tiny["base"], "--r": 4, "--batch-size": 4, "--max-length": 64}
    return ["train", *(str(x) for kv in flags.items() for x in kv), "--device", "cpu"]
