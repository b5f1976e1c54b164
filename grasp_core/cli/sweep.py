"""Experiment verbs: sweep (a resumable trade-off sweep), report (re-render a sweep's report, bundle its results),
merge (seeds of one sweep made apart, joined) and demo (the bundled organisms end to end)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.organisms import load_organism
from ..evidence.bundled import organism_request, write_bundled_evidence
from ..io import inside
from ..model.models import DEFAULT_BASE
from ..sweep.config import SweepConfig
from ..sweep.demo import SWEEPS, build_naive, run_demo, sweep_config
from ..sweep.executor import EXECUTORS
from ..sweep.folders import find_sweep, sweeps_root
from ..sweep.merge import merge_sweeps
from ..sweep.provenance import bundle, check_bundle, export, provenance_line
from ..sweep.report import rerender, shown_table
from ..sweep.run import run_sweep
from ..sweep.status import sweep_status
from .common import command

# ---------------------------------------------------------------- sweep, demo (trade-off experiments)


def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="sweep YAML (methods, strengths, naive runs, seeds)")
    p.add_argument("--organism", help="run a bundled organism's sweep (its folder's sweep-<size>.yaml)")
    p.add_argument(
        "--size",
        choices=tuple(SWEEPS),
        default="full",
        help="with --organism: demo (minutes), main (~60 min a seed), evidence (factors picked by sigma "
        "vs by evidence, ~35 min a seed), full (hours)",
    )
    p.add_argument("--seeds", type=int, nargs="+", help="override the config's seeds")
    p.add_argument("--out", help="sweeps folder (default: GRASP_HOME/sweeps)")
    p.add_argument("--dry-run", action="store_true", help="list the cells and stop")
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        help="where the cells run: inline (this process, the default), local (a subprocess per cell "
        "through submitit) or slurm (a SLURM job per cell; set partition, gpus, time in the YAML's "
        "`executor:`)",
    )
    p.add_argument(
        "--status",
        metavar="NAME",
        help="show a sweep's cells by state (done, running, failed, not started) with their job ids and logs, and stop",
    )


def _print_report(report: Any) -> None:
    cols = ["label", "n_seeds", "task_gain", "drift", "drift_cut", "lean_change", "lean_change_cut", "leak"]
    cols = [c for c in cols if c in report.summary]
    bounds = [f"{c}_{e}" for c in cols[2:] for e in ("lo", "hi") if f"{c}_lo" in report.summary]
    print(shown_table(report.summary[[*cols, *bounds]]).to_string(index=False))
    if "interval" in report.summary:
        print("intervals: " + "; ".join(sorted(set(report.summary["interval"]))))
    print(f"{report.done} of {report.total} cells evaluated; report: {report.folder / 'report.md'}")
    if report.not_formed:
        print(f"{len(report.not_formed)} cell(s) not formed (report.md says why; a rerun tries them again):")
        for r in report.not_formed:
            print(f"  {r['label']} seed={r['seed']}")
    for fig in report.figures:
        print(f"figure: {fig}")


@command(
    "sweep", "Run a resumable trade-off sweep (methods x strengths x seeds) and write table, Pareto, plot.", _sweep_args
)
def run_sweep_cmd(ns: argparse.Namespace) -> int:
    if ns.status:
        table = sweep_status(find_sweep(ns.status, ns.out))
        print(table.to_string(index=False))
        counts = table["state"].value_counts()
        print(", ".join(f"{n} {state}" for state, n in counts.items()))
        return 0
    if bool(ns.config) == bool(ns.organism):
        raise GraspError("give either a sweep YAML or --organism NAME")
    cfg = SweepConfig.from_yaml(ns.config) if ns.config else sweep_config(load_organism(ns.organism), SWEEPS[ns.size])
    if ns.seeds:
        cfg = SweepConfig.from_dict({**cfg.to_dict(), "seeds": ns.seeds}, where=cfg.where)
    if ns.executor:  # the command line wins over the YAML's kind; the YAML's SLURM fields stay
        fields = cfg.executor.to_value()
        fields = {**(fields if isinstance(fields, dict) else {}), "kind": ns.executor}
        cfg = SweepConfig.from_dict({**cfg.to_dict(), "executor": fields}, where=cfg.where)
    if ns.dry_run:
        for cell in cfg.cells():
            print(f"{cell.label}  seed={cell.seed}")
        return 0
    _print_report(run_sweep(cfg, root=ns.out))
    return 0


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep", help="a sweep folder, or a sweep's name under GRASP_HOME/sweeps")
    p.add_argument("--no-png", action="store_true", help="write tradeoff.html only (PNG needs kaleido's Chrome)")
    p.add_argument(
        "--bundle",
        action="store_true",
        help="then copy its small outputs (results, items, summary, report, figure, provenance) into "
        "the organism's bundled results, shown by the Results page on a fresh install",
    )
    p.add_argument(
        "--export",
        metavar="DIR",
        help="then copy the same small outputs into DIR/<sweep name>/: a part `grasp merge` joins with the "
        "sweep's other seeds, to keep where GRASP_HOME does not survive",
    )


@command("report", "Re-render a sweep's summary, trade-off figure and report.md from its results.csv.", _report_args)
def run_report_cmd(ns: argparse.Namespace) -> int:
    folder = find_sweep(ns.sweep)
    if ns.bundle:
        check_bundle(folder)  # before anything is written
    _print_report(rerender(folder, figures=(".html",) if ns.no_png else (".html", ".png")))
    print(provenance_line(folder))
    if ns.bundle:
        print(f"bundled: {bundle(folder)}")
    if ns.export:
        print(f"exported: {export(folder, Path(ns.export).expanduser())}")
    return 0


def _merge_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "sweeps",
        nargs="+",
        help="sweep folders (paths, or names under GRASP_HOME/sweeps) holding "
        "different seeds of one sweep; a bundled result's folder counts",
    )
    p.add_argument("--into", required=True, help="the new sweep folder: a path, or a name under GRASP_HOME/sweeps")
    p.add_argument("--no-png", action="store_true", help="write tradeoff.html only (PNG needs kaleido's Chrome)")


@command(
    "merge", "Join seeds of one sweep made apart (other machines, other sessions) into one sweep folder.", _merge_args
)
def run_merge_cmd(ns: argparse.Namespace) -> int:
    into = Path(ns.into).expanduser()
    dest = into if into.is_absolute() or len(into.parts) > 1 else inside(sweeps_root(), ns.into)
    report = merge_sweeps(
        [find_sweep(s) for s in ns.sweeps], dest, figures=(".html",) if ns.no_png else (".html", ".png")
    )
    _print_report(report)
    print(provenance_line(dest))
    return 0


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action",
        nargs="?",
        choices=("run", "build", "evidence"),
        default="run",
        help="run: build + demo sweep + report (default); build: only the naive LoRA + factors; evidence: the "
        "naive LoRA's evidence on the organism's probes, written beside it (what the Factors page opens on)",
    )
    p.add_argument("--organism", default="persona", help="bundled organism (default persona)")


@command("demo", "The bundled demo end to end: naive LoRA + factors, a small sweep, the trade-off report.", _demo_args)
def run_demo_cmd(ns: argparse.Namespace) -> int:
    if ns.action == "build":
        print(build_naive(load_organism(ns.organism)))
        return 0
    if ns.action == "evidence":
        print(write_bundled_evidence(organism_request(ns.organism, DEFAULT_BASE)))
        return 0
    _print_report(run_demo(ns.organism))
    return 0
