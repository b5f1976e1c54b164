"""The evaluation verb: forced choice, task NLL and free-form judged evals of a base or adapter, with ablation."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.config import EvalConfig
from ..evaluation.judges import make_judge
from ..evaluation.organisms import load_organism
from ..evaluation.suite import ablated, evaluate, spec_for_file
from ..identification.choose import parse_indices
from ..io import write_json
from ..model.adapters import load_model
from ..model.models import DEFAULT_BASE
from .common import command, print_json, resolve_adapter_base

# ---------------------------------------------------------------- eval (forced choice, task NLL, free-form)


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base", default=None, help="base alias, folder, .gguf or hub id (default: the adapter's, else smollm2-135m)"
    )
    p.add_argument("--adapter", default=None, help="PEFT LoRA adapter folder to evaluate (default: the base alone)")
    p.add_argument(
        "--ablate", default=None, metavar="FACTORS", help="factors file: ablate span(Z) from the stream at inference"
    )
    p.add_argument("--select", default=None, help="comma-separated factor indices to ablate, e.g. 0,1")
    p.add_argument("--top", type=int, default=None, help="ablate the first K factors of the file")
    p.add_argument(
        "--evals",
        nargs="+",
        default=None,
        metavar="FILE",
        help="eval files: forced-choice JSONL, chat JSONL (NLL), question YAML",
    )
    p.add_argument(
        "--organism", default=None, help="run an organism's standard evals (persona, political, flattery or a folder)"
    )
    p.add_argument("--judge", default=None, choices=["openai", "local"], help="judge for free-form questions")
    p.add_argument(
        "--judge-url", default=None, help="OpenAI-compatible base URL (env GRASP_JUDGE_URL); key from $OPENAI_API_KEY"
    )
    p.add_argument("--judge-model", default=None, help="judge model name (env GRASP_JUDGE_MODEL)")
    p.add_argument("--judge-base", default="smollm2-135m", help="local judge: base alias or folder")
    p.add_argument("--batch-size", type=int, default=8, help="sequences per forward pass")
    p.add_argument("--max-new-tokens", type=int, default=128, help="free-form answer length")
    p.add_argument("--seed", type=int, default=0, help="bootstrap and sampling seed")
    p.add_argument("--out", default=None, help="write the full results to this JSON file (atomically)")
    p.add_argument("--json", action="store_true", help="print JSON instead of lines")


@command(
    "eval",
    "Evaluate a base or adapter: forced choice, task NLL, free-form judged; optional factor ablation.",
    _eval_args,
)
def run_eval(ns: argparse.Namespace) -> int:
    if bool(ns.evals) == bool(ns.organism):
        raise GraspError("give either --evals FILE... or --organism NAME")
    if (ns.select or ns.top is not None) and not ns.ablate:
        raise GraspError("--select / --top choose factors to ablate: add --ablate FACTORS")
    if ns.select and ns.top is not None:
        raise GraspError("give --select or --top, not both")
    select = list(parse_indices(ns.select)) if ns.select else None
    config = EvalConfig(batch_size=ns.batch_size, seed=ns.seed)
    specs = load_organism(ns.organism).eval_specs() if ns.organism else [spec_for_file(f) for f in ns.evals]
    if ns.organism and ns.judge is None:
        skipped = [s.name for s in specs if s.kind == "free_form"]
        specs = [s for s in specs if s.kind != "free_form"]
        if skipped:
            print(f"note: skipping {', '.join(skipped)} (free-form needs --judge openai | local)", file=sys.stderr)
    if ns.adapter and not (Path(ns.adapter) / "adapter_config.json").is_file():
        raise GraspError(f"{ns.adapter}: not a PEFT adapter folder (no adapter_config.json)")
    base = resolve_adapter_base(ns.adapter, ns.base) if ns.adapter else (ns.base or DEFAULT_BASE)
    bm = load_model(base, ns.adapter)
    model = bm.model
    judge = None
    if ns.judge == "openai":
        judge = make_judge("openai", url=ns.judge_url, model=ns.judge_model)
    elif ns.judge == "local":
        judge = make_judge("local", base=ns.judge_base)
    about: dict[str, Any] = {
        "base": base,
        "adapter": ns.adapter,
        "ablate": ns.ablate,
        "judge": judge.name if judge else None,
    }
    used: list[list[str]] = []

    @contextlib.contextmanager
    def intervene() -> Any:
        with ablated(model, ns.ablate, base, select, ns.top) as ids:
            used.append(ids)
            yield

    report = evaluate(
        model, bm.tokenizer, specs, config, judge, ns.max_new_tokens, about, intervene if ns.ablate else None
    )
    if used:
        about["ablated"] = used[0]
    if ns.out:
        write_json(ns.out, report.to_dict())
    if ns.json:
        print_json(report.to_dict())
    else:
        print(
            f"model: base {base}"
            + (f", adapter {ns.adapter}" if ns.adapter else "")
            + (f", ablating {', '.join(about.get('ablated', []))}" if ns.ablate else "")
        )
        for line in report.lines():
            print(line)
    if report.errors:
        print(f"error: {len(report.errors)} eval(s) failed; the others' results are above", file=sys.stderr)
        return 2
    return 0
