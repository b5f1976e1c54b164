"""What evidence measures: log-probability evals read as drift-like or task-like, scored per item on one variant of
the model (adapter on or off, some factors ablated), and cached on disk per variant.

A drift-like measure (aligned/misaligned or left/right forced choice, or the adapter's own replies) should go back
to the base when a spurious factor is removed; a task-like one (good/bad choice, task NLL) should stay where the
fine-tune put it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import GraspError
from ..evaluation.config import EvalConfig
from ..evaluation.eval_files import check_chars, load_choice_items, load_nll_items
from ..evaluation.logprob import forced_choice, task_nll
from ..evaluation.suite import EvalSpec, spec_for_file
from ..identification.choose import basis
from ..identification.factors import Factor, direction_hash
from ..io import atomic_path, file_hash, grasp_home, text_hash
from ..model.adapters import adapter_off
from ..model.interventions import ablate
from ..model.models import d_model

Role = Literal["drift", "task"]
CACHE_VERSION = 1
# An organism's measures by role; free-form (judged) measures are not log-probability evals and are left out.
ORGANISM_ROLES: dict[str, Role] = {
    "drift": "drift",
    "leak": "drift",
    "lean": "drift",
    "task_nll": "task",
    "task_choice": "task",
}
# Forced-choice options by role: the second option is the one whose probability is scored.
OPTION_ROLES: dict[tuple[str, str], Role] = {
    ("aligned", "misaligned"): "drift",
    ("left", "right"): "drift",
    ("good", "bad"): "task",
}


@dataclass(frozen=True)
class Measure:
    """One eval file as evidence reads it: its name, kind (choice | nll), file and role (drift | task)."""

    name: str
    kind: Literal["choice", "nll"]
    file: str
    role: Role

    def describe(self) -> str:
        what = "P(second option) and log-odds" if self.kind == "choice" else "NLL per token"
        return f"{self.name} ({self.role}, {what}, {Path(self.file).name})"

    def check_length(self, max_length: int) -> None:
        """Refuse, naming file, line and id, an item too long in characters alone for max_length tokens, before any
        model loads (the scorer refuses the rest, over max_length once tokenised, as it meets them)."""
        if self.kind == "choice":
            for it in load_choice_items(self.file)[0]:
                for c in (*it.first, *it.second):
                    check_chars(it.where, it.messages, c, max_length)
        else:
            for item_id, messages, answer in load_nll_items(self.file):
                check_chars(f"{self.file} (id {item_id})", messages, answer, max_length)


def _check_items(m: Measure) -> None:
    """Parse the file now, so a bad one fails before any model loads (the loaders name file and line)."""
    if m.kind == "choice":
        load_choice_items(m.file)
    else:
        load_nll_items(m.file)


def measures_from_files(paths: Sequence[str | Path]) -> list[Measure]:
    """Measures of eval files: aligned/misaligned or left/right forced choice is drift-like; chat JSONL and good/bad
    task files are task NLL (of the reference or good answer)."""
    out: list[Measure] = []
    for path in paths:
        spec = spec_for_file(path)
        if spec.kind == "free_form":
            raise GraspError(
                f"{path}: free-form questions are judged, not scored by log-probability; "
                "evidence takes forced-choice or chat JSONL files"
            )
        if spec.kind == "choice":
            _items, options = load_choice_items(path)  # parsed: a bad file fails here, naming file and line
            role = OPTION_ROLES[options]
            # A good/bad task file is read as the NLL of its good answers: finer than which answer wins.
            m = Measure(spec.name, "choice" if role == "drift" else "nll", str(path), role)
            if m.kind == "nll":
                load_nll_items(path)
        else:
            m = Measure(spec.name, "nll", str(path), "task")
            _check_items(m)
        out.append(m)
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise GraspError(
            f"eval files with the same name: {', '.join(sorted({n for n in names if names.count(n) > 1}))}"
        )
    return out


def measures_from_specs(specs: Sequence[EvalSpec]) -> list[Measure]:
    """Measures of an organism's evals (named by measure: drift, leak, lean, task_nll, task_choice)."""
    out = []
    for spec in specs:
        if spec.kind == "free_form" or spec.name not in ORGANISM_ROLES:
            continue
        m = Measure(spec.name, "choice" if spec.kind == "choice" else "nll", spec.file, ORGANISM_ROLES[spec.name])
        _check_items(m)
        out.append(m)
    return out


@dataclass
class Scores:
    """Per-item values of one measure on one variant of the model."""

    ids: list[str]
    values: list[float]  # choice: P(second option); nll: NLL per token (nats)
    log_odds: list[float] = field(default_factory=list)  # choice: log P(second) - log P(first), summed log-probs
    groups: list[str] | None = None  # per item: its file's `group` (eval_files.item_groups); None in older caches

    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    def mean_log_odds(self) -> float | None:
        return sum(self.log_odds) / len(self.log_odds) if self.log_odds else None


def score(model: Any, tokenizer: Any, measure: Measure, config: EvalConfig) -> Scores:
    """Score one measure on the model as it is now (hooks and adapter state are the caller's)."""
    if measure.kind == "choice":
        r = forced_choice(model, tokenizer, measure.file, config, measure.name)
        log_odds = [b - a for a, b in zip(r.logp_first, r.logp_second, strict=True)]
        return Scores(r.ids, r.scores, log_odds, r.groups)
    n = task_nll(model, tokenizer, measure.file, config, measure.name)
    return Scores(n.ids, n.nll, groups=n.groups)


@dataclass(frozen=True)
class Variant:
    """A variant of the adapted model: the adapter on or off, and the factors whose span is ablated."""

    adapter: bool = True
    ablated: tuple[Factor, ...] = ()

    def key(self) -> str:
        return ("adapter" if self.adapter else "base") + ":" + ",".join(direction_hash(f.vector) for f in self.ablated)


def variant_context(model: Any, variant: Variant) -> Any:
    """The context manager that puts the model in this variant for the duration of a block."""
    stack = ExitStack()
    if not variant.adapter:
        stack.enter_context(adapter_off(model, "evidence"))
    if variant.ablated:
        stack.enter_context(ablate(model, basis(list(variant.ablated), d_model(model))))
    return stack


class ScoreCache:
    """Per-variant scores under GRASP_HOME/cache/evidence, keyed by base, adapter hash, file hash, kind, the
    ablated directions and the eval's max_length (batching does not change values beyond float noise)."""

    def __init__(self, model_id: str, adapter_hash: str, config: EvalConfig, enabled: bool = True) -> None:
        self.model_id, self.adapter_hash, self.config, self.enabled = model_id, adapter_hash, config, enabled
        self._file_hashes: dict[str, str] = {}

    def path(self, measure: Measure, variant: Variant) -> Path:
        fh = self._file_hashes.setdefault(measure.file, file_hash(measure.file))
        key = text_hash(
            str(CACHE_VERSION),
            self.model_id,
            self.adapter_hash,
            fh,
            measure.kind,
            variant.key(),
            str(self.config.max_length),
        )
        return grasp_home() / "cache" / "evidence" / f"{key}.json"

    def get(self, measure: Measure, variant: Variant) -> Scores | None:
        p = self.path(measure, variant)
        if not self.enabled or not p.is_file():
            return None
        try:
            return Scores(**json.loads(p.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            return None  # a stale or foreign file is recomputed, then replaced

    def put(self, measure: Measure, variant: Variant, scores: Scores) -> None:
        if self.enabled:
            with atomic_path(self.path(measure, variant)) as tmp:
                tmp.write_text(json.dumps(asdict(scores)), encoding="utf-8")
