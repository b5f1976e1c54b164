"""How often a just-started detached process reads as gone: /proc/<pid>/cmdline right after start_detached, and
procs.live_pid, which must trust a live pid whose command line is still empty (it did not, and the dashboard then
showed a just-started evidence process as failed).

    .venv/bin/python bench/start_race.py --starts 200 --rounds 3

Prints, per round, the starts whose command line read empty at the first look and the starts live_pid missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from grasp_core.procs import live_pid, process_cmdline, start_detached


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--starts", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    for r in range(args.rounds):
        folder = Path(tempfile.mkdtemp(prefix="start-race-"))
        empty = missed = 0
        for i in range(args.starts):
            marker = str(folder / f"out{i}.json")
            child = [sys.executable, "-c", "import time; time.sleep(0.3)", marker]
            pid = start_detached(child, folder / "log", folder / f"{i}.pid")
            empty += not any(process_cmdline(pid) or [])
            missed += live_pid(folder / f"{i}.pid", marker) is None
        print(
            f"round {r + 1}: {empty} of {args.starts} starts read an empty command line at once; live_pid missed {missed}"
        )


if __name__ == "__main__":
    main()
