"""Cheap, deterministic evaluations by log-probability: forced choice between two sets of completions (the score
of an item is the probability mass on its second option), and held-out task NLL. The file formats are
eval_files.py, the scoring of completions completions.py, the options config.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..model.chat import encode_chat
from .completions import completion_logprobs
from .config import EvalConfig
from .eval_files import item_groups, load_choice_items, load_nll_items
from .stats import Interval, bootstrap, grouped


def grouped_dict(groups: list[str]) -> dict[str, Any]:
    """`{"groups": groups}` where some items share a group, else {} (so results of ungrouped files are stored, and
    cached, exactly as before groups existed)."""
    return {"groups": groups} if grouped(groups) else {}


def _in_groups(interval: Interval) -> str:
    """` in K groups` where the interval resampled K groups of items, else nothing."""
    return f" in {interval.n} groups" if interval.over == "clusters" else ""


# ---------------------------------------------------------------- forced choice


@dataclass
class ChoiceResult:
    """P(second option) per item, its mean with interval, and accuracy = share of items with P < 0.5."""

    name: str
    file: str
    options: tuple[str, str]
    ids: list[str]
    scores: list[float]  # P(second option) per item
    interval: Interval
    accuracy: float  # share preferring the first option (task eval: good over bad)
    logp_first: list[float] = field(default_factory=list)  # log-sum-exp of the first option's summed log-probs
    logp_second: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # per item: its file's `group` (eval_files.item_groups)

    def summary(self) -> str:
        n = f"n={len(self.scores)}{_in_groups(self.interval)}"
        return f"{self.name}: P({self.options[1]}) = {self.interval}  ({n}, acc {self.accuracy:.3f})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "choice",
            "name": self.name,
            "file": self.file,
            "options": list(self.options),
            "ids": self.ids,
            "scores": self.scores,
            "mean": self.interval.mean,
            "lo": self.interval.lo,
            "hi": self.interval.hi,
            "accuracy": self.accuracy,
            "logp_first": self.logp_first,
            "logp_second": self.logp_second,
        } | grouped_dict(self.groups)


def forced_choice(
    model: Any, tokenizer: Any, path: str | Path, config: EvalConfig | None = None, name: str | None = None
) -> ChoiceResult:
    """P(second option) per item = softmax over summed completion log-probs, mass of the second option's completions.

    Length: log-probs are summed, so a longer completion is penalised; the organisms' pairs are length-matched.
    """
    config = config or EvalConfig()
    items, options = load_choice_items(path)
    pairs = [(it.messages, c) for it in items for c in (*it.first, *it.second)]
    sources = [it.where for it in items for _c in (*it.first, *it.second)]
    lps = completion_logprobs(model, tokenizer, pairs, config, sources)
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
    groups = item_groups(path)
    return ChoiceResult(
        name or Path(path).stem,
        str(path),
        options,
        [it.id for it in items],
        scores,
        bootstrap(scores, config.n_boot, config.seed, clusters=groups),
        acc,
        lp_a,
        lp_b,
        groups,
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
    groups: list[str] = field(default_factory=list)  # per item: its file's `group` (eval_files.item_groups)

    def summary(self) -> str:
        n = f"n={len(self.nll)}{_in_groups(self.interval)}"
        return f"{self.name}: NLL/token = {self.interval}  ({n}, {sum(self.tokens)} tokens)"

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
        } | grouped_dict(self.groups)


def task_nll(
    model: Any, tokenizer: Any, path: str | Path, config: EvalConfig | None = None, name: str | None = None
) -> NllResult:
    """Mean NLL per assistant token of the reference answers (chat JSONL, or the `good` answer of a task file)."""
    config = config or EvalConfig()
    items = load_nll_items(path)
    sources = [f"{path} (id {item_id})" for item_id, _m, _a in items]
    lps = completion_logprobs(model, tokenizer, [(m, a) for _id, m, a in items], config, sources)
    counts = [
        sum(lab != -100 for lab in encode_chat(tokenizer, [*m, {"role": "assistant", "content": a}])[1])
        for _id, m, a in items
    ]
    nll = [-lp / max(1, n) for lp, n in zip(lps, counts, strict=True)]
    groups = item_groups(path)
    return NllResult(
        name or Path(path).stem,
        str(path),
        [i for i, _m, _a in items],
        nll,
        counts,
        bootstrap(nll, config.n_boot, config.seed, clusters=groups),
        groups,
    )
