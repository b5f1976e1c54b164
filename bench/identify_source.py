"""`grasp identify` with candidates from the weights against candidates from the activation shift, on the bundled
persona naive LoRA, cold: every variant a fresh process (Python start, imports, loading), the variants alternated
(weights shift, shift weights, ...). Wall time and peak resident set of each, and their ratios per round.

    .venv/bin/python bench/identify_source.py [--rounds 3] [--adapter DIR]

`weights` reads the adapter's matrices only (low-rank SVDs; no model weights are loaded); `shift` loads the base
with the adapter and runs the bundled unrelated corpus through it twice (adapter on and off). `both` is the sum.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import resource, sys
from grasp_core.cli import main
rc = main(["identify", "--adapter", sys.argv[1], "--source", sys.argv[2], "--out", sys.argv[3], "--json"])
assert rc == 0
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(adapter: str, source: str, out: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one cold `grasp identify --source SOURCE`."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, adapter, source, str(out)], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - t0, int(done.stdout.strip().splitlines()[-1]) / 1024  # ru_maxrss: KiB on Linux


def main() -> int:
    from grasp_core import DEMO_ROOT

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--adapter", default=str(DEMO_ROOT / "persona" / "naive-lora"))
    args = p.parse_args()
    times: dict[str, list[float]] = {"weights": [], "shift": []}
    peaks: dict[str, list[float]] = {"weights": [], "shift": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = ["weights", "shift"] if r % 2 == 0 else ["shift", "weights"]
            for source in order:
                t, m = run(args.adapter, source, Path(tmp) / f"{source}.safetensors")
                times[source].append(t)
                peaks[source].append(m)
            print(
                f"round {r + 1} ({' '.join(order)}): "
                + ", ".join(f"{s} {times[s][-1]:.1f} s {peaks[s][-1]:.0f} MiB" for s in times)
            )
    ratio = [s / w for s, w in zip(times["shift"], times["weights"], strict=True)]
    mem = [s / w for s, w in zip(peaks["shift"], peaks["weights"], strict=True)]
    print(f"wall time shift / weights: median {statistics.median(ratio):.2f}x [{min(ratio):.2f}, {max(ratio):.2f}]")
    print(f"peak RSS shift / weights: median {statistics.median(mem):.2f}x [{min(mem):.2f}, {max(mem):.2f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
