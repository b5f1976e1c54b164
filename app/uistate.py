"""What the user has chosen (base and adapter) and what pages share, kept in session_state as one typed UiState with
defaults from the environment (`make app` preselects the bundled demo), so every page starts from the same choice."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from grasp_core import (
    DEFAULT_BASE,
    FACTOR_SOURCES,
    SCALE_RANGE,
    Transcript,
    bundled_organism_of,
    demo_adapters,
    training_file_beside,
)

DEFAULT_DEMO = "persona"
PAGES = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class ModelChoice:
    """The base spec and adapter folder every analysis page works on."""

    base: str
    adapter: str


@dataclass
class UiState:
    """What one browser session's pages share and remember across reruns, typed (widget values stay under their own
    widget keys, as Streamlit binds them). One instance per session, in session_state under STATE_KEY."""

    model_choice: ModelChoice | None
    evidence_evals: tuple[str, ...] | None = None  # the eval files last typed on Factors (None: never typed)
    factor_source: str = "weights"  # where the candidate factors come from (FACTOR_SOURCES)
    evidence_seen: str | None = None  # the evidence.json whose arrival last triggered a rerun
    evidence_pick: list[str] | None = None  # factor ids "Pick by evidence" ticked on Select
    inspect_ranked_for: list[str] | None = None  # the ranking the Factors page last opened its inspector on
    side_for: tuple[str, float, int, int, float] | None = None  # (factor, multiple, prompts, tokens, scale) shown
    scan_for: tuple[str, str] | None = None  # (factor, corpus) of the shown scan
    compared: Transcript | None = None  # the Compare page's last finished replies
    compared_specs: tuple[str, ...] = ()  # the lineup names (paths, run ids, NAME@s) those replies came from
    kl_for: tuple[str, str, str] | None = None  # (P, Q, text) of the shown per-token KL


STATE_KEY = "grasp_ui"


def default_model_choice() -> ModelChoice | None:
    """$GRASP_APP_BASE / $GRASP_APP_ADAPTER when set, else the bundled base with the `persona` demo if present."""
    base = os.environ.get("GRASP_APP_BASE") or DEFAULT_BASE
    adapter = os.environ.get("GRASP_APP_ADAPTER")
    if not adapter:
        demos = demo_adapters()
        demo = os.environ.get("GRASP_APP_DEMO", DEFAULT_DEMO)
        if demo in demos:
            adapter = str(demos[demo])
    return ModelChoice(base, adapter) if adapter else None


def state() -> UiState:
    """This session's UiState (made once, its model choice from the defaults)."""
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = UiState(default_model_choice())
    return st.session_state[STATE_KEY]


def model_choice() -> ModelChoice | None:
    """The current model choice of this session."""
    return state().model_choice


def set_model_choice(choice: ModelChoice) -> None:
    """Make `choice` the base and adapter every page uses."""
    state().model_choice = choice


def require_model_choice() -> ModelChoice:
    """The model choice, or a pointer to the Load page and a stop when nothing is loaded yet."""
    choice = model_choice()
    if choice is None:
        st.info("No adapter loaded yet: choose a base and an adapter on the **Load** page first.")
        st.stop()
    assert choice is not None
    return choice


def default_training_data() -> str:
    """The Train form's data field: $GRASP_APP_DATA, else the chats beside the loaded adapter (a demo organism's
    train.jsonl), else empty."""
    return _env_or_chats_beside("GRASP_APP_DATA")


def default_scan_corpus() -> str:
    """The Factors page's scan corpus: $GRASP_APP_CORPUS, else the chats beside the loaded adapter, else empty."""
    return _env_or_chats_beside("GRASP_APP_CORPUS")


def _env_or_chats_beside(env: str) -> str:
    if os.environ.get(env):
        return os.environ[env]
    choice = model_choice()
    found = training_file_beside(choice.adapter) if choice is not None else None
    return str(found) if found is not None else ""


def extra_results_table() -> str | None:
    """$GRASP_APP_RESULTS: a results CSV the Results page lists first, when set."""
    return os.environ.get("GRASP_APP_RESULTS") or None


def first_results_table(names: list[str]) -> int:
    """Which results table the Results page opens on: $GRASP_APP_RESULTS when set (listed first), else the loaded
    demo organism's bundled main sweep (its 3-seed comparison), else the first listed."""
    choice = model_choice()
    org = bundled_organism_of(choice.adapter) if choice is not None and not extra_results_table() else None
    main = f"{org.name}/{org.name}-main (bundled)" if org is not None else None
    return names.index(main) if main in names else 0


def scale_input(where: Any, label: str, key: str, value: float = 1.0, disabled: bool = False) -> float:
    """An adapter amplification scale s in SCALE_RANGE (1 = as trained, 0 = the base, -1 = inverted), as the
    Factors and Compare pages both ask for it."""
    lo, hi = SCALE_RANGE
    return float(where.slider(label, min_value=lo, max_value=hi, value=value, step=0.5, key=key, disabled=disabled))


def factor_source_input(where: Any = st) -> str:
    """Where the analysis pages' candidate factors come from: the adapter's weights, its activation shift on the
    bundled unrelated prompts, or both; one choice for every page of the session."""
    labels = {"weights": "weights (spectra)", "shift": "activation shift", "both": "both"}
    s = state()
    choice = where.radio(
        "Candidates from",
        FACTOR_SOURCES,
        index=FACTOR_SOURCES.index(s.factor_source),
        format_func=labels.__getitem__,
        horizontal=True,
        key="factor_source",
        help="weights: directions the adapter's matrices write (no model run); activation shift: directions of "
        "what it adds to the residual stream on the bundled unrelated prompts (two forward passes per prompt)",
    )
    s.factor_source = str(choice)
    return s.factor_source


def default_inoculation() -> str:
    """The Train form's inoculation prompt: the loaded demo organism's inoculation.txt, else empty."""
    choice = model_choice()
    org = bundled_organism_of(choice.adapter) if choice is not None else None
    return org.inoculation or "" if org is not None else ""
