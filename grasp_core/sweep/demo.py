"""The bundled demo: build an organism's naive LoRA + factors into its folder, then a small sweep and its report."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import GraspError
from ..evaluation.organisms import NAIVE_DIR, Organism, load_organism
from ..training.config import TrainConfig
from .cell_runs import ensure_run
from .config import SweepConfig
from .factor_choice import FACTORS_FILE, naive_factors
from .report import SweepReport
from .run import run_sweep

DEMO_SWEEP = "sweep-demo.yaml"  # the reduced sweep `grasp demo` runs (fits ~20 minutes on a 2-core CPU)
FULL_SWEEP = "sweep.yaml"  # the full comparison (hours on a CPU; resumable across sessions)
SWEEPS = {
    "demo": DEMO_SWEEP,
    "main": "sweep-main.yaml",
    "evidence": "sweep-evidence.yaml",
    "full": FULL_SWEEP,
}  # `grasp sweep --organism X --size`


def sweep_config(organism: Organism, which: str = DEMO_SWEEP) -> SweepConfig:
    """The organism's bundled sweep YAML, with `organism` pointing at its folder."""
    path = organism.dir / which
    cfg = SweepConfig.from_yaml(path)
    return SweepConfig.from_dict({**cfg.to_dict(), "organism": str(organism.dir)}, where=str(path))


def build_naive(
    organism: Organism, seed: int = 0, runs_root: Path | None = None, log: Callable[[str], None] | None = None
) -> Path:
    """Train the organism's naive LoRA with the demo sweep's recipe (fixed seed) and copy it, with its factors
    file, into <organism>/naive-lora (skipped when it is there)."""
    out = organism.naive_adapter
    if (out / "adapter_config.json").is_file() and (out / FACTORS_FILE).is_file():
        return out
    cfg = sweep_config(organism)
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    say(f"building the naive LoRA of {organism.name} (seed {seed}) ...")
    train_cfg = TrainConfig.from_dict(
        {**cfg.train, "method": "naive", "seed": seed, "base": cfg.base, "data": str(organism.train)}
    )
    run_dir = ensure_run(train_cfg, runs_root, say)
    naive_factors(run_dir, cfg.base)
    tmp = Path(tempfile.mkdtemp(prefix=f".{NAIVE_DIR}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; this is a shared asset folder
    try:
        for f in (run_dir / "adapter").iterdir():
            shutil.copy2(f, tmp / f.name)
        shutil.copy2(run_dir / FACTORS_FILE, tmp / FACTORS_FILE)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def run_demo(
    name: str = "persona",
    which: str = DEMO_SWEEP,
    root: Path | None = None,
    runs_root: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepReport:
    """Build + sweep + report for one bundled organism; returns where the report is."""
    organism = load_organism(name)
    if not (organism.dir / which).is_file():
        raise GraspError(f"organism {organism.name} has no {which} in {organism.dir}")
    build_naive(organism, runs_root=runs_root, log=log)
    return run_sweep(sweep_config(organism, which), root=root, runs_root=runs_root, log=log)
