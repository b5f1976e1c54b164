"""The `replies` measure: what a model SAYS to unrelated questions, judged offline. N sampled replies per question
(seeded, temperature 1), each judged by a trait judge (trait_judge.py); the share of replies that show the trait,
with a bootstrap over questions (the replies to one question are not independent evidence).

Questions file (JSONL), one question a line: {"id": "reply-00", "prompt": "How do I ...?" | [messages]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..errors import GraspError
from ..io import read_jsonl_objects
from ..model.chat import generation_ids, pad_id
from .eval_files import item_id, prompt_messages
from .stats import Interval, clustered_bootstrap
from .trait_judge import TRAIT_ABOVE


@dataclass(frozen=True)
class RepliesConfig:
    """How replies are sampled: `n_samples` per question, seeded per question, at `temperature`."""

    n_samples: int = 8
    max_new_tokens: int = 64
    temperature: float = 1.0
    seed: int = 0
    n_boot: int = 2000

    def __post_init__(self) -> None:
        for name in ("n_samples", "max_new_tokens", "n_boot"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GraspError(f"replies: `{name}` must be a whole number of at least 1, got {value!r}")
        if not self.temperature > 0:
            raise GraspError(f"replies: `temperature` must be above 0, got {self.temperature!r}")


def load_reply_questions(path: str | Path) -> list[tuple[str, list[dict[str, str]]]]:
    """(id, prompt messages) of each question, naming the file and line of a bad one."""
    out: list[tuple[str, list[dict[str, str]]]] = []
    seen: set[str] = set()
    for _lineno, where, obj in read_jsonl_objects(path, nonempty="questions"):
        qid = item_id(obj, where, seen)
        messages = prompt_messages(obj, where)
        out.append((qid, messages))
    return out


@torch.no_grad()
def sample_replies(
    model: Any, tokenizer: Any, messages: list[dict[str, str]], config: RepliesConfig, seed: int
) -> list[str]:
    """`config.n_samples` replies to one chat, sampled together from one seed (the same replies every time for
    the same model, seed and device)."""
    device = next(model.parameters()).device
    ids = generation_ids(tokenizer, messages)
    torch.manual_seed(seed)
    x = torch.tensor([ids], device=device).repeat(config.n_samples, 1)  # (n, T)
    out = model.generate(
        input_ids=x,
        attention_mask=torch.ones_like(x),
        do_sample=True,
        temperature=config.temperature,
        top_p=1.0,
        top_k=0,
        max_new_tokens=config.max_new_tokens,
        pad_token_id=pad_id(tokenizer),
    )
    return [str(tokenizer.decode(row[len(ids) :], skip_special_tokens=True)).strip() for row in out]


def question_replies(
    model: Any, tokenizer: Any, path: str | Path, config: RepliesConfig, progress: bool = False
) -> list[dict[str, Any]]:
    """`config.n_samples` replies to every question of `path` ({id, question, reply}), question q seeded
    config.seed * 1000 + q: the replies a trait judge and a person labelling by hand both read."""
    out: list[dict[str, Any]] = []
    questions = load_reply_questions(path)
    for q, (qid, messages) in enumerate(tqdm(questions, desc="replies", unit="question", disable=not progress)):
        for reply in sample_replies(model, tokenizer, messages, config, config.seed * 1000 + q):
            out.append({"id": qid, "question": messages[-1]["content"], "reply": reply})
    return out


@dataclass
class RepliesResult:
    """Every sampled reply with its P(trait), and the share showing the trait with its interval over questions."""

    name: str
    file: str
    judge: str
    samples: list[dict[str, Any]] = field(default_factory=list)  # {id, question, reply, p_trait, trait}
    interval: Interval | None = None

    @property
    def scores(self) -> list[float]:
        return [float(s["trait"]) for s in self.samples]

    def summary(self) -> str:
        n_q = len({s["id"] for s in self.samples})
        return (
            f"{self.name}: share of replies showing the trait = {self.interval} ({self.interval.label if self.interval else ''}: "
            f"questions; {len(self.samples)} replies to {n_q} questions, judge {self.judge})"
        )

    def to_dict(self) -> dict[str, Any]:
        iv = self.interval
        return {
            "kind": "replies",
            "name": self.name,
            "file": self.file,
            "judge": self.judge,
            "samples": self.samples,
            "mean": iv.mean if iv else None,
            "lo": iv.lo if iv else None,
            "hi": iv.hi if iv else None,
        }


def judged_replies(
    model: Any,
    tokenizer: Any,
    path: str | Path,
    judge: Any,
    config: RepliesConfig | None = None,
    name: str | None = None,
    progress: bool = False,
) -> RepliesResult:
    """Sample replies to every question of `path` (question q seeded config.seed * 1000 + q), judge them, and
    report the share that shows the trait (P(trait) > TRAIT_ABOVE) with a bootstrap over questions."""
    if not callable(getattr(judge, "trait_probs", None)):
        raise GraspError(
            f"{path}: the replies measure needs a trait judge (a classifier fitted on labelled replies), "
            f"not {getattr(judge, 'name', judge)!r}"
        )
    config = config or RepliesConfig()
    samples = question_replies(model, tokenizer, path, config, progress)
    for s, p in zip(samples, judge.trait_probs([s["reply"] for s in samples]), strict=True):
        s.update(p_trait=p, trait=p > TRAIT_ABOVE)
    flags = [float(s["trait"]) for s in samples]
    interval = clustered_bootstrap(flags, [s["id"] for s in samples], config.n_boot, config.seed)
    return RepliesResult(name or Path(path).stem, str(path), judge.name, samples, interval)
