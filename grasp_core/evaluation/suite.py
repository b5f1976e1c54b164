"""Several evaluations of one model in one run: which measure is which file (EvalSpec), the report, and
inference-time ablation of factors around any of them. Free-form judged evals are in judges.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, GraspError
from ..identification.choose import basis, load_picked
from ..io import read_jsonl
from ..model.interventions import ablate
from ..model.models import d_model
from .config import EvalConfig
from .judges import free_form
from .logprob import forced_choice, task_nll
from .replies import RepliesConfig, judged_replies
from .stats import Interval, paired_bootstrap

# ---------------------------------------------------------------- inference-time ablation


@contextmanager
def ablated(
    model: Any, factors_path: str | Path, base: str, select: Sequence[int] | None = None, top: int | None = None
) -> Iterator[list[str]]:
    """Ablate span(Z) of the chosen factors (file order: `select` indices or the first `top`) from the residual
    stream of every layer while the block runs; yields the factor ids used."""
    chosen = load_picked(factors_path, model, base, select, top)
    if not chosen:
        raise GraspError(f"factors file {factors_path}: no factors chosen to ablate")
    Z = basis(chosen, d_model(model))  # (d_model, k)
    with ablate(model, Z):
        yield [f.id for f in chosen]


# ---------------------------------------------------------------- several evals in one run

EVAL_KINDS = ("choice", "nll", "free_form", "replies")
RELATIVE_KINDS = ("choice", "nll")  # kinds with per-item scores, so a paired change from the base exists


@dataclass(frozen=True)
class EvalSpec:
    """One measure to run: its name, kind (choice | nll | free_form | replies), file, and whether to report the change
    from the base model (adapter disabled) as well, e.g. political lean."""

    name: str
    kind: str
    file: str
    relative_to_base: bool = False

    def __post_init__(self) -> None:
        if self.kind not in EVAL_KINDS:
            raise ConfigError(f"EvalSpec `kind` must be one of {', '.join(EVAL_KINDS)}, got {self.kind!r}")
        if not self.name:
            raise ConfigError("EvalSpec `name` must be non-empty")
        if self.relative_to_base and self.kind not in RELATIVE_KINDS:
            raise ConfigError(
                f"EvalSpec `{self.name}`: relative_to_base is measured per item, so only for kinds "
                f"{', '.join(RELATIVE_KINDS)}, not {self.kind!r}"
            )


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
    trait_judge: Any = None,
) -> EvalReport:
    """Run every spec (inside `intervene()`, e.g. an ablation, when given); free-form needs a 0-100 judge, replies
    a trait judge; a failing eval is recorded in `errors` and the rest still run. Specs relative_to_base also get
    the paired change from the plain base (adapter disabled, no intervention)."""
    config = config or EvalConfig()
    report = EvalReport(model=about or {})
    disable = getattr(model, "disable_adapter", None)
    for spec in specs:
        try:
            with intervene() if intervene is not None else nullcontext():
                r = _run(model, tokenizer, spec, config, judge, max_new_tokens, trait_judge)
            report.results[spec.name] = r
            if spec.relative_to_base:
                base_scores = _item_scores(r)  # a plain model with no intervention is the base: its change is 0
                if callable(disable) or intervene is not None:
                    with disable() if callable(disable) else nullcontext():
                        base_scores = _item_scores(_run(model, tokenizer, spec, config))
                groups = getattr(r, "groups", None)  # choice and NLL results: the items' groups
                report.changes[spec.name] = paired_bootstrap(
                    _item_scores(r), base_scores, config.n_boot, config.seed, clusters=groups
                )
        except GraspError as e:
            report.errors[spec.name] = str(e)
    return report


def _run(
    model: Any,
    tokenizer: Any,
    spec: EvalSpec,
    config: EvalConfig,
    judge: Any = None,
    max_new_tokens: int = 128,
    trait_judge: Any = None,
) -> Any:
    """One eval of the model as it is now: ChoiceResult, NllResult, FreeFormResult or RepliesResult."""
    if spec.kind == "choice":
        return forced_choice(model, tokenizer, spec.file, config, spec.name)
    if spec.kind == "nll":
        return task_nll(model, tokenizer, spec.file, config, spec.name)
    if spec.kind == "replies":
        if trait_judge is None:
            raise GraspError(f"{spec.file}: the replies measure needs a trait judge (an organism's `judge` file)")
        replies_config = RepliesConfig(seed=config.seed, n_boot=config.n_boot)
        return judged_replies(model, tokenizer, spec.file, trait_judge, replies_config, spec.name)
    if judge is None:
        raise GraspError(f"{spec.file}: free-form questions need a judge (--judge openai | local)")
    return free_form(model, tokenizer, spec.file, judge, max_new_tokens, config.seed, config.n_boot, spec.name)


def _item_scores(result: Any) -> list[float]:
    """Per-item values of a choice (P(second option)) or NLL (nats per token) result, in file order."""
    return list(result.scores if hasattr(result, "scores") else result.nll)
