"""Evidence for each candidate factor, the step between finding factors (identification) and training without them.

Per factor: (a) the causal effect of ablating it alone from the adapted model on every measure, and of the ranked
factors cumulatively; (b) the adapter's own shift along it on unrelated and on training prompts; then (d) a ranking
by RULE and a suggested set. Side-by-side generations (c) are `compare.side_by_side`, per factor on demand.

One model load (lazily: a fully cached call loads nothing), every variant's per-item scores cached on disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from tqdm.auto import tqdm

from ..errors import ConfigError, GraspError
from ..evaluation.config import EvalConfig
from ..evaluation.stats import paired_bootstrap
from ..identification.factors import Factor, FactorSet, direction_hash
from ..identification.factorsets import FactorSetSpec, NamedFactorSet, save_factor_set
from ..io import atomic_path, file_hash, grasp_home, text_hash, write_jsonl_atomic
from ..model.adapters import load_adapter, load_model
from ..model.chat import generate_reply, load_chat_jsonl, load_corpus
from ..model.models import LoadedModel, load_config, portable_base
from .candidates import UNRELATED_CORPUS, candidate_factors
from .effects import measure_effect
from .gradient_share import GradientShare, training_gradient_share
from .measures import Measure, ScoreCache, Scores, Variant, score, variant_context
from .results import Ablation, Evidence, FactorEvidence
from .shift import Shift, adapter_shift, shift_ratio

RULE = (
    "score = share of the primary drift measure's naive change removed (on the mean log-odds for forced choice) + "
    "share of the primary task measure's gain kept - 1, each share capped at 1 and each from ablating the factor "
    "alone (1 = all drift gone at no task cost; a share is missing where the fine-tune did not move the measure "
    "detectably, and a factor without a score ranks after those with one, in file order). Without a task "
    "measure, score = drift removed. Suggested: the prefix of the ranking whose CUMULATIVE ablation scores best "
    "(the shorter on ties), if that score is above 0."
)
SHIFT_CACHE_VERSION = 1
T = TypeVar("T")


@dataclass(frozen=True)
class EvidenceConfig:
    """How much evidence to gather and how."""

    top: int = 8  # candidates when none are given: the first `top` global write factors
    cumulative: int = 3  # cumulative ablations of the ranked factors: prefixes of 2 .. cumulative
    max_prompts: int = 64  # prompts per corpus for the adapter shift (the first ones)
    own_replies: int = 16  # without evals: unrelated prompts whose greedy adapter replies are scored
    reply_tokens: int = 32  # tokens per such reply
    batch_size: int = 8  # sequences per forward pass
    max_length: int = 512  # tokens per prompt + completion
    n_boot: int = 2000  # bootstrap resamples (over items) for every interval
    seed: int = 0  # bootstrap seed
    use_cache: bool = True  # read and write GRASP_HOME/cache/evidence

    def __post_init__(self) -> None:
        for name in ("top", "max_prompts", "own_replies", "reply_tokens", "batch_size", "max_length", "n_boot"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"EvidenceConfig: `{name}` must be a positive integer, got {value!r}")
        if not isinstance(self.cumulative, int) or self.cumulative < 1:
            raise ConfigError(f"EvidenceConfig: `cumulative` must be at least 1, got {self.cumulative!r}")

    def eval_config(self) -> EvalConfig:
        return EvalConfig(batch_size=self.batch_size, max_length=self.max_length, n_boot=self.n_boot, seed=self.seed)


# ---------------------------------------------------------------- gathering


class _Gatherer:
    """Scores variants through the cache, loading the model only when something is missing."""

    def __init__(
        self, load: Callable[[], LoadedModel], model_id: str, adapter_hash: str, config: EvidenceConfig, progress: bool
    ) -> None:
        self._load: Callable[[], LoadedModel] = load
        self._bm: LoadedModel | None = None
        self.model_id, self.adapter_hash, self.config = model_id, adapter_hash, config
        self.cache = ScoreCache(model_id, adapter_hash, config.eval_config(), config.use_cache)
        self.progress, self.n_cached, self.n_computed = progress, 0, 0

    @property
    def bm(self) -> LoadedModel:
        if self._bm is None:
            self._bm = self._load()
        return self._bm

    def scores(self, wanted: Sequence[tuple[Measure, Variant]], desc: str) -> dict[tuple[str, str], Scores]:
        """Scores of every (measure, variant), from the cache or computed now (one progress bar over the rest)."""
        out: dict[tuple[str, str], Scores] = {}
        todo = []
        for m, v in wanted:
            hit = self.cache.get(m, v)
            if hit is not None:
                out[(m.name, v.key())] = hit
                self.n_cached += 1
            else:
                todo.append((m, v))
        for m, v in tqdm(todo, desc=desc, unit="eval", disable=not self.progress or not todo):
            bm = self.bm
            with variant_context(bm.model, v):
                s = score(bm.model, bm.tokenizer, m, self.config.eval_config())
            self.cache.put(m, v, s)
            out[(m.name, v.key())] = s
            self.n_computed += 1
        return out

    def _per_factor(
        self,
        paths: Sequence[Path],
        kind: Callable[..., T],
        compute: Callable[[list[int]], Sequence[T]],
    ) -> list[T]:
        """One cached dataclass per factor: read from its path (`kind(**json)`), else computed for the missing
        factors' indices in one call and written atomically."""
        found: dict[int, T] = {}
        for j, path in enumerate(paths):
            if self.config.use_cache and path.is_file():
                try:
                    found[j] = kind(**json.loads(path.read_text(encoding="utf-8")))
                except (ValueError, TypeError):
                    pass
        todo = [j for j in range(len(paths)) if j not in found]
        if todo:
            for j, value in zip(todo, compute(todo), strict=True):
                found[j] = value
                if self.config.use_cache:
                    with atomic_path(paths[j]) as tmp:
                        tmp.write_text(json.dumps(asdict(value)), encoding="utf-8")  # type: ignore[call-overload]
        return [found[j] for j in range(len(paths))]

    def shifts(self, corpus_path: str | Path, factors: Sequence[Factor]) -> list[Shift]:
        """The adapter's shift along each factor on the corpus's first `max_prompts` prompts."""
        corpus_hash = file_hash(corpus_path)
        root = grasp_home() / "cache" / "evidence" / "shift"
        key = (str(SHIFT_CACHE_VERSION), self.model_id, self.adapter_hash, corpus_hash)
        paths = [
            root
            / (text_hash(*key, direction_hash(f.vector), str(f.stream_layer), str(self.config.max_prompts)) + ".json")
            for f in factors
        ]

        def compute(todo: list[int]) -> list[Shift]:
            corpus = load_corpus(corpus_path)[: self.config.max_prompts]
            bm, chosen = self.bm, [factors[j] for j in todo]
            return adapter_shift(bm.model, bm.tokenizer, corpus, chosen, self.config.batch_size, progress=self.progress)

        return self._per_factor(paths, Shift, compute)

    def gradient_shares(self, train: str | Path, factors: Sequence[Factor]) -> list[GradientShare]:
        """Each factor's share of the training gradient on the first `max_prompts` training chats (the base alone,
        so cached by base, chats and direction, not by adapter)."""
        data_hash = file_hash(train)
        root = grasp_home() / "cache" / "evidence" / "gradient-share"
        paths = [
            root
            / (text_hash(self.model_id, data_hash, direction_hash(f.vector), str(self.config.max_prompts)) + ".json")
            for f in factors
        ]

        def compute(todo: list[int]) -> list[GradientShare]:
            chats = [ex.messages for ex in load_chat_jsonl(train)[: self.config.max_prompts]]
            bm, chosen, c = self.bm, [factors[j] for j in todo], self.config
            return training_gradient_share(
                bm.model, bm.tokenizer, chats, chosen, c.batch_size, c.max_length, progress=self.progress
            )

        return self._per_factor(paths, GradientShare, compute)

    def own_replies(self, corpus_path: str | Path) -> Measure:
        """A task-NLL file of the adapter's greedy replies to the first unrelated prompts (written once, cached)."""
        key = text_hash(
            self.model_id,
            self.adapter_hash,
            file_hash(corpus_path),
            str(self.config.own_replies),
            str(self.config.reply_tokens),
        )
        path = grasp_home() / "cache" / "evidence" / "replies" / f"{key}.jsonl"
        if not path.is_file():
            bm = self.bm
            rows = []
            prompts = load_corpus(corpus_path)[: self.config.own_replies]
            for i, item in enumerate(tqdm(prompts, desc="own replies", unit="reply", disable=not self.progress)):
                messages = [{"role": "user", "content": item}] if isinstance(item, str) else item
                reply = generate_reply(bm.model, bm.tokenizer, messages, self.config.reply_tokens) or "."
                rows.append({"id": f"reply-{i}", "messages": [*messages, {"role": "assistant", "content": reply}]})
            write_jsonl_atomic(path, rows)
        return Measure("own_replies", "nll", str(path), "drift")


