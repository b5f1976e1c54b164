"""What evidence finds, as results: the effect of one ablation (Ablation), everything about one factor
(FactorEvidence), and an adapter's whole table (Evidence) with its flat rows for printing and the dashboard."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import GraspError
from ..evaluation.stats import Interval
from ..identification.factors import FactorSet
from .effects import MeasureEffect
from .measures import Measure


def _ivd(iv: Interval | None) -> dict[str, float] | None:
    return vars(iv) if iv is not None else None


def _iv(d: dict[str, Any] | None) -> Interval | None:
    return Interval(**d) if d else None


@dataclass
class Ablation:
    """The effect of ablating one set of factors: every measure, and the shares the rule reads."""

    factors: list[str]
    effects: dict[str, MeasureEffect]
    removed: Interval | None  # share of the primary drift measure's naive change removed (log-odds for choice)
    kept: Interval | None  # share of the primary task measure's gain kept
    score: float | None  # the evidence rule's score
    removed_p: Interval | None = None  # the drift share on mean P (forced choice), beside the log-odds share

    def to_dict(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "effects": {k: e.to_dict() for k, e in self.effects.items()},
            "removed": _ivd(self.removed),
            "kept": _ivd(self.kept),
            "score": self.score,
            "removed_p": _ivd(self.removed_p),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ablation:
        effects = {k: MeasureEffect.from_dict(e) for k, e in d["effects"].items()}
        return cls(d["factors"], effects, _iv(d["removed"]), _iv(d["kept"]), d["score"], _iv(d.get("removed_p")))


@dataclass
class FactorEvidence:
    """Everything measured about one candidate factor."""

    factor: str
    index: int  # position among the candidates (in the factors file when they came from one)
    sigma: float
    stream_layer: int
    alone: Ablation  # the factor ablated alone
    shift_unrelated: Interval | None = None  # mean per-prompt adapter shift along z at its layer, unrelated prompts
    shift_train: Interval | None = None  # the same on training prompts
    shift_ratio: Interval | None = None  # unrelated / train: near 1 or above = a context-free mode shift
    per_layer_shift: list[float] = field(default_factory=list)  # m_l on unrelated prompts (the steering unit)
    grad_share: Interval | None = None  # share of the training gradient along z, x a random direction's (base)
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in vars(self).items() if k != "alone"}
        for k in ("shift_unrelated", "shift_train", "shift_ratio", "grad_share"):
            d[k] = _ivd(d[k])
        d["alone"] = self.alone.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FactorEvidence:
        return cls(
            factor=d["factor"],
            index=d["index"],
            sigma=d["sigma"],
            stream_layer=d["stream_layer"],
            alone=Ablation.from_dict(d["alone"]),
            shift_unrelated=_iv(d.get("shift_unrelated")),
            shift_train=_iv(d.get("shift_train")),
            shift_ratio=_iv(d.get("shift_ratio")),
            per_layer_shift=d.get("per_layer_shift", []),
            grad_share=_iv(d.get("grad_share")),
            rank=d.get("rank", 0),
        )


@dataclass
class Evidence:
    """The evidence table of one adapter: rows ranked by its rule, cumulative ablations, and the suggested set."""

    adapter: str
    adapter_hash: str
    base: str
    measures: list[Measure]
    primary_drift: str | None
    primary_task: str | None
    reference: dict[str, dict[str, float | None]]  # measure -> base / adapter mean (and log-odds)
    rows: list[FactorEvidence]  # best first
    cumulative: list[Ablation]  # ablating the first 2, 3, ... ranked factors together
    suggested: list[str]
    unrelated_corpus: str
    train_corpus: str | None
    rule: str  # the ranking rule, as text (evidence.RULE)
    n_cached: int = 0  # variants read from the cache
    n_computed: int = 0  # variants scored now

    def factor_table(self) -> list[dict[str, Any]]:
        """One flat row per factor, best first: the factor, each measure under its ablation, the shares the rule
        reads with their intervals, the adapter shift, the score and whether it is suggested."""
        out = []
        for r in self.rows:
            row: dict[str, Any] = {
                "rank": r.rank,
                "factor": r.factor,
                "index": r.index,
                "sigma": r.sigma,
                "layer": r.stream_layer,
                **_cells(r.alone),
            }
            row["shift unrelated"] = r.shift_unrelated.mean if r.shift_unrelated else None
            row["shift train"] = r.shift_train.mean if r.shift_train else None
            row["unrelated/train"] = r.shift_ratio.mean if r.shift_ratio else None
            row["ratio 95%"] = f"[{r.shift_ratio.lo:.2f}, {r.shift_ratio.hi:.2f}]" if r.shift_ratio else ""
            row["train grad share"] = r.grad_share.mean if r.grad_share else None
            row["grad share 95%"] = f"[{r.grad_share.lo:.1f}, {r.grad_share.hi:.1f}]" if r.grad_share else ""
            row["score"] = r.alone.score
            row["suggested"] = r.factor in self.suggested
            out.append(row)
        return out

    def cumulative_table(self) -> list[dict[str, Any]]:
        """One flat row per cumulative ablation (the first 2, 3, ... ranked factors together)."""
        return [
            {"factors": "+".join(c.factors), **_cells(c), "score": c.score, "suggested": c.factors == self.suggested}
            for c in self.cumulative
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "adapter_hash": self.adapter_hash,
            "base": self.base,
            "measures": [asdict(m) for m in self.measures],
            "primary_drift": self.primary_drift,
            "primary_task": self.primary_task,
            "reference": self.reference,
            "rows": [r.to_dict() for r in self.rows],
            "cumulative": [c.to_dict() for c in self.cumulative],
            "suggested": self.suggested,
            "unrelated_corpus": self.unrelated_corpus,
            "train_corpus": self.train_corpus,
            "rule": self.rule,
            "n_cached": self.n_cached,
            "n_computed": self.n_computed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        """The inverse of to_dict: evidence read back from `grasp evidence --out` or a bundled evidence.json."""
        try:
            return cls(
                **{k: d[k] for k in _PLAIN},
                measures=[Measure(**m) for m in d["measures"]],
                rows=[FactorEvidence.from_dict(r) for r in d["rows"]],
                cumulative=[Ablation.from_dict(c) for c in d["cumulative"]],
            )
        except (KeyError, TypeError) as e:
            raise GraspError(f"not an evidence file: {type(e).__name__} {e}") from None


_PLAIN = (
    "adapter",
    "adapter_hash",
    "base",
    "primary_drift",
    "primary_task",
    "reference",
    "suggested",
    "unrelated_corpus",
    "train_corpus",
    "rule",
    "n_cached",
    "n_computed",
)


def _cells(ab: Ablation) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, e in ab.effects.items():
        row[name] = e.mean
        if e.log_odds is not None:
            row[f"{name} log-odds"] = e.log_odds
    for key, iv in (("removed", ab.removed), ("kept", ab.kept)):
        row[key] = iv.mean if iv is not None else None
        row[f"{key} 95%"] = f"[{iv.lo:.2f}, {iv.hi:.2f}]" if iv is not None else ""
    row["removed (P)"] = ab.removed_p.mean if ab.removed_p is not None else None
    return row


def pick_rows(fs: FactorSet, evidence: Evidence | None = None, picked: list[str] | None = None) -> list[dict[str, Any]]:
    """The table factors are picked from by hand: a `pick` tick (the ids in `picked`), each factor's row
    (FactorSet.rows, without loadings) and its evidence score where the evidence ranked it (None otherwise)."""
    score = {r.factor: r.alone.score for r in evidence.rows} if evidence is not None else {}
    return [
        {"pick": row["id"] in (picked or []), **{k: v for k, v in row.items() if k != "loadings"}}
        | {"evidence score": score.get(row["id"])}
        for row in fs.rows()
    ]


def inspection_order(fs: FactorSet, evidence: Evidence | None = None) -> list[str]:
    """Factor ids to inspect one by one: the evidence's ranked ones best first, then the set's other global factors
    (all its factors when it has no global ones) in file order."""
    ranked = [r.factor for r in evidence.rows] if evidence is not None else []
    ids = [f.id for f in fs.factors if f.scope == "global"] or [f.id for f in fs.factors]
    return ranked + [i for i in ids if i not in ranked]
