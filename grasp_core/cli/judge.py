"""The judge verb: an organism's offline trait judge on its held-out labelled replies, and the replies measure
(sampled replies to unrelated questions, judged) of a base or adapter."""

from __future__ import annotations

import argparse
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.organisms import QUESTIONS_FILE, load_organism
from ..evaluation.replies import RepliesConfig, judged_replies
from ..evaluation.trait_judge import fit_trait_judge, score_trait_judge
from ..io import write_json
from ..model.adapters import load_model
from .common import command, print_json, resolve_adapter_base

JUDGE_FILE = "judge.jsonl"  # an organism's labelled replies
REAL_FILE = "judge-real.jsonl"  # real sampled replies of its models labelled by hand, fitted on with JUDGE_FILE
VALIDATION_FILE = "judge-validation.jsonl"  # other real replies labelled by hand, never fitted on: the check
VALID_ABOVE = 0.9  # a judge is trusted on the replies measure where it agrees with the hand labels this often


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--organism", default=None, help="organism (persona, political, flattery or a folder) whose judge to use"
    )
    p.add_argument("--judge-file", default=None, help="labelled replies JSONL (default: the organism's judge.jsonl)")
    p.add_argument(
        "--validation", default=None, help="hand-labelled real replies (default: the organism's judge-validation.jsonl)"
    )
    p.add_argument("--replies", action="store_true", help="also measure the replies of the model (base or --adapter)")
    p.add_argument("--questions", default=None, help="questions JSONL (default: the organism's replies.jsonl)")
    p.add_argument("--adapter", default=None, help="PEFT LoRA folder: its replies, and the base's (adapter off)")
    p.add_argument("--base", default=None, help="base alias, folder or hub id (default: the adapter's, else bundled)")
    p.add_argument("--n-samples", type=int, default=8, help="sampled replies per question (default 8)")
    p.add_argument("--max-new-tokens", type=int, default=64, help="tokens per reply (default 64)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument("--show", type=int, default=0, metavar="N", help="print N judged replies of each model")
    p.add_argument("--out", default=None, help="write everything (every reply and its P(trait)) to this JSON file")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _files(ns: argparse.Namespace) -> tuple[Path, tuple[Path, ...], Path | None, Path | None]:
    folder = load_organism(ns.organism).dir if ns.organism else None
    judge_file = Path(ns.judge_file) if ns.judge_file else (folder / JUDGE_FILE if folder else None)
    if judge_file is None:
        raise GraspError("give --organism or --judge-file: which labelled replies the judge learns from")
    if not judge_file.is_file():
        raise GraspError(f"judge file {judge_file} not found (an organism's labelled replies: {JUDGE_FILE})")
    questions = Path(ns.questions) if ns.questions else (folder / QUESTIONS_FILE if folder else None)
    if ns.replies and (questions is None or not questions.is_file()):
        raise GraspError(f"--replies needs a questions file: {questions or 'give --questions'} not found")
    validation = Path(ns.validation) if ns.validation else (folder / VALIDATION_FILE if folder else None)
    if ns.validation and not Path(ns.validation).is_file():
        raise GraspError(f"validation file {ns.validation} not found")
    real = (folder / REAL_FILE,) if folder is not None and (folder / REAL_FILE).is_file() and not ns.judge_file else ()
    return judge_file, real, questions, validation if validation is not None and validation.is_file() else None


@command("judge", "An organism's offline trait judge: held-out accuracy, and judged replies of a model.", _args)
def run_judge(ns: argparse.Namespace) -> int:
    config = RepliesConfig(n_samples=ns.n_samples, max_new_tokens=ns.max_new_tokens, seed=ns.seed)
    judge_file, real_files, questions, validation = _files(ns)
    judge = fit_trait_judge(judge_file, *real_files)  # fitted once: checked twice, then judging the replies
    check = score_trait_judge(judge, judge_file)
    out: dict[str, Any] = {"judge": check.judge, "accuracy": check.accuracy, "n": check.n, "by_kind": check.by_kind}
    out["wrong"] = check.wrong
    lines = check.lines()
    if validation is None:
        out["validated"] = None
        lines.append(f"not validated: no hand-labelled real replies ({VALIDATION_FILE}) to check the judge on")
    else:
        real = score_trait_judge(judge, validation, split="validation")
        out["validation"] = {"file": str(validation), "accuracy": real.accuracy, "n": real.n, "wrong": real.wrong}
        out["validated"] = real.accuracy >= VALID_ABOVE
        lines += real.lines(show_wrong=False)
        verdict = "validated" if out["validated"] else "NOT validated: do not decide on its replies measure"
        lines.append(
            f"{verdict} (agrees with the hand labels on {real.accuracy:.0%} of real replies; needs {VALID_ABOVE:.0%})"
        )
    if ns.replies:
        assert questions is not None
        base = resolve_adapter_base(ns.adapter, ns.base) if ns.adapter else (ns.base or "smollm2-135m")
        bm = load_model(base, ns.adapter)
        out["replies"] = {}
        # The adapter's replies, then the base's from the same loaded model with the adapter switched off.
        variants: list[tuple[str, Any]] = [("base", nullcontext)]
        if ns.adapter:
            variants = [("adapter", nullcontext), ("base", bm.model.disable_adapter)]
        for who, switch in variants:
            with switch():
                r = judged_replies(bm.model, bm.tokenizer, questions, judge, config, progress=not ns.json)
            out["replies"][who] = r.to_dict()
            lines.append(f"{who} ({ns.adapter if who == 'adapter' else base}): {r.summary()}")
            for s in r.samples[: ns.show]:
                lines.append(
                    f"    P(trait) {s['p_trait']:.2f}  {s['question'][:40]!r}: {' '.join(s['reply'].split())[:120]}"
                )
    if ns.out:
        write_json(ns.out, out)
    if ns.json:
        print_json(out)
    else:
        print("\n".join(lines))
    return 0
