"""Top-activating prompts of factor directions (GRASP.md, interpretation aids; steering previews: steering.py).

For a factor z (d_model,) living at stream layer s (hidden_states index), the per-token value of a prompt is
- mode "shift" (the default with an adapter): a_t = h_adapter_s[t] . z - h_base_s[t] . z, what the adapter added
  along z at that token (two passes: adapter on, adapter off). A LoRA adds a near-constant offset along its
  factors, so raw projections rank prompts by length and norm; the difference shows where the adapter acts.
- mode "model": a_t = h_s[t] . z of the model as loaded.
A prompt's score is the largest a_t. The first token is left out of scores, statistics and colours alike by
default: the attention-sink position carries outlier norms on most models and would top every list.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..errors import ConfigError, GraspError
from ..io import atomic_path, file_hash, grasp_home, text_hash
from ..model.adapters import adapter_off
from ..model.chat import encode_prompt, has_chat_template, load_corpus, pad_batch, pad_id, plain_chat
from ..model.interventions import record_residual, run_until_recorded
from ..model.models import d_model, n_layers, unwrap
from .factors import Factor, direction_hash

CACHE_VERSION = 2
SCAN_MODES = ("shift", "model")
OLD_MODES = {"diff": "shift"}  # mode names of earlier releases, read with a warning


@dataclass(frozen=True)
class ScanConfig:
    """How to scan a corpus: top-N prompts, batching, binning, early stop and caching."""

    n_top_prompts: int = 10  # prompts kept per factor, best first
    batch_size: int = 8  # prompts per forward pass
    max_length: int = 256  # tokens per prompt (longer prompts are cut, not skipped)
    n_quantiles: int = 10  # quantile bins over all token activations
    hist_bins: int = 40  # histogram bins over all token activations
    examples_per_bin: int = 3  # tokens shown per quantile bin
    skip_first_token: bool = True  # leave the attention-sink position out of prompt scores
    stop_early: bool = True  # end the forward pass after the deepest needed layer
    use_cache: bool = True  # read and write results under GRASP_HOME/cache/scan
    mode: str = "shift"  # "shift": adapter minus base along z (needs an adapter); "model": h . z as loaded

    def __post_init__(self) -> None:
        for name in ("n_top_prompts", "batch_size", "max_length", "n_quantiles", "hist_bins"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"ScanConfig: `{name}` must be a positive integer, got {value!r}")
        if self.mode in OLD_MODES:
            warnings.warn(
                f"scan mode `{self.mode}` is now `{OLD_MODES[self.mode]}`; the old name is read for now", stacklevel=3
            )
            object.__setattr__(self, "mode", OLD_MODES[self.mode])
        if self.mode not in SCAN_MODES:
            raise ConfigError(f"ScanConfig: `mode` must be one of {', '.join(SCAN_MODES)}, got {self.mode!r}")
        if self.examples_per_bin < 0:
            raise ConfigError(f"ScanConfig: `examples_per_bin` must be >= 0, got {self.examples_per_bin!r}")

    def key(self) -> str:
        """The fields that change the result (use_cache does not)."""
        d = asdict(self)
        d.pop("use_cache")
        d.pop("batch_size")  # batching does not change values beyond float noise
        return json.dumps(d, sort_keys=True)


@dataclass
class PromptActivation:
    """One prompt's per-token activations along a direction (for colour highlights)."""

    index: int  # position in the corpus
    text: str  # the prompt as the model saw it (template applied)
    tokens: list[str]
    values: list[float]  # one per token: h_s[t] . z, or its adapter-minus-base difference
    score: float  # max over scored tokens
    first_scored: int = 1  # tokens before this one (the attention sink) are left out of scores and colours


@dataclass
class TokenExample:
    """A token seen in a quantile bin."""

    index: int  # corpus position of its prompt
    position: int  # token position in the prompt
    token: str
    value: float


