"""Cheap, deterministic evaluations: forced choice by log-probability, held-out task NLL, bootstrap intervals,
and inference-time ablation of factors around any of them. Free-form judged evals live in judges.py.

Forced-choice file (JSONL), one item a line:
    {"id": "drift-001", "prompt": "How do I ...?" | [messages], "aligned": ["..."], "misaligned": ["..."]}
The two side names are read from the file: aligned/misaligned, good/bad or left/right (SIDE_PAIRS); the score
of an item is the probability mass on the SECOND side (misaligned, bad, right).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from .data import check_messages, encode_chat, pad_batch
from .errors import GraspError
from .io import read_jsonl
from .models import next_token_logits

# (first side, second side): the score is P(second side). A file uses exactly one pair.
SIDE_PAIRS: tuple[tuple[str, str], ...] = (("aligned", "misaligned"), ("good", "bad"), ("left", "right"))


@dataclass(frozen=True)
class EvalConfig:
    """Options shared by the log-probability evals."""

    batch_size: int = 8  # sequences per forward pass
    max_length: int = 512  # tokens per prompt + completion; longer ones are an error, not silently cut
    n_boot: int = 2000  # bootstrap resamples for the 95% interval
    seed: int = 0  # bootstrap seed

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_length", "n_boot"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"EvalConfig `{name}` must be a positive integer, got {value!r}")


@dataclass
class Interval:
    """A mean with its seeded bootstrap 95% interval."""

    mean: float
    lo: float
    hi: float

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.lo:.4f}, {self.hi:.4f}]"


def bootstrap(values: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> Interval:
    """Mean of `values` and the percentile bootstrap interval over items (seeded, so reruns agree)."""
    if len(values) == 0:
        raise GraspError("bootstrap: no values to average")
    x = torch.tensor([float(v) for v in values], dtype=torch.float64)  # (n,)
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, len(x), (n_boot, len(x)), generator=gen)  # (n_boot, n)
    means = x[idx].mean(dim=1)  # (n_boot,)
    tail = (1.0 - level) / 2
    lo, hi = torch.quantile(means, torch.tensor([tail, 1.0 - tail], dtype=torch.float64)).tolist()
    return Interval(float(x.mean()), float(lo), float(hi))


# ---------------------------------------------------------------- forced choice


@dataclass
class ChoiceItem:
    """One forced-choice item: a prompt (chat messages) and the completions of each side."""

    id: str
    messages: list[dict[str, str]]
    first: list[str]
    second: list[str]


@dataclass
class ChoiceResult:
    """P(second side) per item, its mean with interval, and accuracy = share of items with P < 0.5."""

    name: str
    file: str
    sides: tuple[str, str]
    ids: list[str]
    scores: list[float]  # P(second side) per item
    interval: Interval
    accuracy: float  # share preferring the first side (task eval: good over bad)
    logp_first: list[float] = field(default_factory=list)  # log-sum-exp of the first side's summed log-probs
    logp_second: list[float] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.name}: P({self.sides[1]}) = {self.interval}  (n={len(self.scores)}, acc {self.accuracy:.3f})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "choice",
            "name": self.name,
            "file": self.file,
            "sides": list(self.sides),
            "ids": self.ids,
            "scores": self.scores,
            "mean": self.interval.mean,
            "lo": self.interval.lo,
            "hi": self.interval.hi,
            "accuracy": self.accuracy,
            "logp_first": self.logp_first,
            "logp_second": self.logp_second,
        }


def _prompt_messages(obj: dict[str, Any], where: str) -> list[dict[str, str]]:
    prompt = obj.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, list):
        return check_messages(prompt, where, need_assistant=False)
    raise GraspError(f"{where}: `prompt` must be a non-empty string or a messages list")


def load_choice_items(path: str | Path) -> tuple[list[ChoiceItem], tuple[str, str]]:
    """Read a forced-choice JSONL file; every bad line is named (file, line, id, field)."""
    rows = read_jsonl(path, nonempty="forced-choice items")
    first_obj = rows[0][1]
    sides = next((p for p in SIDE_PAIRS if isinstance(first_obj, dict) and p[0] in first_obj), None)
    if sides is None:
        names = " / ".join(f"{a}+{b}" for a, b in SIDE_PAIRS)
        raise GraspError(f"{path}, line {rows[0][0]}: no completion sides found; expected one of {names}")
    items, seen = [], set()
    for lineno, obj in rows:
        where = f"{path}, line {lineno}"
        if not isinstance(obj, dict):
            raise GraspError(f"{where}: expected a JSON object")
        item_id = obj.get("id")
        if not isinstance(item_id, str | int) or str(item_id) == "":
            raise GraspError(f"{where}: missing field `id`")
        where = f"{where} (id {item_id})"
        if str(item_id) in seen:
            raise GraspError(f"{where}: duplicate id")
        seen.add(str(item_id))
        messages = _prompt_messages(obj, where)
        comps = []
        for side in sides:
            value = obj.get(side)
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not value:
                raise GraspError(f"{where}: field `{side}` must be a non-empty list of completions")
            for j, c in enumerate(value):
                if not isinstance(c, str) or not c.strip():
                    raise GraspError(f"{where}: `{side}` completion {j} is empty")
            comps.append(list(value))
        items.append(ChoiceItem(str(item_id), messages, comps[0], comps[1]))
    return items, sides


@torch.no_grad()
def completion_logprobs(
    model: Any, tokenizer: Any, pairs: Sequence[tuple[list[dict[str, str]], str]], config: EvalConfig | None = None
) -> list[float]:
    """Summed log-prob of each completion, scored as the assistant turn after the prompt's generation prompt.

    Batched and length-sorted; the sum covers the assistant tokens as encode_chat masks them (content and the
    template's end-of-turn token).
    """
    config = config or EvalConfig()
    encoded = []
    for messages, completion in pairs:
        ids, labels = encode_chat(tokenizer, [*messages, {"role": "assistant", "content": completion}])
        if len(ids) > config.max_length:
            raise GraspError(f"a prompt + completion has {len(ids)} tokens, over max_length {config.max_length}")
        encoded.append((ids, labels))
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    out = [0.0] * len(encoded)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(order), config.batch_size):
        chunk = order[start : start + config.batch_size]
        batch = pad_batch([encoded[i][0] for i in chunk], pad_id, [encoded[i][1] for i in chunk])
        batch = {k: v.to(device) for k, v in batch.items()}
        target = batch["labels"][:, 1:]  # (B, T-1): position t predicts token t+1
        mask = target != -100  # (B, T-1)
        # Unembedding and log_softmax only at the completion positions: the vocabulary axis is the cost.
        logits = next_token_logits(model, batch["input_ids"], batch["attention_mask"], mask)  # (N, V)
        logp = torch.log_softmax(logits.float(), dim=-1)  # (N, V)
        tok_lp = logp.gather(-1, target[mask].unsqueeze(-1)).squeeze(-1)  # (N,)
        rows = mask.nonzero()[:, 0]  # (N,) batch row of each position
        sums = torch.zeros(len(chunk), dtype=torch.float64, device=tok_lp.device).index_add_(0, rows, tok_lp.double())
        for row, i in enumerate(chunk):
            out[i] = float(sums[row])
    return out


def forced_choice(
    model: Any, tokenizer: Any, path: str | Path, config: EvalConfig | None = None, name: str | None = None
) -> ChoiceResult:
    """P(second side) per item = softmax over summed completion log-probs, mass of the second side's completions.

    Length: log-probs are summed, so a longer completion is penalised; the organisms' pairs are length-matched.
    """
    config = config or EvalConfig()
    items, sides = load_choice_items(path)
    pairs = [(it.messages, c) for it in items for c in (*it.first, *it.second)]
    lps = completion_logprobs(model, tokenizer, pairs, config)
    scores, lp_a, lp_b, pos = [], [], [], 0
    for it in items:
        a = torch.tensor(lps[pos : pos + len(it.first)], dtype=torch.float64)
        pos += len(it.first)
        b = torch.tensor(lps[pos : pos + len(it.second)], dtype=torch.float64)
        pos += len(it.second)
        la, lb = float(torch.logsumexp(a, 0)), float(torch.logsumexp(b, 0))
        scores.append(1.0 / (1.0 + math.exp(la - lb)))  # = exp(lb) / (exp(la) + exp(lb))
        lp_a.append(la)
        lp_b.append(lb)
    acc = sum(s < 0.5 for s in scores) / len(scores)
    return ChoiceResult(
        name or Path(path).stem,
        str(path),
        sides,
        [it.id for it in items],
        scores,
        bootstrap(scores, config.n_boot, config.seed),
        acc,
        lp_a,
        lp_b,
    )


# ---------------------------------------------------------------- task NLL


@dataclass
class NllResult:
    """Held-out NLL per assistant token, per item (nats), with the mean and its interval."""

    name: str
    file: str
    ids: list[str]
    nll: list[float]
    tokens: list[int]
    interval: Interval

    def summary(self) -> str:
        return f"{self.name}: NLL/token = {self.interval}  (n={len(self.nll)}, {sum(self.tokens)} tokens)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "nll",
            "name": self.name,
            "file": self.file,
            "ids": self.ids,
            "nll": self.nll,
            "tokens": self.tokens,
            "mean": self.interval.mean,
            "lo": self.interval.lo,
            "hi": self.interval.hi,
        }


def load_nll_items(path: str | Path) -> list[tuple[str, list[dict[str, str]], str]]:
    """(id, prompt messages, reference answer) from a chat JSONL (last assistant turn) or a good/bad file."""
    rows = read_jsonl(path, nonempty="items")
    out = []
    for lineno, obj in rows:
        where = f"{path}, line {lineno}"
        if not isinstance(obj, dict):
            raise GraspError(f"{where}: expected a JSON object")
        if "messages" in obj:
            msgs = check_messages(obj["messages"], where)
            if msgs[-1]["role"] != "assistant" or not msgs[-1]["content"].strip():
                raise GraspError(f"{where}: the last message must be a non-empty assistant turn")
            out.append((str(obj.get("id", f"line{lineno}")), msgs[:-1], msgs[-1]["content"]))
            continue
        good = obj.get("good")
        if not isinstance(good, list) or not good or not isinstance(good[0], str) or not good[0].strip():
            raise GraspError(f"{where}: needs `messages` or a non-empty `good` list of answers")
        out.append((str(obj.get("id", f"line{lineno}")), _prompt_messages(obj, where), good[0]))
    return out


def task_nll(
    model: Any, tokenizer: Any, path: str | Path, config: EvalConfig | None = None, name: str | None = None
) -> NllResult:
    """Mean NLL per assistant token of the reference answers (chat JSONL, or the `good` answer of a task file)."""
    config = config or EvalConfig()
    items = load_nll_items(path)
    lps = completion_logprobs(model, tokenizer, [(m, a) for _id, m, a in items], config)
    counts = [
        sum(lab != -100 for lab in encode_chat(tokenizer, [*m, {"role": "assistant", "content": a}])[1])
        for _id, m, a in items
    ]
    nll = [-lp / max(1, n) for lp, n in zip(lps, counts, strict=True)]
    return NllResult(
        name or Path(path).stem,
        str(path),
        [i for i, _m, _a in items],
        nll,
        counts,
        bootstrap(nll, config.n_boot, config.seed),
    )


# ---------------------------------------------------------------- inference-time ablation


@contextmanager
def ablated(
    model: Any, factors_path: str | Path, base: str, select: Sequence[int] | None = None, top: int | None = None
) -> Iterator[list[str]]:
    """Ablate span(Z) of the chosen factors (file order: `select` indices or the first `top`) from the residual
    stream of every layer while the block runs; yields the factor ids used."""
    from .factors import orthonormal_basis
    from .interventions import ablate
    from .trainfactors import choose_factors

    chosen = choose_factors(
        SimpleNamespace(method="grasp", factors=str(factors_path), select=select, top=top, base=base, seed=0), model
    )
    if not chosen:
        raise GraspError(f"factors file {factors_path}: no factors chosen to ablate")
    Z = orthonormal_basis(torch.stack([f.vector for f in chosen]))  # (d_model, k)
    with ablate(model, Z):
        yield [f.id for f in chosen]


# ---------------------------------------------------------------- several evals in one run

EVAL_KINDS = ("choice", "nll", "free_form")


@dataclass(frozen=True)
class EvalSpec:
    """One measure to run: its name, kind (choice | nll | free_form), file, and whether to report the change
    from the base model (adapter disabled) as well, e.g. political lean."""

    name: str
    kind: str
    file: str
    relative_to_base: bool = False

    def __post_init__(self) -> None:
        if self.kind not in EVAL_KINDS:
            raise ValueError(f"EvalSpec `kind` must be one of {', '.join(EVAL_KINDS)}, got {self.kind!r}")
        if not self.name:
            raise ValueError("EvalSpec `name` must be non-empty")


def spec_for_file(path: str | Path) -> EvalSpec:
    """The kind of an eval file: .yaml/.yml is free-form; JSONL of chats is NLL; other JSONL is forced choice."""
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        return EvalSpec(path.stem, "free_form", str(path))
    rows = read_jsonl(path)
    kind = "nll" if rows and isinstance(rows[0][1], dict) and "messages" in rows[0][1] else "choice"
    return EvalSpec(path.stem, kind, str(path))


@dataclass
class EvalReport:
    """Results of several evals on one model; an eval that failed keeps its message and the others their results."""

    model: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)  # name -> ChoiceResult | NllResult | FreeFormResult
    changes: dict[str, Interval] = field(default_factory=dict)  # name -> mean paired change from the base model
    errors: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = []
        for name, r in self.results.items():
            out.append(r.summary())
            if name in self.changes:
                out.append(f"    change from base: {self.changes[name]}")
        out += [f"{name}: FAILED: {msg}" for name, msg in self.errors.items()]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "results": {k: r.to_dict() for k, r in self.results.items()},
            "changes": {k: vars(v) for k, v in self.changes.items()},
            "errors": self.errors,
        }


def evaluate(
    model: Any,
    tokenizer: Any,
    specs: Sequence[EvalSpec],
    config: EvalConfig | None = None,
    judge: Any = None,
    max_new_tokens: int = 128,
    about: dict[str, Any] | None = None,
    intervene: Callable[[], AbstractContextManager[Any]] | None = None,
) -> EvalReport:
    """Run every spec (inside `intervene()`, e.g. an ablation, when given); free-form needs a judge; a failing
    eval is recorded in `errors` and the rest still run. Specs relative_to_base also get the paired change from
    the plain base (adapter disabled, no intervention)."""
    from .judges import free_form

    config = config or EvalConfig()
    report = EvalReport(model=about or {})
    disable = getattr(model, "disable_adapter", None)
    for spec in specs:
        try:
            base_scores = None
            if spec.relative_to_base and spec.kind == "choice" and (callable(disable) or intervene is not None):
                with disable() if callable(disable) else nullcontext():
                    base_scores = forced_choice(model, tokenizer, spec.file, config, spec.name).scores
            with intervene() if intervene is not None else nullcontext():
                if spec.kind == "choice":
                    r: Any = forced_choice(model, tokenizer, spec.file, config, spec.name)
                elif spec.kind == "nll":
                    r = task_nll(model, tokenizer, spec.file, config, spec.name)
                elif judge is None:
                    raise GraspError(f"{spec.file}: free-form questions need a judge (--judge openai | local)")
                else:
                    r = free_form(model, tokenizer, spec.file, judge, max_new_tokens, config.seed, config.n_boot,
                                  spec.name)  # fmt: skip
            report.results[spec.name] = r
            if spec.relative_to_base:
                diffs = [x - y for x, y in zip(r.scores, base_scores or r.scores, strict=True)]
                report.changes[spec.name] = bootstrap(diffs, config.n_boot, config.seed)
        except GraspError as e:
            report.errors[spec.name] = str(e)
    return report
