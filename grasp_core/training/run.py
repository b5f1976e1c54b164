"""The fine-tuning entry: `train()` runs one pass of the loop, or GRASP's rounds, and `python -m grasp_core.train`
is what torchrun launches."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import GraspError
from ..io import read_json
from .config import TrainConfig
from .loop import TrainHooks, TrainResult, train_once
from .parallel import DataParallel
from .rounds import train_rounds


def train(
    config: TrainConfig, out_dir: str | Path, hooks: TrainHooks | None = None, resume: bool = False
) -> TrainResult:
    """Fine-tune a fresh LoRA with config.method; write out_dir/adapter (PEFT folder) and out_dir/checkpoint.

    With resume=True, continue from out_dir/checkpoint and reach the adapter an uninterrupted run reaches.
    """
    dist = DataParallel.setup()
    hooks = hooks or TrainHooks()
    if config.n_rounds > 1:
        return train_rounds(config, Path(out_dir), hooks, resume, dist)
    return train_once(config, Path(out_dir), hooks, resume, dist)[0]


def main(argv: list[str] | None = None) -> int:
    """`python -m grasp_core.train CONFIG.json OUT_DIR [--resume]`: the entry point torchrun launches."""
    p = argparse.ArgumentParser(prog="python -m grasp_core.train")
    p.add_argument("config", help="TrainConfig as JSON")
    p.add_argument("out_dir")
    p.add_argument("--resume", action="store_true")
    ns = p.parse_args(argv)
    try:
        result = train(TrainConfig.from_dict(read_json(ns.config, what="train config")), ns.out_dir, resume=ns.resume)
    except GraspError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if DataParallel.setup().main:
        print(json.dumps(result.to_dict(), default=str))
    return 0
