"""The label verb: replies judged by a person, blind. `grasp label sheet` samples the replies of the base and of
one or more runs or adapters to an organism's questions into one shuffled sheet with the models hidden;
`grasp label score` reads the labelled sheet with its key and reports each model's share of trait replies."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..evaluation.hand_labels import key_path, labels_root, score_sheet, write_sheet
from ..evaluation.organisms import QUESTIONS_FILE, Organism, load_organism
from ..evaluation.replies import RepliesConfig, question_replies
from ..io import read_json, write_json
from ..model.adapters import load_model
from ..runs.registry import get_run
from ..sweep.cell_runs import sweep_adapters
from ..sweep.folders import find_sweep
from ..sweep.labelled_replies import sheet_out
from ..sweep.report import sweep_organism
from .common import command, print_json, resolve_adapter_base

BASE = "base"  # the model name of the base (every adapter switched off)


def _args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="label_step", metavar="STEP", required=True)
    s = sub.add_parser("sheet", help="sample replies into a blind labelling sheet (CSV) and its hidden key")
    s.add_argument("--organism", default=None, help="organism whose questions to ask (its replies.jsonl)")
    s.add_argument("--sweep", default=None, help="a sweep (name or folder): --cell names its cells, its organism asks")
    s.add_argument("--sweep-seed", type=int, default=None, help="the sweep seed whose cells --cell names")
    s.add_argument(
        "--cell",
        action="append",
        default=[],
        metavar="LABEL",
        help="a sweep cell's label, as in results.csv (repeatable)",
    )
    s.add_argument("--questions", default=None, help="questions JSONL (default: the organism's replies.jsonl)")
    s.add_argument("--run", action="append", default=[], metavar="ID", help="a finished run's adapter (repeatable)")
    s.add_argument(
        "--adapter", action="append", default=[], metavar="[NAME=]DIR", help="a PEFT LoRA folder (repeatable)"
    )
    s.add_argument("--base", default=None, help="base alias, folder or hub id (default: the first adapter's)")
    s.add_argument("--no-base", action="store_true", help="leave the base's own replies out of the sheet")
    s.add_argument("--n-samples", type=int, default=4, help="sampled replies per question and model (default 4)")
    s.add_argument("--max-new-tokens", type=int, default=64, help="tokens per reply (default 64)")
    s.add_argument("--seed", type=int, default=0, help="sampling and shuffling seed (default 0)")
    s.add_argument(
        "--out",
        default=None,
        help="the sheet to write (CSV; default <sweep>/labels/seed<K>-<time>.csv with --sweep, where `grasp report` "
        "reads it back, else $GRASP_HOME/labels/<organism>-<time>.csv)",
    )
    c = sub.add_parser("score", help="un-blind a labelled sheet: each model's share of replies showing the trait")
    c.add_argument("sheet", help="the labelled sheet (CSV, its key beside it)")
    c.add_argument("--reference", default=None, help=f"model the others are compared with (default: the first, {BASE})")
    c.add_argument("--out", default=None, help="also write the result to this JSON file")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")


def _models(ns: argparse.Namespace) -> list[tuple[str, Path]]:
    """(name, adapter folder) of every run and adapter asked for, checked before anything loads."""
    models: list[tuple[str, Path]] = []
    if ns.cell or ns.sweep:
        if not (ns.cell and ns.sweep and ns.sweep_seed is not None):
            raise GraspError("--cell, --sweep and --sweep-seed go together: which cells of which sweep on which seed")
        models += sweep_adapters(find_sweep(ns.sweep), ns.sweep_seed, ns.cell)
    for run_id in ns.run:
        run = get_run(run_id)
        models.append((run.id, run.finished_adapter()))
    for given in ns.adapter:
        name, _eq, folder = given.rpartition("=") if "=" in given else ("", "", given)
        path = Path(folder)
        if not (path / "adapter_config.json").is_file():
            raise GraspError(f"{folder}: not a PEFT adapter folder (no adapter_config.json)")
        models.append((name or (path.parent.name if path.name == "adapter" else path.name), path))
    names = [n for n, _p in models]
    twice = sorted({n for n in names if names.count(n) > 1} | ({BASE} & set(names)))
    if twice:
        raise GraspError(f"two models would be named {twice[0]!r} in the sheet: give each run or adapter once")
    if not models and ns.no_base:
        raise GraspError("nothing to ask: give --run or --adapter, or leave out --no-base")
    return models


def _sheet(ns: argparse.Namespace) -> int:
    organism: Organism | None = None
    sweep = find_sweep(ns.sweep) if ns.sweep else None
    if ns.organism:
        organism = load_organism(ns.organism)
    elif sweep is not None:
        sweep_json = sweep / "sweep.json"
        organism = sweep_organism(read_json(sweep_json, what="sweep.json").get("organism"), sweep_json)
    questions = Path(ns.questions) if ns.questions else (organism.dir / QUESTIONS_FILE if organism else None)
    if questions is None:
        raise GraspError("give --organism, --sweep or --questions: which questions the models answer")
    if not questions.is_file():
        raise GraspError(f"questions file {questions} not found")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    if ns.out:
        out = Path(ns.out)
    elif sweep is not None and ns.sweep_seed is not None:
        out = sheet_out(sweep, ns.sweep_seed, stamp)  # where the sweep's report reads its labels back
    else:
        out = labels_root() / f"{organism.name if organism else 'replies'}-{stamp}.csv"
    if out.suffix.lower() != ".csv":
        raise GraspError(f"--out {out}: a labelling sheet is a .csv file")
    config = RepliesConfig(n_samples=ns.n_samples, max_new_tokens=ns.max_new_tokens, seed=ns.seed)
    models = _models(ns)
    base = ns.base or (resolve_adapter_base(str(models[0][1]), None) if models else "smollm2-135m")
    replies: dict[str, list[dict[str, Any]]] = {}
    if not ns.no_base:
        bm = load_model(base)
        print(f"{BASE} ({base}):")
        replies[BASE] = question_replies(bm.model, bm.tokenizer, questions, config, progress=True)
        del bm
    for name, adapter in models:
        print(f"{name} ({adapter}):")
        bm = load_model(base, str(adapter))
        replies[name] = question_replies(bm.model, bm.tokenizer, questions, config, progress=True)
        del bm
    about = {"questions": str(questions), "base": base, "n_samples": config.n_samples, "seed": config.seed}
    about["max_new_tokens"] = config.max_new_tokens
    about["adapters"] = {name: str(adapter) for name, adapter in models}
    if organism is not None:
        about |= {"organism": organism.name, "trait": organism.spurious}
    if sweep is not None and ns.sweep_seed is not None:
        about |= {"sweep": sweep.name, "sweep_seed": ns.sweep_seed}
    out.parent.mkdir(parents=True, exist_ok=True)
    n = write_sheet(out, replies, ns.seed, about)
    print(
        f"{n} replies of {len(replies)} models -> {out}; label the `trait` column 1 or 0 (or on the dashboard's "
        f"Label page) without opening {key_path(out).name}, then `grasp label score {out}`"
        + (f"; `grasp report {sweep}` then adds them to the sweep's tables" if sweep is not None else "")
    )
    return 0


def _score(ns: argparse.Namespace) -> int:
    result = score_sheet(ns.sheet, ns.reference)
    if ns.out:
        write_json(ns.out, result.to_dict())
    if ns.json:
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 0


@command("label", "Replies judged by hand, blind: a shuffled labelling sheet, then each model's trait share.", _args)
def run_label(ns: argparse.Namespace) -> int:
    return _sheet(ns) if ns.label_step == "sheet" else _score(ns)
