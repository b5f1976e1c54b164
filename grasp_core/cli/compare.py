"""The compare verb: what the base, adapters and finished runs say to the same prompts, side by side (greedy and
seeded samples, one model loaded at a time), exported as Markdown or HTML; and where two of them differ token by
token (per-token KL)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..comparison.export import FORMATS, export
from ..comparison.kl import model_kl
from ..comparison.lineup import lineup
from ..comparison.transcript import (
    CompareConfig,
    Transcript,
    compare_replies,
    load_prompts,
    organism_questions,
    prompt_text,
    typed_prompts,
)
from ..errors import GraspError
from ..model.models import DEFAULT_BASE
from .common import command, print_json


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--models",
        required=True,
        help="comma-separated: base, adapter folders and run ids (`grasp runs`), each optionally NAME@s to scale "
        "its adapter by s in [-1, 3] (1 = as trained, 0 = the base, -1 = inverted)",
    )
    p.add_argument("--base", default=DEFAULT_BASE, help=f"base alias, folder or hub id (default {DEFAULT_BASE})")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompts", default=None, help="prompt file: JSONL (prompt / messages / text) or one a line")
    src.add_argument("--organism", default=None, help="ask an organism's unrelated questions (its replies.jsonl)")
    src.add_argument("--prompt", action="append", default=None, help="a prompt typed here (repeatable)")
    p.add_argument("--n-prompts", type=int, default=4, help="the first N prompts of the file (default 4)")
    p.add_argument("--max-new-tokens", type=int, default=64, help="tokens per reply (default 64)")
    p.add_argument("--samples", type=int, default=1, help="sampled replies per prompt besides greedy (default 1)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1)")
    p.add_argument("--seed", type=int, default=0, help="prompt i is sampled from seed + i for every model")
    p.add_argument("--kl", default=None, metavar="TEXT", help="also the per-token KL of the first two models on TEXT")
    p.add_argument("--out", default=None, help="write the comparison to this .md or .html file (atomically)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _prompts(ns: argparse.Namespace) -> list[list[dict[str, str]]]:
    if ns.n_prompts < 1:
        raise GraspError(f"--n-prompts must be at least 1, got {ns.n_prompts}")
    if ns.prompt is not None:
        return typed_prompts(ns.prompt)
    path = Path(ns.prompts) if ns.prompts else organism_questions(ns.organism)
    return load_prompts(path, limit=ns.n_prompts)


@command("compare", "What the base, adapters and finished runs say to the same prompts, side by side.", _args)
def run_compare(ns: argparse.Namespace) -> int:
    # Everything is checked before any weights load: models, prompts, settings and where the export goes (the
    # prompts' lengths by compare_replies, before it loads the first model).
    config = CompareConfig(
        max_new_tokens=ns.max_new_tokens, samples=ns.samples, temperature=ns.temperature, seed=ns.seed
    )
    models = lineup(ns.models.split(","), ns.base)
    chats = _prompts(ns)
    if ns.kl is not None and len(models) < 2:
        raise GraspError("--kl compares the first two models: name at least two in --models")
    if ns.out:
        out = Path(ns.out)
        if out.suffix.lstrip(".").lower() not in FORMATS or not out.parent.is_dir():
            raise GraspError(f"--out {out}: give a .md or .html file in a folder that exists")
    t = Transcript(ns.base, [m.label for m in models], chats, config)
    for r in compare_replies(models, ns.base, chats, config, progress=not ns.json):
        t.replies.append(r)
        if not ns.json:
            print(f"[{r.model} · {r.kind}] {prompt_text(chats[r.prompt])[:60]}\n    {' '.join(r.text.split())}")
    result: dict[str, Any] = t.to_dict()
    if ns.kl is not None:
        kl = model_kl(models[0], models[1], ns.base, ns.kl)
        result["kl"] = {"p": models[0].label, "q": models[1].label, "tokens": kl.tokens, "kl": kl.kl}
        if not ns.json:
            print(f"per-token KL({models[0].label} || {models[1].label}), largest first:")
            for pos, token, value in kl.top(10):
                print(f"  {pos:4d} {token!r:>16} {value:.4f}")
    if ns.out:
        export(t, ns.out)
        if not ns.json:
            print(f"wrote {ns.out}")
    if ns.json:
        print_json(result)
    return 0
