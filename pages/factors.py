"""Factors: the candidate directions, their overlaps, and what one of them does (prompts, tokens, steering)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import uicache
import uiplots
import uistate

from grasp_core import GraspError, cosine_matrix

st.title("Candidate factors")
sel = uistate.require_selection()
stamp = uicache.adapter_stamp(sel.adapter)
try:
    fs = uicache.candidates(sel.base, sel.adapter, stamp)
except GraspError as e:
    st.error(str(e))
    st.stop()

scopes = st.multiselect("Show", ["global", "module"], default=["global"], key="factor_scopes")
shown = [f for f in fs.factors if f.scope in scopes]
if not shown:
    st.info("Choose at least one scope.")
    st.stop()
table = pd.DataFrame(
    [
        {
            "id": f.id, "scope": f.scope, "side": f.side, "layer": f.layer if f.layer is not None else f.stream_layer,
            "sigma": f.sigma, "energy": f.energy, "loadings": f.loadings or None,
        }
        for f in shown
    ]
)  # fmt: skip
left, right = st.columns([3, 2])
with left:
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "loadings": st.column_config.LineChartColumn("per-layer loadings", width="medium"),
            "sigma": st.column_config.NumberColumn(format="%.4f"),
            "energy": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.3f"),
        },
        key="factor_table",
    )
with right:
    cos = cosine_matrix(fs.matrix([fs.factors.index(f) for f in shown])).numpy()
    ids = [f.id for f in shown]
    fig = uiplots.heatmap(cos, ids, ids, "Cosine similarity", colorscale=uiplots.DIVERGING, zmin=-1, zmax=1)
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(fig, key="heat-cos")

st.divider()
fid = st.selectbox("Inspect factor", ids, key="inspect_factor")
f = fs.by_id(fid)
st.caption(f"{f.scope} {f.side} factor · sigma {f.sigma:.4f} · energy {f.energy:.3f} · stream layer {f.stream_layer}")

c1, c2 = st.columns(2)
with c1:
    if f.loadings:
        fig = go.Figure(go.Bar(x=list(range(len(f.loadings))), y=f.loadings))
        fig.update_xaxes(title="layer", tickformat="d")
        fig.update_yaxes(title="||Z_j^T M_l||")
        st.plotly_chart(uiplots.style(fig, "Per-layer loadings", height=300), key="bar-loadings")
    lens = uicache.lens(sel.base, sel.adapter, stamp, fid)
with c2:
    st.markdown("**Logit lens**")
    lc = st.columns(2)
    lc[0].dataframe(pd.DataFrame(lens["promoted"], columns=["promoted", "logit"]), hide_index=True, key="lens-up")
    lc[1].dataframe(pd.DataFrame(lens["suppressed"], columns=["suppressed", "logit"]), hide_index=True, key="lens-dn")

st.subheader("Top-activating prompts")
corpus_default = os.environ.get("GRASP_APP_CORPUS", "")
if not corpus_default:
    # A demo organism's training chats (beside its naive-lora/) show where the spurious trait lights up.
    organism_train = Path(sel.adapter).parent / "train.jsonl"
    corpus_default = str(organism_train) if organism_train.is_file() else ""
corpus = st.text_input("Prompt corpus (JSONL chats or text, one prompt a line)", value=corpus_default, key="corpus")
if st.button("Scan", key="scan", disabled=not corpus):
    st.session_state["scan_for"] = (fid, corpus)
if st.session_state.get("scan_for") == (fid, corpus):
    try:
        res = uicache.factor_scan(sel.base, sel.adapter, stamp, fid, corpus)
    except GraspError as e:
        st.error(str(e))
    else:
        st.caption(
            f"{res.n_prompts} prompts, {res.n_tokens} tokens · mean {res.mean:.3f} · std {res.std:.3f}"
            + (" · from cache" if res.cached else "")
        )
        scale = max((abs(v) for p in res.top for v in p.values), default=1.0)
        for p in res.top:
            st.markdown(f"score **{p.score:.3f}** · prompt {p.index}")
            st.html(uiplots.token_html(p.tokens, p.values, scale))
        h1, h2 = st.columns(2)
        with h1:
            centers = [(a + b) / 2 for a, b in zip(res.hist_edges[:-1], res.hist_edges[1:], strict=True)]
            fig = go.Figure(go.Bar(x=centers, y=res.hist_counts))
            fig.update_xaxes(title="h . z")
            fig.update_yaxes(title="tokens", type="log")
            st.plotly_chart(uiplots.style(fig, "Activation histogram", height=300), key="hist-act")
        with h2:
            bins = [
                {
                    "bin": f"{res.quantile_edges[i]:.2f} .. {res.quantile_edges[i + 1]:.2f}",
                    "examples": " | ".join(f"{t.token!r} ({t.value:.2f})" for t in ex),
                }
                for i, ex in enumerate(res.quantile_examples)
            ]
            st.dataframe(pd.DataFrame(bins), hide_index=True, key="quantiles")

st.subheader("Steering preview")
s1, s2, s3 = st.columns([3, 1, 1])
prompt = s1.text_input("User prompt", value="Give me one tip for saving money.", key="steer_prompt")
alpha = s2.number_input("alpha", min_value=0.0, max_value=200.0, value=8.0, step=1.0, key="steer_alpha")
max_new = s3.number_input("new tokens", min_value=1, max_value=200, value=30, key="steer_tokens")
if st.button("Generate", key="steer_generate"):
    st.session_state["steer_for"] = (fid, prompt, float(alpha), int(max_new))
if st.session_state.get("steer_for") == (fid, prompt, float(alpha), int(max_new)):
    try:
        samples = uicache.steer_preview(sel.base, sel.adapter, stamp, fid, prompt, float(alpha), int(max_new))
    except GraspError as e:
        st.error(str(e))
    else:
        cols = st.columns(len(samples))
        for col, smp in zip(cols, samples, strict=True):
            with col.container(border=True):
                st.markdown(f"**alpha = {smp.alpha:+g}**")
                st.write(smp.text)
