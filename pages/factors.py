"""Factors: the evidence for each candidate direction first (what removing it does to drift and task), then for one
factor its side-by-side replies, where the adapter writes it (shift-mode top prompts) and its spectrum view."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import uicache
import uiplots
import uistate

from grasp_core import RULE, GraspError, cosine_matrix, evidence_process, inspection_order, start_evidence

st.title("Candidate factors")
sel = uistate.require_model_choice()
uistate.factor_source_input()
stamp, fs = uicache.loaded_candidates(sel)

# ---------------------------------------------------------------- evidence table
st.subheader("Evidence")
evals_text = st.text_input(
    "Eval files for the evidence (space-separated; empty: the demo organism's probe files, else the adapter's own "
    "replies to unrelated prompts)",
    value=" ".join(uicache.evidence_evals()),
    key="evidence_evals",
)
try:
    request = uicache.evidence_request(sel.base, sel.adapter, uicache.evidence_evals(evals_text))
except GraspError as e:
    st.error(str(e))
    st.stop()
st.caption(
    f"Each of the first {request.top} global write factors is ablated from the adapted model, alone and "
    f"then cumulatively, and measured on {request.measured_on}."
)


@st.fragment(run_every="2s")
def evidence_progress() -> None:
    proc = evidence_process(request)
    if proc.state == "running":
        st.info("Gathering evidence in the background (other pages stay usable) ...")
        st.code("\n".join(proc.log[-3:]) or "starting ...")
    elif proc.state == "done" and uistate.state().evidence_seen != str(proc.result):
        uistate.state().evidence_seen = str(proc.result)
        st.rerun()


proc = evidence_process(request)
c1, c2 = st.columns([1, 3])
if c1.button(
    "Gather evidence" if proc.state != "done" else "Gather again",
    key="evidence_start",
    disabled=proc.state == "running",
):
    try:
        proc = start_evidence(request, rerun=proc.state in ("done", "failed"))
    except GraspError as e:
        st.error(str(e))
if proc.state == "running":
    evidence_progress()
elif proc.state == "failed":
    st.error("Gathering evidence failed:\n\n" + "\n".join(proc.log[-4:]))

ev = None
try:
    ev = uicache.finished_evidence(sel.base, sel.adapter, stamp, request)
    if ev is None and proc.state != "running":
        ev = uicache.shipped_evidence(sel.base, sel.adapter, stamp, request)
        if ev is not None:
            c2.caption(
                f"Bundled with grasp (`grasp demo evidence --organism {request.organism}`); "
                "**Gather evidence** recomputes it here."
            )
except GraspError as e:
    st.error(str(e))
if ev is not None:
    for name, ref in ev.reference.items():
        c2.caption(f"**{name}**: base {ref['base']:.4f} · adapter {ref['adapter']:.4f}")
    table = pd.DataFrame(ev.factor_table())
    st.dataframe(
        table,
        hide_index=True,
        key="evidence_table",
        column_config={
            "removed": st.column_config.ProgressColumn("drift removed", min_value=0.0, max_value=1.0, format="%.2f"),
            "kept": st.column_config.ProgressColumn("task kept", min_value=0.0, max_value=1.0, format="%.2f"),
            "suggested": st.column_config.CheckboxColumn("suggested"),
            "sigma": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    st.caption(
        f"Suggested: **{', '.join(ev.suggested) or 'none'}**. Rule: {RULE} Intervals: 95% bootstrap over "
        "items of this one adapter."
    )
    if ev.cumulative:
        with st.expander("The ranked factors ablated together"):
            st.dataframe(pd.DataFrame(ev.cumulative_table()), hide_index=True, key="evidence_cumulative")

# ---------------------------------------------------------------- one factor
st.divider()
order = inspection_order(fs, ev)
ranked = [r.factor for r in ev.rows] if ev is not None else []
if ranked and uistate.state().inspect_ranked_for != ranked:  # new evidence: start at its top factor
    uistate.state().inspect_ranked_for = ranked
    st.session_state["inspect_factor"] = ranked[0]
fid = st.selectbox("Inspect factor", order, key="inspect_factor")
f = fs.by_id(fid)
st.caption(f"{f.scope} {f.side} factor · sigma {f.sigma:.4f} · energy {f.energy:.3f} · stream layer {f.stream_layer}")

st.markdown(
    "**Side by side** (greedy replies to unrelated prompts; steering adds a multiple of the adapter's own "
    "shift along the factor at every layer, so 1x is what the fine-tune added)"
)
s1, s2, s3, s4 = st.columns(4)
multiple = s1.number_input(
    "x the adapter's shift", min_value=-10.0, max_value=10.0, value=1.0, step=0.5, key="steer_multiple"
)
scale = uistate.scale_input(s2, "adapter scale s (adapted and ablated replies; 2 exposes, -1 inverts)", "amplify_scale")
n_prompts = s3.number_input("prompts", min_value=1, max_value=8, value=2, key="side_prompts")
max_new = s4.number_input("new tokens", min_value=1, max_value=200, value=32, key="steer_tokens")
shown = (fid, float(multiple), int(n_prompts), int(max_new), float(scale))
if st.button("Generate side by side", key="steer_generate"):
    uistate.state().side_for = shown
if uistate.state().side_for == shown:
    try:
        rows = uicache.side_by_side_replies(sel.base, sel.adapter, stamp, *shown)
    except GraspError as e:
        st.error(str(e))
    else:
        for r in rows:
            st.markdown(f"*{r.prompt}*")
            cols = st.columns(4)
            for col, (title, text) in zip(
                cols,
                [
                    ("adapted" if r.scale == 1 else f"adapted x {r.scale:g}", r.adapted),
                    (
                        "adapted, factor ablated" if r.scale == 1 else f"adapted x {r.scale:g}, factor ablated",
                        r.ablated,
                    ),
                    ("base", r.base),
                    (f"base + {r.multiple:g} x shift", r.steered),
                ],
                strict=True,
            ):
                with col.container(border=True):
                    st.markdown(f"**{title}**")
                    st.write(text or "(empty)")

st.markdown(
    "**Where the adapter writes it**: per token, what the adapter adds along the factor (adapter minus "
    "base); red is more, blue less; the first (attention-sink) token is left out"
)
# A demo organism's training chats (beside its naive-lora/) show where the spurious trait lights up.
corpus = st.text_input(
    "Prompt corpus (JSONL chats or text, one prompt a line)", value=uistate.default_scan_corpus(), key="corpus"
)
if st.button("Scan", key="scan", disabled=not corpus):
    uistate.state().scan_for = (fid, corpus)
if uistate.state().scan_for == (fid, corpus):
    try:
        res = uicache.factor_scan(sel.base, sel.adapter, stamp, fid, corpus)
    except GraspError as e:
        st.error(str(e))
    else:
        st.caption(
            f"{res.n_prompts} prompts, {res.n_tokens} tokens · mean {res.mean:.3f} · std {res.std:.3f}"
            + (" · from cache" if res.cached else "")
        )
        scale = max((abs(v) for p in res.top_prompts for v in p.values[p.first_scored :]), default=1.0)
        for p in res.top_prompts:
            st.markdown(f"score **{p.score:.3f}** · prompt {p.index}")
            st.html(uiplots.token_html(p.tokens, p.values, scale, skip=p.first_scored))
        h1, h2 = st.columns(2)
        with h1:
            centers = [(a + b) / 2 for a, b in zip(res.hist_edges[:-1], res.hist_edges[1:], strict=True)]
            fig = go.Figure(go.Bar(x=centers, y=res.hist_counts))
            fig.update_xaxes(title="adapter - base along z" if res.mode == "shift" else "h . z")
            fig.update_yaxes(title="tokens", type="log")
            st.plotly_chart(uiplots.style(fig, "Per-token values", height=300), key="hist-act")
        with h2:
            st.dataframe(pd.DataFrame(res.quantile_rows()), hide_index=True, key="quantiles")

# ---------------------------------------------------------------- spectrum view
with st.expander(
    "Spectrum view: sigma, loadings, overlaps, logit lens (what the fine-tune wrote most, which is not "
    "what makes a factor spurious)"
):
    scopes = st.multiselect("Show", ["global", "module"], default=["global"], key="factor_scopes")
    rows = fs.rows(tuple(scopes))
    if rows:
        table = pd.DataFrame(rows)
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
        shown_ids = [row["id"] for row in rows]
        cos = cosine_matrix(fs.matrix([fs.index_of(i) for i in shown_ids])).numpy()
        fig = uiplots.heatmap(
            cos, shown_ids, shown_ids, "Cosine similarity", colorscale=uiplots.DIVERGING, zmin=-1, zmax=1
        )
        fig.update_yaxes(autorange="reversed")
        st.plotly_chart(fig, key="heat-cos")
    if f.loadings:
        fig = go.Figure(go.Bar(x=list(range(len(f.loadings))), y=f.loadings))
        fig.update_xaxes(title="layer", tickformat="d")
        fig.update_yaxes(title="||Z_j^T M_l||")
        st.plotly_chart(uiplots.style(fig, f"Per-layer loadings of {fid}", height=300), key="bar-loadings")
    lens = uicache.lens(sel.base, sel.adapter, stamp, fid)
    st.markdown("**Logit lens** (on small models mostly noise)")
    lc = st.columns(2)
    lc[0].dataframe(pd.DataFrame(lens["promoted"], columns=["promoted", "logit"]), hide_index=True, key="lens-up")
    lc[1].dataframe(pd.DataFrame(lens["suppressed"], columns=["suppressed", "logit"]), hide_index=True, key="lens-dn")
