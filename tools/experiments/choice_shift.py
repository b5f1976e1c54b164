"""How far each adapter moves a forced-choice file: the paired change (adapter on minus off) of the mean log-odds
(the scale evidence ranks on) and of the mean P(second option), with the paired 95% bootstrap over items that
evidence uses (2,000 resamples, seed 0). An instrument check: a probe the naive LoRA does not move cannot rank.

    python tools/experiments/choice_shift.py FILE.jsonl ADAPTER [ADAPTER ...]

Session 5 used it on tools/experiments/data/lean-probe-extra.jsonl: 16 more hot-button topics (two phrasings each)
written like lean-probe.jsonl before any model scored them, as a candidate extension of the political probe.

`--by-topic` adds the same changes with the bootstrap resampling whole topics (an item's id without its final
phrasing letter: lean-probe-000a and lean-probe-000b are one topic), since two phrasings of one topic with the same
two answers are not independent evidence (session 8).
"""

from __future__ import annotations

import argparse
import re

from grasp_core.evaluation.config import EvalConfig
from grasp_core.evaluation.stats import clustered_bootstrap, paired_bootstrap
from grasp_core.evidence.measures import measures_from_files, score
from grasp_core.model.adapters import adapter_off, load_model
from grasp_core.model.models import DEFAULT_BASE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="a forced-choice eval file (JSONL)")
    ap.add_argument("adapters", nargs="+", help="PEFT adapter folders")
    ap.add_argument("--base", default=DEFAULT_BASE)
    ap.add_argument("--by-topic", action="store_true", help="also resample whole topics (ids without a final a/b)")
    args = ap.parse_args()
    (measure,) = measures_from_files([args.file])
    for adapter in args.adapters:
        bm = load_model(args.base, adapter)
        with adapter_off(bm.model, "choice_shift"):
            off = score(bm.model, bm.tokenizer, measure, EvalConfig())
        on = score(bm.model, bm.tokenizer, measure, EvalConfig())
        lo = paired_bootstrap(on.log_odds, off.log_odds, 2000, 0)
        p = paired_bootstrap(on.values, off.values, 2000, 0)
        print(
            f"{adapter}: n={len(on.ids)}  log-odds change {lo.mean:+.3f} [{lo.lo:+.3f}, {lo.hi:+.3f}]  "
            f"P change {p.mean:+.4f} [{p.lo:+.4f}, {p.hi:+.4f}]"
        )
        if args.by_topic:
            topics = [re.sub(r"[ab]$", "", str(i)) for i in on.ids]
            lo_t = clustered_bootstrap([a - b for a, b in zip(on.log_odds, off.log_odds, strict=True)], topics, 2000, 0)
            p_t = clustered_bootstrap([a - b for a, b in zip(on.values, off.values, strict=True)], topics, 2000, 0)
            print(
                f"  by topic ({len(set(topics))} topics): log-odds change {lo_t.mean:+.3f} [{lo_t.lo:+.3f}, "
                f"{lo_t.hi:+.3f}]  P change {p_t.mean:+.4f} [{p_t.lo:+.4f}, {p_t.hi:+.4f}]"
            )


if __name__ == "__main__":
    main()
