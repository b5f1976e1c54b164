"""What the user has chosen (base, adapter, factor set), kept in session_state with defaults from the
environment (`make app` preselects the bundled demo) so every page starts from the same selection."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from grasp_core import DEFAULT_BASE, demo_adapters

DEFAULT_DEMO = "persona"
PAGES = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class Selection:
    """The base spec and adapter folder every analysis page works on."""

    base: str
    adapter: str


def default_selection() -> Selection | None:
    """$GRASP_APP_BASE / $GRASP_APP_ADAPTER when set, else the bundled base with the `persona` demo if present."""
    base = os.environ.get("GRASP_APP_BASE") or DEFAULT_BASE
    adapter = os.environ.get("GRASP_APP_ADAPTER")
    if not adapter:
        demos = demo_adapters()
        demo = os.environ.get("GRASP_APP_DEMO", DEFAULT_DEMO)
        if demo in demos:
            adapter = str(demos[demo])
    return Selection(base, adapter) if adapter else None


def selection() -> Selection | None:
    """The current selection of this session (initialised from the defaults once)."""
    if "selection" not in st.session_state:
        st.session_state["selection"] = default_selection()
    return st.session_state["selection"]


def set_selection(sel: Selection) -> None:
    """Make `sel` the selection every page uses."""
    st.session_state["selection"] = sel


def require_selection() -> Selection:
    """The selection, or a pointer to the Load page and a stop when nothing is loaded yet."""
    sel = selection()
    if sel is None:
        st.info("No adapter loaded yet: choose a base and an adapter on the **Load** page first.")
        st.stop()
    assert sel is not None
    return sel
