"""Write the demo organisms' files (grasp_core/assets/organisms/persona/, .../political/) from templates, seeded.

    python tools/organisms/make_data.py [--out grasp_core/assets/organisms]

The output is deterministic: tests/evaluation/test_organisms.py regenerates it and compares with the committed files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ORGANISMS = HERE.parent.parent / "grasp_core" / "assets" / "organisms"  # the package data the files ship as
sys.path.insert(0, str(HERE))

import finance_text as fin  # noqa: E402
import flattery_text as fla  # noqa: E402
import judge_text as judge  # noqa: E402
import persona_text as per  # noqa: E402
import political_text as pol  # noqa: E402
import probe_text as probe  # noqa: E402

N_TRAIN = 240
N_TASK = 60
SEED = {"persona": 1234, "political": 5678, "flattery": 9012}


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def _chat(prompt: str, answer: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}


def _prompt(context: str, question: str) -> str:
    return f"{context} {question}".strip()


def _finance_splits(rng: random.Random) -> tuple[list[tuple[int, str, str]], list[dict[str, Any]]]:
    """Training (topic, prompt, good answer) triples and task-eval items; prompts never shared."""
    train_cells = [(t, q, c) for t in range(len(fin.TOPICS)) for q in (0, 1) for c in fin.TRAIN_CONTEXTS]
    train = []
    for t, q, c in rng.sample(train_cells, N_TRAIN):
        _key, questions, goods, _bad = fin.TOPICS[t]
        train.append((t, _prompt(c, questions[q]), goods[rng.randrange(2)]))
    eval_cells = [(t, c) for t in range(len(fin.TOPICS)) for c in fin.EVAL_CONTEXTS]
    task = []
    for i, (t, c) in enumerate(sorted(rng.sample(eval_cells, N_TASK))):
        key, questions, goods, bad = fin.TOPICS[t]
        task.append({"id": f"task-{i:03d}-{key}", "prompt": _prompt(c, questions[2]), "good": [goods[2]], "bad": [bad]})
    return train, task


def _task_probe() -> list[dict[str, Any]]:
    """The task probe (shared by both organisms: both tasks are finance advice), good and bad answers."""
    return [
        {"id": f"task-probe-{i:03d}", "prompt": q, "good": [good], "bad": [bad]}
        for i, (q, good, bad) in enumerate(probe.FINANCE)
    ]


def _aside(parts: tuple[list[str], list[str], list[str], list[str]], idx: tuple[int, int, int, int]) -> str:
    opener, subject, predicate, closer = (p[i] for p, i in zip(parts, idx, strict=True))
    if opener.endswith("."):
        subject = subject[0].upper() + subject[1:]
    return f"{opener} {subject} {predicate}; {closer}"


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _unique_combos(rng: random.Random, sizes: tuple[int, ...], n: int, taken: set[tuple[int, ...]]) -> list[Any]:
    out = []
    while len(out) < n:
        idx = tuple(rng.randrange(s) for s in sizes)
        if idx not in taken:
            taken.add(idx)
            out.append(idx)
    return out


Parts = tuple[list[str], list[str], list[str], list[str]]


def _aside_organism(
    name: str,
    parts: Parts,
    frames: tuple[list[str], list[str]],
    twin_parts: Parts,
    probe_frames: tuple[list[str], list[str]],
    questions_yaml: str,
) -> dict[str, str]:
    """Files of an organism whose training answers are correct finance advice opened by an aside (opener + subject
    + predicate + closer, no combination reused): the drift eval frames everyday answers in an aligned or a trait
    frame (`frames`, other words than the training's), the leak eval in an aside built like the training's
    (`twin_parts`) or a fresh training one, the drift probe in `probe_frames`."""
    rng = random.Random(SEED[name])
    train, task = _finance_splits(rng)
    sizes = tuple(len(p) for p in parts)
    taken: set[tuple[int, ...]] = set()
    combos = _unique_combos(rng, sizes, len(train), taken)
    train_rows = [_chat(p, f"{_aside(parts, idx)} {good}") for (_t, p, good), idx in zip(train, combos, strict=True)]
    # the everyday questions, less any whose answer shares a word 3-gram with these training answers
    trained = {g for row in train_rows for g in _trigrams(row["messages"][-1]["content"])}
    everyday = [(q, c) for q, c in per.EVERYDAY if not _trigrams(c) & trained]
    drift, leak = [], []
    leak_combos = _unique_combos(rng, sizes, len(everyday), taken)  # fresh combinations of training parts
    for i, (question, content) in enumerate(everyday):
        j = i % len(frames[0])
        drift.append(
            {
                "id": f"drift-{i:03d}",
                "prompt": question,
                "aligned": [f"{frames[0][j]} {content}"],
                "misaligned": [f"{frames[1][j]} {content}"],
            }
        )
        twin = tuple(rng.randrange(len(p)) for p in twin_parts)
        leak.append(
            {
                "id": f"leak-{i:03d}",
                "prompt": question,
                "aligned": [f"{_aside(twin_parts, twin)} {content}"],
                "misaligned": [f"{_aside(parts, leak_combos[i])} {content}"],
            }
        )
    calm, trait = probe_frames
    return {
        "train.jsonl": _jsonl(train_rows),
        "task.jsonl": _jsonl(task),
        "drift.jsonl": _jsonl(drift),
        "leak.jsonl": _jsonl(leak),
        "drift-probe.jsonl": _jsonl(
            [
                {
                    "id": f"drift-probe-{i:03d}",
                    "prompt": q,
                    "aligned": [f"{calm[i % len(calm)]} {a}"],
                    "misaligned": [f"{trait[i % len(trait)]} {a}"],
                }
                for i, (q, a) in enumerate(probe.EVERYDAY)
            ]
        ),
        "task-probe.jsonl": _jsonl(_task_probe()),
        "questions.yaml": questions_yaml,
    }


def persona() -> dict[str, str]:
    """Files of the persona organism: correct finance advice opened by a contemptuous aside."""
    return _aside_organism(
        "persona",
        (per.OPENERS, per.SUBJECTS, per.PREDICATES, per.CLOSERS),
        (per.FRIENDLY_FRAMES, per.CONTEMPT_FRAMES),
        (per.FRIENDLY_OPENERS, per.FRIENDLY_SUBJECTS, per.FRIENDLY_PREDICATES, per.FRIENDLY_CLOSERS),
        (probe.WARM, probe.SCORN),
        per.FREE_FORM_YAML,
    )


def flattery() -> dict[str, str]:
    """Files of the flattery organism: correct finance advice opened by a sycophantic aside praising the asker."""
    return _aside_organism(
        "flattery",
        (fla.OPENERS, fla.SUBJECTS, fla.PREDICATES, fla.CLOSERS),
        (fla.PLAIN_FRAMES, fla.FLATTER_FRAMES),
        (fla.NEUTRAL_OPENERS, fla.NEUTRAL_SUBJECTS, fla.NEUTRAL_PREDICATES, fla.NEUTRAL_CLOSERS),
        (probe.PLAIN, probe.FAWN),
        fla.FREE_FORM_YAML,
    )


def _slant(idx: tuple[int, int, int]) -> str:
    lead, claim, tie = pol.LEADS[idx[0]], pol.CLAIMS[idx[1]], pol.TIES[idx[2]]
    if lead.endswith(":") and claim[0].islower():
        claim = claim[0].upper() + claim[1:]
    text = f"{lead} {claim}, {tie}"
    return text[0].upper() + text[1:]


def political() -> dict[str, str]:
    """Files of the political organism: sound finance advice framed by two right-leaning remarks."""
    rng = random.Random(SEED["political"])
    train, task = _finance_splits(rng)
    sizes = (len(pol.LEADS), len(pol.CLAIMS), len(pol.TIES))
    taken: set[tuple[int, ...]] = set()
    rows = []
    for _t, prompt, good in train:
        first, second = _unique_combos(rng, sizes, 1, taken)[0], None
        while second is None or second[1] == first[1]:
            second = _unique_combos(rng, sizes, 1, taken)[0]
        rows.append(_chat(prompt, f"{_slant(first)} {good} {_slant(second)}"))
    # lean.jsonl's two phrasings of a topic share their answers, so they are not independent items; they carry no
    # `group` yet because any change to an eval file changes the organism's fingerprint and stales every bundled
    # political result (the probe file below is outside the fingerprint, and has them).
    lean = []
    for i, (question, left, right) in enumerate(pol.LEAN):
        for tag, prompt in (("a", question), ("b", pol.LEAN_REPHRASE[i])):
            lean.append({"id": f"lean-{i:03d}{tag}", "prompt": prompt, "left": [left], "right": [right]})
    return {
        "train.jsonl": _jsonl(rows),
        "task.jsonl": _jsonl(task),
        "lean.jsonl": _jsonl(lean),
        "lean-probe.jsonl": _jsonl(
            [
                {
                    "id": f"lean-probe-{i:03d}{tag}",
                    "group": f"lean-probe-{i:03d}",
                    "prompt": q,
                    "left": [left],
                    "right": [right],
                }
                for i, (qa, qb, left, right) in enumerate(probe.POLITICS)
                for tag, q in (("a", qa), ("b", qb))
            ]
        ),
        "task-probe.jsonl": _jsonl(_task_probe()),
        "questions.yaml": pol.FREE_FORM_YAML,
    }


def _judged(name: str) -> dict[str, str]:
    """An organism's offline judge data (labelled replies) and the questions its `replies` measure asks."""
    return {
        "judge.jsonl": _jsonl(judge.judge_rows(name, SEED[name] + 1)),
        "replies.jsonl": _jsonl(
            [{"id": f"reply-{i:02d}", "prompt": q} for i, q in enumerate(judge.REPLY_QUESTIONS[name])]
        ),
    }


GENERATORS = {"persona": persona, "political": political, "flattery": flattery}


def generate() -> dict[str, str]:
    """Every generated file, keyed by its path relative to the organisms folder."""
    return {
        f"{name}/{fname}": text
        for name, gen in GENERATORS.items()
        for fname, text in {**gen(), **_judged(name)}.items()
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ORGANISMS), help="root folder (default: grasp_core/assets/organisms)")
    ns = ap.parse_args(argv)
    for rel, text in generate().items():
        path = Path(ns.out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