def _has_replies(train: str | Path) -> bool:
    """Whether a training file holds chats with assistant replies (a loss to take a gradient of), not prompts alone."""
    try:
        load_chat_jsonl(train)
    except GraspError:
        return False
    return True


def _primary(measures: Sequence[Measure], role: str, preferred: str | None) -> Measure | None:
    if preferred is not None:
        for m in measures:
            if m.name == preferred:
                return m
    chosen = [m for m in measures if m.role == role]
    if role == "task":  # task NLL is the finer measure of the two
        chosen.sort(key=lambda m: m.kind != "nll")
    return chosen[0] if chosen else None


def _ablation(
    ids: list[str],
    measures: Sequence[Measure],
    got: dict[tuple[str, str], Scores],
    variant: Variant,
    drift: Measure | None,
    task: Measure | None,
    config: EvidenceConfig,
) -> Ablation:
    base, adapter = Variant(adapter=False), Variant()
    effects = {
        m.name: measure_effect(
            m,
            got[(m.name, base.key())],
            got[(m.name, adapter.key())],
            got[(m.name, variant.key())],
            config.n_boot,
            config.seed,
        )
        for m in measures
    }
    removed = effects[drift.name].share if drift is not None else None
    kept = effects[task.name].share if task is not None else None
    score_ = None
    if removed is not None:  # capped at 1: going past the base is not more removal, nor beating naive more gain
        score_ = min(removed.mean, 1.0) + (min(kept.mean, 1.0) - 1.0 if kept is not None else 0.0)
    removed_p = effects[drift.name].share_p if drift is not None else None
    return Ablation(ids, effects, removed, kept, score_, removed_p)