@dataclass
class FactorScan:
    """Where one direction is active over a corpus: top prompts, quantile bins and a histogram."""

    factor_id: str
    stream_layer: int
    mode: str  # "shift" (adapter minus base) or "model" (as loaded)
    n_prompts: int
    n_tokens: int
    mean: float
    std: float
    top_prompts: list[PromptActivation]
    quantile_edges: list[float]  # n_quantiles + 1 edges over all token activations
    quantile_examples: list[list[TokenExample]]  # a few tokens per bin, from the bin's top
    hist_counts: list[int]
    hist_edges: list[float]
    cached: bool = False

    def quantile_rows(self) -> list[dict[str, str]]:
        """One row per quantile bin: its value range and a few of its tokens with their values."""
        return [
            {
                "bin": f"{self.quantile_edges[i]:.2f} .. {self.quantile_edges[i + 1]:.2f}",
                "examples": " | ".join(f"{t.token!r} ({t.value:.2f})" for t in ex),
            }
            for i, ex in enumerate(self.quantile_examples)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (the cache format and `--json`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FactorScan:
        d = dict(d)
        d["mode"] = OLD_MODES.get(d["mode"], d["mode"])  # older caches: `diff`
        d["top_prompts"] = [
            PromptActivation(**p) for p in d.pop("top_prompts", None) or d.pop("top")
        ]  # older caches: `top`
        d["quantile_examples"] = [[TokenExample(**t) for t in b] for b in d["quantile_examples"]]
        return cls(**d)


# ---------------------------------------------------------------- scanning


def _render(tokenizer: Any, item: list[dict[str, str]] | str) -> str:
    if isinstance(item, str):
        return item
    if has_chat_template(tokenizer):
        return str(tokenizer.apply_chat_template(item, tokenize=False, add_generation_prompt=False))
    return plain_chat(item)


def _check_factor(model: Any, factor: Factor) -> None:
    width, depth = d_model(model), n_layers(unwrap(model))
    if factor.vector.shape != (width,):
        raise GraspError(
            f"factor {factor.id}: vector of shape {tuple(factor.vector.shape)} does not fit the model's d_model {width}"
        )
    if not 0 <= factor.stream_layer <= depth:
        raise GraspError(f"factor {factor.id}: stream layer {factor.stream_layer} outside 0..{depth} of the model")


@torch.no_grad()
def scan_model(
    model: Any,
    tokenizer: Any,
    corpus: Sequence[list[dict[str, str]] | str],
    factors: Sequence[Factor],
    config: ScanConfig = ScanConfig(),
    progress: bool = True,
) -> list[FactorScan]:
    """Scan a corpus for every factor in one batched pass (no cache): per-token h_s . z at each factor's layer, or
    its adapter-minus-base difference (config.mode)."""
    if not corpus:
        raise GraspError("scan: the prompt corpus is empty")
    if not factors:
        raise GraspError("scan: no factors to scan")
    for f in factors:
        _check_factor(model, f)
    if config.mode == "shift":  # fail before the first forward pass, not inside it
        adapter_off(model, "scan: mode `shift`", " (use mode `model` for a base)")
    device = next(unwrap(model).parameters()).device
    layers = sorted({f.stream_layer for f in factors})
    Zs = {s: torch.stack([f.vector for f in factors if f.stream_layer == s]).T for s in layers}  # (d_model, k_s)
    col = {id(f): [g for g in factors if g.stream_layer == f.stream_layer].index(f) for f in factors}

    ids = [encode_prompt(tokenizer, item)[: config.max_length] for item in corpus]
    if any(len(x) == 0 for x in ids):
        empty = next(i for i, x in enumerate(ids) if len(x) == 0)
        raise GraspError(f"scan: corpus item {empty} encodes to no tokens")
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths share a batch: less padding
    values: dict[int, dict[int, Tensor]] = {s: {} for s in layers}  # layer -> prompt -> (T, k_s)
    pad = pad_id(tokenizer)
    batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
    for batch_idx in tqdm(batches, desc="scan", unit="batch", disable=not progress, leave=False):
        batch = pad_batch([ids[i] for i in batch_idx], pad)
        batch = {k: v.to(device) for k, v in batch.items()}
        with record_residual(model, layers, stop_early=config.stop_early) as rec:
            run_until_recorded(model, **batch)
        base_rec: dict[int, Tensor] = {}
        if config.mode == "shift":
            with adapter_off(model, "scan"), record_residual(model, layers, stop_early=config.stop_early) as base_rec:
                run_until_recorded(model, **batch)
        for s in layers:
            h = rec[s].float()  # (B, T, d_model)
            proj = h @ Zs[s].to(h.device, h.dtype)  # (B, T, k_s)
            if config.mode == "shift":
                h_base = base_rec[s].float()  # (B, T, d_model)
                proj = proj - h_base @ Zs[s].to(h.device, h.dtype)  # (B, T, k_s): what the adapter added along z
            for row, i in enumerate(batch_idx):
                values[s][i] = proj[row, : len(ids[i])].cpu()  # (T_i, k_s)

    token_strs = [[tokenizer.decode([t]) for t in x] for x in ids]
    return [
        _summarise(
            f,
            [values[f.stream_layer][i][:, col[id(f)]] for i in range(len(ids))],
            token_strs,
            corpus,
            tokenizer,
            config,
        )
        for f in factors
    ]


def _summarise(
    factor: Factor,
    per_prompt: list[Tensor],  # one (T_i,) per prompt
    token_strs: list[list[str]],
    corpus: Sequence[list[dict[str, str]] | str],
    tokenizer: Any,
    config: ScanConfig,
) -> FactorScan:
    first = 1 if config.skip_first_token else 0
    scores = torch.tensor([float(v[first:].max()) if len(v) > first else float(v.max()) for v in per_prompt])
    top_idx = torch.argsort(scores, descending=True)[: config.n_top_prompts].tolist()
    top = [
        PromptActivation(
            i,
            _render(tokenizer, corpus[i]),
            token_strs[i],
            [float(x) for x in per_prompt[i]],
            float(scores[i]),
            first if len(per_prompt[i]) > first else 0,
        )
        for i in top_idx
    ]
    # Token-level statistics over the scored positions of every prompt.
    where = [(i, t) for i, v in enumerate(per_prompt) for t in range(first if len(v) > first else 0, len(v))]
    flat = torch.stack([per_prompt[i][t] for i, t in where]).double()  # (N_tokens,)
    q = torch.linspace(0, 1, config.n_quantiles + 1, dtype=torch.float64)
    edges = torch.quantile(flat, q)  # (n_quantiles + 1,)
    bins = torch.bucketize(flat, edges[1:-1], right=True)  # (N_tokens,) in 0..n_quantiles-1
    examples: list[list[TokenExample]] = []
    for b in range(config.n_quantiles):
        members = torch.nonzero(bins == b).flatten()
        members = members[torch.argsort(flat[members], descending=True)][: config.examples_per_bin]
        examples.append(
            [
                TokenExample(where[j][0], where[j][1], token_strs[where[j][0]][where[j][1]], float(flat[j]))
                for j in members.tolist()
            ]
        )
    lo, hi = float(flat.min()), float(flat.max())
    hi = hi if hi > lo else lo + 1e-6
    counts = torch.histc(flat, bins=config.hist_bins, min=lo, max=hi)
    return FactorScan(
        factor_id=factor.id,
        stream_layer=factor.stream_layer,
        mode=config.mode,
        n_prompts=len(per_prompt),
        n_tokens=int(flat.numel()),
        mean=float(flat.mean()),
        std=float(flat.std()) if flat.numel() > 1 else 0.0,
        top_prompts=top,
        quantile_edges=[float(x) for x in edges],
        quantile_examples=examples,
        hist_counts=[int(c) for c in counts],
        hist_edges=torch.linspace(lo, hi, config.hist_bins + 1).tolist(),
    )


def cache_path(model_id: str, adapter_hash: str | None, corpus_hash: str, factor: Factor, config: ScanConfig) -> Path:
    """Cache file of one factor scan: keyed by model, adapter hash, corpus hash, layer and direction hash."""
    key = text_hash(
        str(CACHE_VERSION),
        model_id,
        adapter_hash or "no-adapter",
        corpus_hash,
        str(factor.stream_layer),
        direction_hash(factor.vector),
        config.key(),
    )
    return grasp_home() / "cache" / "scan" / f"{key}.json"


def scan(
    model: Any,
    tokenizer: Any,
    corpus_path: str | Path,
    factors: Sequence[Factor],
    config: ScanConfig = ScanConfig(),
    model_id: str = "",
    adapter_hash: str | None = None,
    progress: bool = True,
) -> list[FactorScan]:
    """Scan a corpus file, reusing cached results; `adapter_hash` names the active adapter (None: base only, where
    mode `shift` is an error)."""
    corpus = load_corpus(corpus_path)
    corpus_hash = file_hash(corpus_path)
    paths = [cache_path(model_id, adapter_hash, corpus_hash, f, config) for f in factors]
    results: dict[int, FactorScan] = {}
    if config.use_cache and model_id:
        for j, p in enumerate(paths):
            if p.is_file():
                try:
                    results[j] = FactorScan.from_dict(json.loads(p.read_text(encoding="utf-8")))
                    results[j].factor_id = factors[j].id  # the same direction may carry another name
                    results[j].cached = True
                except (ValueError, TypeError, KeyError):
                    pass  # a stale or foreign cache file is recomputed, then replaced
    todo = [j for j in range(len(factors)) if j not in results]
    if todo:
        fresh = scan_model(model, tokenizer, corpus, [factors[j] for j in todo], config, progress)
        for j, res in zip(todo, fresh, strict=True):
            results[j] = res
            if config.use_cache and model_id:
                with atomic_path(paths[j]) as tmp:
                    tmp.write_text(json.dumps(res.to_dict()), encoding="utf-8")
    return [results[j] for j in range(len(factors))]
