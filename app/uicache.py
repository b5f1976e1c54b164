"""Cached loaders shared by the pages, so moving between pages recomputes nothing.

The model (base with the adapter on it) is one `cache_resource` entry shared by every session: pages only
read it, and temporary edits (steering hooks) happen under MODEL_LOCK. Tables are `cache_data`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import streamlit as st
import uistate

from grasp_core import (
    UNRELATED_CORPUS,
    Adapter,
    Evidence,
    EvidenceRequest,
    FactorScan,
    FactorSet,
    GraspError,
    LoadedModel,
    ModuleSpectrum,
    ScanConfig,
    SideBySide,
    TokenKL,
    adapter_spectra,
    bundled_evidence,
    evidence_for,
    evidence_process,
    identified_path,
    identify,
    identify_from,
    lineup,
    load_adapter,
    load_config,
    load_corpus,
    load_model,
    logit_lens,
    model_kl,
    n_layers,
    save_factors,
    scan,
    side_by_side,
    spectra_table,
)

MODEL_LOCK = threading.Lock()  # guards hooks on the shared model (ablations and steering in side-by-side replies)


def adapter_stamp(path: str) -> str:
    """A cheap key that changes when the adapter's files change (mtime + size), so caches follow edits."""
    p = Path(path)
    parts = []
    for name in ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin"):
        f = p / name
        if f.is_file():
            s = f.stat()
            parts.append(f"{name}:{s.st_mtime_ns}:{s.st_size}")
    return "|".join(parts)


@st.cache_resource(max_entries=4, show_spinner="Reading the base config ...")
def base_config(base: str) -> Any:
    """The base's transformers config (no weights)."""
    return load_config(base)


@st.cache_resource(max_entries=4, show_spinner="Reading the adapter ...")
def adapter(base: str, path: str, stamp: str) -> Adapter:
    """The adapter, checked against the base's module shapes."""
    return load_adapter(path, base_config=base_config(base))


@st.cache_resource(max_entries=1, show_spinner="Loading the model (base + adapter) ...")
def model(base: str, path: str, stamp: str) -> LoadedModel:
    """The base with the adapter on it (model, tokenizer, adapter hash); one at a time, shared across sessions."""
    return load_model(base, path)


@st.cache_resource(max_entries=2, show_spinner="Computing spectra ...")
def spectra(base: str, path: str, stamp: str) -> list[ModuleSpectrum]:
    """Low-rank SVD of every module's dW, with ||dW||/||W0|| from the loaded base; computed once per adapter."""
    return adapter_spectra(adapter(base, path, stamp), model(base, path, stamp).model)


@st.cache_data(max_entries=8, show_spinner=False)
def spectra_rows(base: str, path: str, stamp: str, n_sigma: int = 64) -> list[dict[str, Any]]:
    """One row per module: singular values, energy share and ||dW||/||W0||."""
    return spectra_table(spectra(base, path, stamp), n_sigma=n_sigma)


@st.cache_resource(max_entries=4, show_spinner="Finding candidate factors ...")
def candidates(base: str, path: str, stamp: str, n_factors: int = 8, source: str = "weights") -> FactorSet:
    """Global factors per side, then each module's top direction (weights); or the directions of the adapter's
    activation shift on the bundled unrelated prompts (shift), or both. Sets from the shift are kept in the workspace,
    where the background evidence process reads them."""
    ad = adapter(base, path, stamp)
    layers = n_layers(base_config(base))
    if source == "weights":
        return identify(ad, layers, n_factors=n_factors, spectra=spectra(base, path, stamp))
    bm = model(base, path, stamp)
    with MODEL_LOCK:  # forwards on the shared model: apart from other sessions' hooks
        fs = identify_from(
            source,
            ad,
            layers,
            n_factors,
            spectra=spectra(base, path, stamp) if source == "both" else None,
            shift_inputs=(bm.model, bm.tokenizer, load_corpus(UNRELATED_CORPUS)),
            progress=False,
        )
    fs.base = base
    save_factors(fs, identified_path(path, source))
    return fs


@st.cache_data(max_entries=256, show_spinner=False)
def lens(base: str, path: str, stamp: str, factor_id: str, k: int = 12) -> dict[str, list[tuple[str, float]]]:
    """Promoted and suppressed tokens of one candidate factor."""
    bm = model(base, path, stamp)
    f = candidates(base, path, stamp, source=uistate.state().factor_source).by_id(factor_id)
    return logit_lens(bm.model, bm.tokenizer, f.vector, k=k)


