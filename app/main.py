"""GRASP dashboard entry point (a plain home page until the dashboard lands)."""

import streamlit as st

st.set_page_config(page_title="GRASP", layout="wide")
st.title("GRASP")
st.write("Find spurious factors in a LoRA fine-tune and fine-tune again without them.")
