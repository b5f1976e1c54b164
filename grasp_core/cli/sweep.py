"""Experiment verbs: sweep (a resumable trade-off sweep) and demo (the bundled organisms end to end)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import GraspError
from ..evaluation.organisms import load_organism
from ..sweep.config import SweepConfig
from ..sweep.demo import SWEEPS, build_naive, run_demo, sweep_config
from ..sweep.run import run_sweep
from .common import command

# ---------------------------------------------------------------- sweep, demo (trade-off experiments)


def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="sweep YAML (methods, strengths, probes, seeds)")
    p.add_argument("--organism", help="run a bundled organism's sweep (its folder's sweep-<size>.yaml)")
    p.add_argument("--size", choices=tuple(SWEEPS), default="full",
                   help="with --organism: demo (minutes), main (~60 min a seed), evidence (factors picked by sigma "
                        "vs by evidence, ~35 min a seed), full (hours)")  # fmt: skip
    p.add_argument("--seeds", type=int, nargs="+", help="override the config's seeds")
    p.add_argument("--out", help="sweeps folder (default: GRASP_HOME/sweeps)")
    p.add_argument("--dry-run", action="store_true", help="list the cells and stop")


def _print_report(report: Any) -> None:
    cols = [
        c for c in ("label", "n_seeds", "task_gain", "drift", "lean_shift", "leak", "pareto") if c in report.summary
    ]
    print(report.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"{report.done} of {report.total} cells evaluated; report: {report.folder / 'report.md'}")
    for fig in report.figures:
        print(f"figure: {fig}")


@command(
    "sweep", "Run a resumable trade-off sweep (methods x strengths x seeds) and write table, Pareto, plot.", _sweep_args
)
def run_sweep_cmd(ns: argparse.Namespace) -> int:
    if bool(ns.config) == bool(ns.organism):
        raise GraspError("give either a sweep YAML or --organism NAME")
    cfg = SweepConfig.from_yaml(ns.config) if ns.config else sweep_config(load_organism(ns.organism), SWEEPS[ns.size])
    if ns.seeds:
        cfg = SweepConfig.from_dict({**cfg.to_dict(), "seeds": ns.seeds}, where=cfg.where)
    if ns.dry_run:
        for cell in cfg.cells():
            print(f"{cell.label}  seed={cell.seed}")
        return 0
    _print_report(run_sweep(cfg, root=ns.out))
    return 0


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("run", "build"), default="run",
                   help="run: build + demo sweep + report (default); build: only the naive LoRA + factors")  # fmt: skip
    p.add_argument("--organism", default="persona", help="bundled organism (default persona)")


@command("demo", "The bundled demo end to end: naive LoRA + factors, a small sweep, the trade-off report.", _demo_args)
def run_demo_cmd(ns: argparse.Namespace) -> int:
    if ns.action == "build":
        print(build_naive(load_organism(ns.organism)))
        return 0
    _print_report(run_demo(ns.organism))
    return 0