@st.cache_data(max_entries=64, show_spinner="Scanning the prompt corpus ...")
def factor_scan(base: str, path: str, stamp: str, factor_id: str, corpus: str, top: int = 10) -> FactorScan:
    """Top-activating prompts, quantile bins and histogram of one factor (grasp_core.scan, disk-cached too)."""
    bm = model(base, path, stamp)
    f = candidates(base, path, stamp, source=uistate.state().factor_source).by_id(factor_id)
    with MODEL_LOCK:  # a scan runs forwards; keep them apart from steering hooks of other sessions
        return scan(
            bm.model,
            bm.tokenizer,
            corpus,
            [f],
            ScanConfig(n_top_prompts=top),
            model_id=base,
            adapter_hash=bm.adapter_hash,
            progress=False,
        )[0]


def evidence_evals(typed: str | None = None) -> tuple[str, ...]:
    """The eval files evidence is gathered on: what the Factors page's box holds (remembered under a plain key, as
    Streamlit drops a widget's state on pages that do not show it), else $GRASP_APP_EVALS."""
    if typed is not None:
        uistate.state().evidence_evals = tuple(typed.split())
    found = uistate.state().evidence_evals
    return tuple(found) if found is not None else tuple(os.environ.get("GRASP_APP_EVALS", "").split())


def evidence_request(base: str, path: str, evals: tuple[str, ...] = ()) -> EvidenceRequest:
    """What the Factors page gathers evidence on: the eval files given, else the probes of the demo organism the
    adapter belongs to (its naive-lora/ folder sits in the organism's folder), else the adapter's own replies; the
    candidates are the first 8 global write factors (fewer when the adapter has fewer)."""
    source = uistate.state().factor_source
    fs = candidates(base, path, adapter_stamp(path), source=source)
    kept = str(identified_path(path, source)) if source != "weights" else None
    return EvidenceRequest.for_adapter(path, base, fs, tuple(evals), factors=kept)


@st.cache_resource(max_entries=4, show_spinner="Reading the evidence ...")
def _evidence(base: str, path: str, stamp: str, request: EvidenceRequest, finished: float) -> Evidence:
    """The evidence of a finished background process (`finished`: its result's mtime), read from the evidence cache."""
    return evidence_for(request, progress=False)[1]


def finished_evidence(base: str, path: str, stamp: str, request: EvidenceRequest) -> Evidence | None:
    """The evidence of the request once its background process is done (None before); GraspError if it cannot be read."""
    proc = evidence_process(request)
    return _evidence(base, path, stamp, request, proc.result.stat().st_mtime) if proc.state == "done" else None


@st.cache_resource(max_entries=4, show_spinner=False)
def shipped_evidence(base: str, path: str, stamp: str, request: EvidenceRequest) -> Evidence | None:
    """The evidence bundled with a demo organism's naive LoRA, while still up to date (None otherwise)."""
    return bundled_evidence(request)


@st.cache_data(max_entries=64, show_spinner="Generating side-by-side replies ...")
def side_by_side_replies(
    base: str,
    path: str,
    stamp: str,
    factor_id: str,
    multiple: float,
    n_prompts: int,
    max_new_tokens: int,
    scale: float = 1.0,
) -> list[SideBySide]:
    """Adapted (x scale), ablated, base and base-steered replies to the first unrelated prompts, for one factor."""
    bm = model(base, path, stamp)
    f = candidates(base, path, stamp, source=uistate.state().factor_source).by_id(factor_id)
    with MODEL_LOCK:  # amplification and hooks edit the shared model for the block
        return side_by_side(
            bm, f, n_prompts=n_prompts, multiple=multiple, max_new_tokens=max_new_tokens, progress=False, scale=scale
        )


def loaded_candidates(choice: uistate.ModelChoice, source: str | None = None) -> tuple[str, FactorSet]:
    """The stamp of the chosen adapter and its candidate factors (from `source`, else the session's choice), or an
    error box and a stop (the analysis pages' first step)."""
    stamp = adapter_stamp(choice.adapter)
    try:
        return stamp, candidates(choice.base, choice.adapter, stamp, source=source or uistate.state().factor_source)
    except GraspError as e:
        st.error(str(e))
        st.stop()
        raise  # st.stop() raises; this line only tells the type checker so


@st.cache_data(max_entries=32, show_spinner="Running both models over the text ...")
def model_kl_of(base: str, p: str, q: str, text: str) -> TokenKL:
    """Per-token KL(P || Q) on a text between two lineup names (base, adapter folder, run id, NAME@s), loaded in
    turn."""
    (mp,), (mq,) = lineup([p], base), lineup([q], base)
    return model_kl(mp, mq, base, text)
