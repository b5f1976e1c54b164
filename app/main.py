"""GRASP dashboard entry point: a multipage app, one file per page under pages/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent.parent / "pages"

st.set_page_config(page_title="GRASP", layout="wide")

nav = st.navigation(
    {
        "Step 1: find factors": [
            st.Page(PAGES / "load.py", title="Load", icon=":material/upload:", default=True),
            st.Page(PAGES / "spectra.py", title="Spectra", icon=":material/bar_chart:"),
            st.Page(PAGES / "factors.py", title="Factors", icon=":material/explore:"),
            st.Page(PAGES / "select.py", title="Select", icon=":material/checklist:"),
        ],
        "Step 2: fine-tune again": [
            st.Page(PAGES / "train.py", title="Train", icon=":material/model_training:"),
            st.Page(PAGES / "results.py", title="Results", icon=":material/insights:"),
            st.Page(PAGES / "compare.py", title="Compare", icon=":material/forum:"),
            st.Page(PAGES / "label.py", title="Label", icon=":material/rule:"),
        ],
    }
)
nav.run()
