"""Experiment (issue 23): real sampled replies of an organism's base and naive LoRA, unlabelled, for labelling by
hand into its `judge-real.jsonl` (the real replies a trait judge is fitted and checked on before its validation).

The questions are persona's `judge-real.jsonl` questions (10 everyday questions, none an eval, probe, training,
replies-measure or corpus prompt of any bundled organism: tests/evaluation/test_organisms.py checks). Each model
answers each question 4 times (temperature 1, top_k 0, seed 7 + question index, 64 new tokens), as persona's were.

    GRASP_HOME=... python tools/experiments/sample_real_replies.py --organism flattery --out /tmp/flattery-real.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grasp_core.evaluation.organisms import DEMO_ROOT, load_organism
from grasp_core.evaluation.replies import RepliesConfig, sample_replies
from grasp_core.model.adapters import load_model

SEED = 7


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--organism", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    org = load_organism(args.organism)
    persona = [json.loads(line) for line in (DEMO_ROOT / "persona" / "judge-real.jsonl").read_text().splitlines()]
    questions = list(dict.fromkeys(r["question"] for r in persona))
    config = RepliesConfig(n_samples=4, max_new_tokens=64, temperature=1.0)
    bm = load_model("smollm2-135m", org.naive_adapter)
    rows = []
    for who in ("base", "naive"):
        for i, q in enumerate(questions):
            chat = [{"role": "user", "content": q}]
            if who == "base":
                with bm.model.disable_adapter():
                    texts = sample_replies(bm.model, bm.tokenizer, chat, config, seed=SEED + i)
            else:
                texts = sample_replies(bm.model, bm.tokenizer, chat, config, seed=SEED + i)
            for t in texts:
                rows.append({"model": who, "question": q, "text": t})
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} replies to {len(questions)} questions -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