def gather_evidence(
    load: Callable[[], LoadedModel],
    model_id: str,
    adapter: str | Path,
    adapter_hash: str,
    candidates: Sequence[tuple[int, Factor]],
    measures: Sequence[Measure],
    unrelated: str | Path,
    train: str | Path | None = None,
    config: EvidenceConfig | None = None,
    primary: tuple[str | None, str | None] = (None, None),
    progress: bool = True,
) -> Evidence:
    """Evidence for each (index, factor) candidate of the adapter on the measures (none: the adapter's own replies
    to unrelated prompts). `load` gives base + adapter and is called only if something is not cached;
    `primary` names the drift and task measures the rule reads (default: the first of each role)."""
    config = config or EvidenceConfig()
    if not candidates:
        raise GraspError("evidence: no candidate factors")
    load_corpus(unrelated)  # a bad corpus fails here, before any model loads
    if train is not None:
        load_corpus(train)
    g = _Gatherer(load, model_id, adapter_hash, config, progress)
    measures = list(measures) or [g.own_replies(unrelated)]
    drift, task = _primary(measures, "drift", primary[0]), _primary(measures, "task", primary[1])
    factors = [f for _i, f in candidates]
    singles = [Variant(ablated=(f,)) for f in factors]
    refs = [Variant(adapter=False), Variant()]
    got = g.scores([(m, v) for v in refs + singles for m in measures], "evidence: ablate each factor")
    rows = [
        FactorEvidence(f.id, i, f.sigma, f.stream_layer, _ablation([f.id], measures, got, v, drift, task, config))
        for (i, f), v in zip(candidates, singles, strict=True)
    ]
    # Adapter shift along each factor, on unrelated prompts and (when known) training prompts.
    unrel = g.shifts(unrelated, factors)
    trained = g.shifts(train, factors) if train is not None else None
    for j, r in enumerate(rows):
        r.shift_unrelated = unrel[j].mean(config.n_boot, config.seed)
        r.per_layer_shift = unrel[j].per_layer
        if trained is not None:
            r.shift_train = trained[j].mean(config.n_boot, config.seed)
            r.shift_ratio = shift_ratio(unrel[j], trained[j], config.n_boot, config.seed)
    # How much of the training gradient (base, training chats) lies along each factor: a training-time signal.
    if train is not None and _has_replies(train):
        for r, share in zip(rows, g.gradient_shares(train, factors), strict=True):
            r.grad_share = share.share(config.n_boot, config.seed)
    rows.sort(key=lambda r: -(r.alone.score if r.alone.score is not None else float("-inf")))
    for rank, r in enumerate(rows):
        r.rank = rank
    # Cumulative ablations of the ranked factors.
    by_id = {f.id: f for f in factors}
    prefixes = [tuple(by_id[r.factor] for r in rows[:n]) for n in range(2, min(config.cumulative, len(rows)) + 1)]
    cum_variants = [Variant(ablated=p) for p in prefixes]
    got.update(g.scores([(m, v) for v in cum_variants for m in measures], "evidence: ablate cumulatively"))
    cumulative = [_ablation([f.id for f in v.ablated], measures, got, v, drift, task, config) for v in cum_variants]
    reference: dict[str, dict[str, float | None]] = {}
    for m in measures:
        on_base, on_adapter = got[(m.name, refs[0].key())], got[(m.name, refs[1].key())]
        groups = on_adapter.groups  # paired over items, whole groups where items share one
        change = paired_bootstrap(on_adapter.values, on_base.values, config.n_boot, config.seed, clusters=groups)
        log_odds_change = (
            paired_bootstrap(on_adapter.log_odds, on_base.log_odds, config.n_boot, config.seed, clusters=groups)
            if on_base.log_odds
            else None
        )
        reference[m.name] = {
            "base": on_base.mean(),
            "adapter": on_adapter.mean(),
            "base_log_odds": on_base.mean_log_odds(),
            "adapter_log_odds": on_adapter.mean_log_odds(),
            "change": change.mean,
            "change_lo": change.lo,
            "change_hi": change.hi,
            "log_odds_change_lo": log_odds_change.lo if log_odds_change else None,
            "log_odds_change_hi": log_odds_change.hi if log_odds_change else None,
        }
    return Evidence(
        adapter=str(adapter),
        adapter_hash=adapter_hash,
        base=model_id,
        measures=measures,
        primary_drift=drift.name if drift else None,
        primary_task=task.name if task else None,
        reference=reference,
        rows=rows,
        cumulative=cumulative,
        suggested=suggest([r.alone for r in rows[:1]] + cumulative),
        unrelated_corpus=str(unrelated),
        train_corpus=str(train) if train is not None else None,
        rule=RULE,
        n_cached=g.n_cached,
        n_computed=g.n_computed,
    )


