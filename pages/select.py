"""Select: tick factors by hand, name and save them as a set; saved sets persist and are checked for staleness."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import uicache
import uiplots
import uistate

from grasp_core import (
    FactorSetSpec,
    GraspError,
    delete_factor_set,
    list_factor_sets,
    pick_rows,
    save_factor_set,
    set_cosines,
)

st.title("Select factor sets")
sel = uistate.require_model_choice()
uistate.factor_source_input()
stamp, fs = uicache.loaded_candidates(sel)
try:
    ad = uicache.adapter(sel.base, sel.adapter, stamp)
except GraspError as e:
    st.error(str(e))
    st.stop()

# "Pick by evidence" pre-ticks what the Factors page's evidence suggests; the ticks stay editable.
request = uicache.evidence_request(sel.base, sel.adapter, uicache.evidence_evals())
ev = None
try:
    ev = uicache.finished_evidence(sel.base, sel.adapter, stamp, request)
except GraspError as e:
    st.error(str(e))
e1, e2 = st.columns([1, 3])
if e1.button("Pick by evidence", key="pick_evidence", disabled=ev is None or not ev.suggested):
    uistate.state().evidence_pick = list(ev.suggested) if ev is not None else []
if ev is None:
    e2.caption("No evidence yet for this adapter: gather it on the **Factors** page to pick by it.")
else:
    e2.caption(f"Evidence suggests: **{', '.join(ev.suggested) or 'none'}**")
pre = uistate.state().evidence_pick
table = pd.DataFrame(pick_rows(fs, ev, pre))
edited = st.data_editor(
    table,
    hide_index=True,
    disabled=["id", "scope", "side", "layer", "sigma", "energy", "evidence score"],
    column_config={"pick": st.column_config.CheckboxColumn("pick", help="include this factor in the set")},
    key="pick_table_evidence" if pre is not None else "pick_table",
)
picked = edited.loc[edited["pick"], "id"].tolist()
st.caption(f"{len(picked)} picked: {', '.join(picked) or '-'}")

c1, c2, c3 = st.columns([2, 1, 1])
name = c1.text_input("Set name", key="set_name", placeholder="e.g. persona-top2")
overwrite = c2.checkbox("overwrite", key="set_overwrite")
if c3.button("Save set", type="primary", key="save_set", disabled=not picked):
    try:
        saved = save_factor_set(FactorSetSpec(name, tuple(picked)), fs, overwrite=overwrite)
    except (GraspError, ValueError) as e:
        st.error(str(e))
    else:
        st.success(f"saved factor set {saved.name!r} ({len(saved.ids)} factors) to {saved.path}")

st.subheader("Saved sets")
sets = list_factor_sets()
if not sets:
    st.info("No saved sets yet.")
for named in sets:
    with st.expander(f"{named.name} · {len(named.ids)} factors", expanded=named.matches(ad.hash)):
        if not named.matches(ad.hash):
            st.error(
                f"factor set {named.name!r} was picked from adapter {named.factors.adapter} (hash {named.adapter_hash}), "
                f"not the loaded one (hash {ad.hash}): it is stale for this adapter; pick it again."
            )
        st.write(", ".join(named.ids))
        cos = set_cosines(named)
        fig = uiplots.heatmap(
            cos,
            named.ids,
            named.ids,
            "Mutual cosines",
            colorscale=uiplots.DIVERGING,
            zmin=-1,
            zmax=1,
            text=[[f"{v:.2f}" for v in r] for r in cos],
            texttemplate="%{text}",
        )
        fig.update_yaxes(autorange="reversed")
        st.plotly_chart(uiplots.style(fig, height=260 + 20 * len(named.ids)), key=f"cos-{named.name}")
        st.caption(f"file: `{named.path}` (a factors file: `grasp train --factors` reads it)")
        if st.button("Delete", key=f"del-{named.name}"):
            delete_factor_set(named.name)
            st.rerun()
