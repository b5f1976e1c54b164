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
from .judges import free_form
from .logprob import EvalConfig, forced_choice, task_nll
from .stats import Interval, bootstrap

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
            raise ConfigError(f"EvalSpec `kind` must be one of {', '.join(EVAL_KINDS)}, got {self.kind!r}")
        if not self.name:
            raise ConfigError("EvalSpec `name` must be non-empty")


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