def adapter_evidence(
    adapter: str | Path,
    base: str,
    measures: Sequence[Measure] = (),
    factors_file: str | Path | None = None,
    select: Sequence[int] | None = None,
    unrelated: str | Path = UNRELATED_CORPUS,
    train: str | Path | None = None,
    config: EvidenceConfig | None = None,
    model: LoadedModel | None = None,
    primary: tuple[str | None, str | None] = (None, None),
    progress: bool = True,
    other_adapter: bool = False,
) -> tuple[FactorSet, Evidence]:
    """Evidence for an adapter folder's candidates (see candidate_factors), the model loaded only when needed
    (or `model`, already loaded with this adapter). Returns the candidates' factor set too (to save a pick)."""
    config = config or EvidenceConfig()
    for m in measures:
        m.check_length(config.max_length)
    base_config = load_config(base)
    fs, candidates = candidate_factors(adapter, base, factors_file, select, config.top, base_config, other_adapter)
    adapter_hash = model.adapter_hash if model is not None and model.adapter_hash else None
    adapter_hash = adapter_hash or load_adapter(adapter, base_config=base_config).hash

    def load() -> LoadedModel:
        return model if model is not None else load_model(base, adapter)

    ev = gather_evidence(
        load,
        portable_base(base),
        adapter,
        adapter_hash,
        candidates,
        measures,
        unrelated,
        train,
        config,
        primary,
        progress,
    )
    return fs, ev


def save_suggested(ev: Evidence, fs: FactorSet, name: str, root: str | Path | None = None) -> NamedFactorSet:
    """Save the suggested factors as a named factor set (a factors file `grasp train --factors` reads)."""
    if not ev.suggested:
        raise GraspError("the evidence suggests no factor (no ablation removes more drift than it costs task gain)")
    return save_factor_set(FactorSetSpec(name, tuple(ev.suggested)), fs, root, overwrite=True)


def suggest(prefixes: Sequence[Ablation]) -> list[str]:
    """The factors of the best-scoring prefix (shorter on ties), or none if no prefix scores above 0."""
    best: Ablation | None = None
    for p in prefixes:
        if p.score is not None and p.score > 0 and (best is None or p.score > best.score + 1e-12):  # type: ignore[operator]
            best = p
    return list(best.factors) if best is not None else []
