"""Log-prob evaluation with and without prefix sharing (EvalConfig.share_prefixes) on the bundled model with an
organism's naive LoRA, on its log-prob measures (the reported files), the two variants alternated in one process (A B A B ...).

    .venv/bin/python bench/prefix_sharing.py [--organism persona] [--rounds 3] [--batch-size 8]

Each round times both variants over every forced-choice and task-NLL file (order swapped every round) and prints
their ratio; the table gives the median ratio with its min and max over rounds, the tokens each variant forwards,
and the largest difference of any item's score between the two (they compute the same log-probs; float rounding
differs).
"""

from __future__ import annotations

import argparse
import statistics
import time

from grasp_core.evaluation.completions import completion_logprobs, forwarded_tokens
from grasp_core.evaluation.config import EvalConfig
from grasp_core.evaluation.eval_files import load_choice_items, load_nll_items
from grasp_core.evaluation.organisms import Organism, load_organism
from grasp_core.model.adapters import load_model

Pairs = list[tuple[list[dict[str, str]], str]]


def _pairs(org: Organism) -> list[tuple[str, Pairs]]:
    """(measure, (prompt, completion) pairs) of each log-prob measure, as forced_choice and task_nll score them."""
    out = []
    for spec in org.eval_specs():
        if spec.kind == "choice":
            items, _options = load_choice_items(spec.file)
            out.append((spec.name, [(it.messages, c) for it in items for c in (*it.first, *it.second)]))
        elif spec.kind == "nll":
            out.append((spec.name, [(m, a) for _id, m, a in load_nll_items(spec.file)]))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--organism", default="persona")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--base", default="smollm2-135m")
    args = p.parse_args()
    org = load_organism(args.organism)
    bm = load_model(args.base, org.naive_adapter)
    work = _pairs(org)
    print(
        f"{args.organism}: measures {', '.join(name for name, _p in work)} with its naive LoRA, batch size "
        f"{args.batch_size}, {bm.model.device}"
    )
    for shared in (False, True):
        config = EvalConfig(share_prefixes=shared)
        n = sum(forwarded_tokens(bm.tokenizer, pairs, config) for _name, pairs in work)
        print(f"tokens forwarded, share_prefixes={shared}: {n}")
    times: dict[bool, list[float]] = {False: [], True: []}
    scores: dict[bool, list[float]] = {}
    completion_logprobs(bm.model, bm.tokenizer, work[0][1][:8], EvalConfig(batch_size=args.batch_size))  # warm-up
    for r in range(args.rounds):
        for shared in (False, True) if r % 2 == 0 else (True, False):
            config = EvalConfig(batch_size=args.batch_size, share_prefixes=shared)
            t0 = time.perf_counter()
            scores[shared] = [
                v for _name, pairs in work for v in completion_logprobs(bm.model, bm.tokenizer, pairs, config)
            ]
            times[shared].append(time.perf_counter() - t0)
        print(
            f"round {r + 1}: plain {times[False][-1]:.1f} s, shared {times[True][-1]:.1f} s, "
            f"ratio {times[False][-1] / times[True][-1]:.2f}x",
            flush=True,
        )
    ratios = [a / b for a, b in zip(times[False], times[True], strict=True)]
    diff = max(abs(a - b) for a, b in zip(scores[False], scores[True], strict=True))
    print(
        f"plain / shared: median {statistics.median(ratios):.2f}x [{min(ratios):.2f}, {max(ratios):.2f}] over "
        f"{args.rounds} rounds; largest |difference| of a summed log-prob: {diff:.2e} nats"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
