"""results (being built)."""

import streamlit as st

st.title("Results")
