"""Spectra: where the update's energy sits (layer x module), each module's singular values, the global spectrum."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import uicache
import uiplots
import uistate

from grasp_core import GraspError

st.title("Spectra of dW = s B A")
sel = uistate.require_model_choice()
stamp, fs = uicache.loaded_candidates(sel, "weights")  # the weights' spectra, whatever the Factors page shows
try:
    rows = uicache.spectra_rows(sel.base, sel.adapter, stamp)
except GraspError as e:
    st.error(str(e))
    st.stop()

df = pd.DataFrame(rows)
df["layer"] = df["layer"].fillna(-1).astype(int)

c1, c2 = st.columns(2)
with c1:
    top = df.pivot_table(index="kind", columns="layer", values="top_sigma", aggfunc="max")
    fig = uiplots.heatmap(
        top.to_numpy(),
        list(top.columns),
        list(top.index),
        "Top singular value per layer x module",
        colorbar=dict(title="sigma_1"),
    )
    fig.update_xaxes(title="layer", tickformat="d")
    st.plotly_chart(fig, key="heat-top-sigma")
with c2:
    per_layer = df.groupby("layer", as_index=False).agg(energy_share=("energy_share", "sum"))
    fig = go.Figure(go.Bar(x=per_layer["layer"], y=per_layer["energy_share"], name="energy share"))
    fig.update_xaxes(title="layer", tickformat="d")
    fig.update_yaxes(title="share of ||dW||_F^2")
    st.plotly_chart(uiplots.style(fig, "Energy share per layer"), key="bar-energy")

c3, c4 = st.columns(2)
with c3:
    if df["rel_norm"].notna().any():
        rel = df.dropna(subset=["rel_norm"])
        fig = go.Figure()
        for kind, g in rel.groupby("kind"):
            fig.add_trace(go.Scatter(x=g["layer"], y=g["rel_norm"], mode="lines+markers", name=str(kind)))
        fig.update_xaxes(title="layer", tickformat="d")
        fig.update_yaxes(title="||dW|| / ||W0||", type="log")
        st.plotly_chart(uiplots.style(fig, "Relative update size per layer"), key="line-rel")
    else:
        st.info("||dW|| / ||W0|| needs the base weights, which could not be read.")
with c4:
    fig = go.Figure()
    for side, sig in fs.global_sigma.items():
        fig.add_trace(go.Bar(x=list(range(len(sig[:32]))), y=sig[:32], name=f"global {side}"))
    fig.update_xaxes(title="global factor j")
    fig.update_yaxes(title="singular value")
    st.plotly_chart(uiplots.style(fig, "Global-factor spectrum (top 32)"), key="bar-global")

st.subheader("Per-module spectrum")
module = st.selectbox("Module", df["module"].tolist(), key="spectra_module")
row = df[df["module"] == module].iloc[0]
fig = go.Figure(go.Bar(x=list(range(len(row["sigma"]))), y=row["sigma"]))
fig.update_xaxes(title="i")
fig.update_yaxes(title="sigma_i")
st.plotly_chart(
    uiplots.style(fig, f"{module} ({row['side']}): top-1 share {row['top1_share']:.2f}", height=300),
    key="bar-module",
)
with st.expander("Table"):
    st.dataframe(df.drop(columns=["sigma"]), hide_index=True)
