"""Peak memory of `grasp_core.compare` with one model against four, on the bundled model: each variant is a fresh
process (its own peak resident set, ru_maxrss), the variants alternated (1 4 1 4 ...).

    .venv/bin/python bench/compare_memory.py [--rounds 2]

The four: the base, persona's naive LoRA, the same amplified x2 and flattery's naive LoRA; one prompt, greedy, 8 new
tokens. A comparison loads its models one at a time (lineup.loaded releases each one's weights before the next),
so four should cost about what one costs; the table prints the peak of each and their ratio per round, beside a
control that holds the four models at once (what the release saves).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import json, resource, sys
from grasp_core import CompareConfig, compare, lineup, load_model, typed_prompts
from grasp_core.model.chat import generate_reply
specs, together = json.loads(sys.argv[1]), sys.argv[2] == "together"
models = lineup(specs, "smollm2-135m")
if together:  # the control: every model loaded first and held, then each replies (as a naive loop would)
    held = [load_model("smollm2-135m", m.adapter) for m in models]
    for bm in held:
        generate_reply(bm.model, bm.tokenizer, [{"role": "user", "content": "How do I keep basil fresh?"}], 8)
else:
    t = compare(models, "smollm2-135m", typed_prompts(["How do I keep basil fresh?"]), CompareConfig(max_new_tokens=8, samples=0), progress=False)
    assert len(t.replies) == len(specs)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mib(specs: list[str], together: bool = False) -> float:
    argv = [sys.executable, "-c", CHILD, json.dumps(specs), "together" if together else "compare"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> int:
    from grasp_core import DEMO_ROOT

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    persona, flattery = str(DEMO_ROOT / "persona" / "naive-lora"), str(DEMO_ROOT / "flattery" / "naive-lora")
    variants = {"one model": [persona], "four models": ["base", persona, f"{persona}@2", flattery]}
    ratios: dict[str, list[float]] = {"four models": [], "four held at once": []}
    for r in range(args.rounds):  # the order alternates: 1 4 (4 held), then (4 held) 4 1, ...
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        peaks = {}
        for name in order if r % 2 == 0 else ["four held at once", *order]:
            together = name == "four held at once"
            peaks[name] = peak_mib(variants["four models" if together else name], together=together)
        if r % 2 == 0:
            peaks["four held at once"] = peak_mib(variants["four models"], together=True)
        for k in ratios:
            ratios[k].append(peaks[k] / peaks["one model"])
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in peaks.items()))
    for k, v in ratios.items():
        print(f"peak RSS {k} / one model: median {statistics.median(v):.3f} [{min(v):.3f}, {max(v):.3f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
