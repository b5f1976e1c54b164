"""Evidence for the persona demo's 8 default factors: `grasp evidence` cold (empty cache) and cached, against 8
separate `grasp eval --ablate ... --select i` runs of the same files, the variants alternated (A B A B ...).

    .venv/bin/python bench/evidence.py [--rounds 1] [--organism persona]
    .venv/bin/python bench/evidence.py --cached-only   # only the cached timings, on $GRASP_HOME's cache

Every variant is a real OS process of the installed CLI (model load included), timed wall-clock; each cold run
gets a fresh GRASP_HOME (the bundled model is linked in, its cache left behind). Evidence computes more than the
separate runs do (base and adapter references, cumulative ablations, the adapter shift), so the ratio is a fair
upper bound on what the separate runs would cost for the same table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grasp_core import DEMO_ROOT, adapter_evidence, grasp_home, measures_from_files

GRASP = [sys.executable, "-m", "grasp_core"]


def _home() -> Path:
    """A fresh GRASP_HOME that shares the converted bundled model (so no run converts it again)."""
    home = Path(tempfile.mkdtemp(prefix="grasp-bench-"))
    (home / "models").symlink_to(grasp_home() / "models")
    return home


def _run(argv: list[str], home: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [*GRASP, *argv],
        check=True,
        env={**os.environ, "GRASP_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--organism", default="persona")
    p.add_argument("--rounds", type=int, default=1, help="A B rounds (each: evidence cold + cached, 8 separate runs)")
    p.add_argument("--cached-only", action="store_true", help="time cached calls on the current GRASP_HOME's cache")
    args = p.parse_args()
    org = DEMO_ROOT / args.organism
    adapter = org / "naive-lora"
    files = [str(org / f) for f in ("drift.jsonl", "leak.jsonl", "task.jsonl")]
    evidence = ["evidence", "--adapter", str(adapter), "--evals", *files, "--json"]
    if args.cached_only:
        return _cached_only(adapter, files, evidence)
    times: dict[str, list[float]] = {
        "evidence, cold": [],
        "evidence, cached": [],
        "evidence, cached, in-process": [],
        "8 separate eval --ablate": [],
    }
    for r in range(args.rounds):
        home = _home()
        times["evidence, cold"].append(_run(evidence, home))
        times["evidence, cached"].append(_run(evidence, home))
        os.environ["GRASP_HOME"] = str(home)  # the same cache, read in this process (Python already started)
        t0 = time.perf_counter()
        _fs, ev = adapter_evidence(adapter, "smollm2-135m", measures_from_files(files), progress=False)
        times["evidence, cached, in-process"].append(time.perf_counter() - t0)
        assert ev.n_computed == 0, "the in-process call found something uncached"
        home = _home()
        separate = 0.0
        for i in range(8):
            separate += _run(
                [
                    "eval",
                    "--adapter",
                    str(adapter),
                    "--ablate",
                    str(adapter / "factors.safetensors"),
                    "--select",
                    str(i),
                    "--evals",
                    *files,
                    "--json",
                ],
                home,
            )
        times["8 separate eval --ablate"].append(separate)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    best = {k: min(v) for k, v in times.items()}
    for k, v in best.items():
        print(f"{k:>28}: {v:8.1f} s (best of {args.rounds})")
    print(f"separate / evidence cold: {best['8 separate eval --ablate'] / best['evidence, cold']:.2f}x")
    print("(the CLI's cached time includes starting Python and importing torch and transformers)")
    return 0


def _cached_only(adapter: Path, files: list[str], evidence: list[str]) -> int:
    """The CLI and the API on an already filled cache: a process start, the first call in a process, warm calls."""
    cli = _run(evidence, grasp_home())
    calls = []
    for _ in range(4):
        t0 = time.perf_counter()
        _fs, ev = adapter_evidence(adapter, "smollm2-135m", measures_from_files(files), progress=False)
        calls.append(time.perf_counter() - t0)
        if ev.n_computed:
            raise SystemExit("something was not cached: run `grasp evidence` with these files first")
    print(
        f"CLI, cached: {cli:.2f} s; in-process first call {calls[0]:.2f} s (imports included), "
        f"warm calls {min(calls[1:]):.2f}-{max(calls[1:]):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
