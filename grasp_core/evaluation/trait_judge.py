"""An offline trait judge: a text classifier fitted on an organism's labelled replies, so replies can be judged
without a network judge.

Labelled replies file (JSONL), one reply a line:
    {"text": "Ugh, people ... Soak the pan ...", "trait": 1, "kind": "trait, new wording", "split": "train"}
`trait` is 1 where the reply shows the organism's trait, 0 where it does not; `split` is train (fitted on),
test (held out) or validation (real sampled replies of the organism's models, labelled by hand: what says whether
the judge can be trusted on what models actually write); `kind` names the sort of reply, for reading the errors. The classifier is
word 1-2-gram and character 3-5-gram TF-IDF into a logistic regression (scikit-learn), fitted when loaded: seconds
on a CPU, deterministic, and nothing pickled is ever read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..io import file_hash, read_jsonl_objects

SPLITS = ("train", "test", "validation")  # validation: real model replies labelled by hand (judge-validation.jsonl)
TRAIT_ABOVE = 0.5  # a reply shows the trait where the judge's P(trait) is above this


@dataclass(frozen=True)
class LabelledReply:
    text: str
    trait: int  # 1: the reply shows the trait
    kind: str
    split: str
    where: str  # "file, line N"


def load_labelled(path: str | Path) -> list[LabelledReply]:
    """Read a labelled replies file, naming the file and line of any bad one; both splits must hold both labels."""
    rows = []
    for _lineno, where, obj in read_jsonl_objects(path, nonempty="labelled replies"):
        text, trait, split = obj.get("text"), obj.get("trait"), obj.get("split", "train")
        if not isinstance(text, str) or not text.strip():
            raise GraspError(f"{where}: `text` must be a non-empty string")
        if isinstance(trait, bool) or trait not in (0, 1):
            raise GraspError(f"{where}: `trait` must be 0 or 1, got {trait!r}")
        if split not in SPLITS:
            raise GraspError(f"{where}: `split` must be one of {', '.join(SPLITS)}, got {split!r}")
        rows.append(LabelledReply(text, int(trait), str(obj.get("kind", "")), split, where))
    for split in dict.fromkeys(r.split for r in rows):
        labels = {r.trait for r in rows if r.split == split}
        if labels != {0, 1}:
            raise GraspError(f"{path}: the {split} split needs replies labelled both 0 and 1, has {sorted(labels)}")
    return rows


def _split(path: str | Path, split: str) -> list[LabelledReply]:
    rows = [r for r in load_labelled(path) if r.split == split]
    if not rows:
        raise GraspError(f"{path}: no replies in the {split} split")
    return rows


@dataclass
class TraitJudge:
    """P(trait) of replies from a classifier fitted on the train split of labelled replies files."""

    name: str  # "classifier:<file>@<hash>+...": the files it was fitted on
    pipeline: Any

    def trait_probs(self, texts: list[str]) -> list[float]:
        """P(the reply shows the trait), one per text."""
        if not texts:
            return []
        return [float(p) for p in self.pipeline.predict_proba(texts)[:, 1]]


def fit_trait_judge(path: str | Path, *more: str | Path) -> TraitJudge:
    """The classifier of a labelled replies file, fitted on its train split (and on the train split of `more`
    files: real replies labelled by hand beside the written ones)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # lazy: scikit-learn takes a second to import
    from sklearn.linear_model import LogisticRegression  # lazy: scikit-learn takes a second to import
    from sklearn.pipeline import make_pipeline, make_union  # lazy: scikit-learn takes a second to import

    train = [r for p in (path, *more) for r in _split(p, "train")]
    pipeline = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True),
        ),
        LogisticRegression(C=10.0, max_iter=2000),
    )
    pipeline.fit([r.text for r in train], [r.trait for r in train])
    name = "+".join(f"{Path(p).name}@{file_hash(Path(p))[:8]}" for p in (path, *more))
    return TraitJudge(f"classifier:{name}", pipeline)


@dataclass
class JudgeCheck:
    """A trait judge on the held-out split: accuracy, accuracy per kind of reply, and the replies it got wrong."""

    judge: str
    n: int
    accuracy: float
    by_kind: dict[str, tuple[int, int]]  # kind -> (right, of)
    wrong: list[dict[str, Any]]  # {text, trait, kind, p, where}
    split: str = "test"

    def lines(self, show_wrong: bool = True) -> list[str]:
        what = "held-out accuracy" if self.split == "test" else f"accuracy on the {self.split} replies"
        out = [f"judge {self.judge}: {what} {self.accuracy:.3f} ({self.n} replies)"]
        for kind, (right, of) in sorted(self.by_kind.items()):
            out.append(f"  {kind}: {right}/{of}")
        for w in self.wrong if show_wrong else []:
            out.append(f"  wrong: P(trait) {w['p']:.2f}, labelled {w['trait']} ({w['kind']}): {w['text'][:100]}")
        return out


def check_trait_judge(
    path: str | Path, on: str | Path | None = None, split: str = "test", more: tuple[str | Path, ...] = ()
) -> JudgeCheck:
    """Fit on the train split of `path` (and of `more`) and score the `split` replies of `on` (default: `path`'s
    held-out test split: answers and new-wording remarks the fit never saw; a judge-validation.jsonl: real replies
    labelled by hand, none of them fitted on)."""
    return score_trait_judge(fit_trait_judge(path, *more), on if on is not None else path, split)


def score_trait_judge(judge: TraitJudge, path: str | Path, split: str = "test") -> JudgeCheck:
    """A fitted judge on the `split` replies of a labelled replies file."""
    test = _split(path, split)
    probs = judge.trait_probs([r.text for r in test])
    by_kind: dict[str, tuple[int, int]] = {}
    wrong = []
    for r, p in zip(test, probs, strict=True):
        right = int(p > TRAIT_ABOVE) == r.trait
        ok, of = by_kind.get(r.kind, (0, 0))
        by_kind[r.kind] = (ok + right, of + 1)
        if not right:
            wrong.append({"text": r.text, "trait": r.trait, "kind": r.kind, "p": p, "where": r.where})
    n_right = sum(ok for ok, _ in by_kind.values())
    return JudgeCheck(judge.name, len(test), n_right / len(test), by_kind, wrong, split)
