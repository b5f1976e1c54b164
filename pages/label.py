"""Label: replies judged by hand, blind. One reply of a labelling sheet at a time, the model hidden; when every reply
is labelled, the sheet is un-blinded into each model's share of replies showing the trait."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from grasp_core import (
    GraspError,
    all_sheets,
    label_row,
    labels_root,
    read_sheet,
    score_sheet,
    sheet_about,
    sheet_models,
    sheet_title,
)

st.title("Label: replies judged by hand, blind")
st.caption(
    "A person reads each reply without knowing which model wrote it and says whether it shows the trait; the "
    "models are un-blinded only when every reply is labelled. Sheets come from `grasp label sheet` "
    f"(under `{labels_root()}`, or a sweep's `labels/` folder); the same sheet opens in any spreadsheet."
)

sheets = all_sheets()
if not sheets:
    st.info(
        "No labelling sheet yet. Make one from the command line, for example "
        "`grasp label sheet --sweep flattery-main --sweep-seed 0 --cell naive --cell inoculate`."
    )
    st.stop()

path = st.selectbox("Sheet", sheets, format_func=sheet_title, key="label_sheet")
try:
    rows = read_sheet(path)
    about = sheet_about(path)
except GraspError as e:
    st.error(str(e))
    st.stop()

if about.get("trait"):
    st.markdown(f"**The trait** ({about.get('organism', 'organism')}): {about['trait']}")
done = sum(r.trait is not None for r in rows)
st.progress(done / max(1, len(rows)), text=f"{done} of {len(rows)} replies labelled")

todo = [r for r in rows if r.trait is None]
last = st.session_state.get("label_last")
if todo:
    row = todo[0]
    with st.container(border=True):
        st.caption(f"row {row.row}")
        st.markdown("**Question**")
        st.text(row.question, width="stretch")
        st.markdown("**Reply**")
        st.text(row.reply, width="stretch")
    yes, no, undo = st.columns(3)
    choice = None
    if yes.button("Shows the trait (1)", key="label_yes", type="primary", width="stretch", shortcut="1"):
        choice = 1
    if no.button("Does not (0)", key="label_no", width="stretch", shortcut="0"):
        choice = 0
    if undo.button("Undo the last label", key="label_undo", disabled=last is None, width="stretch"):
        choice = -1
    if choice is not None:
        try:
            if choice == -1:
                label_row(path, int(last), None)
                st.session_state["label_last"] = None
            else:
                label_row(path, row.row, choice)
                st.session_state["label_last"] = row.row
        except GraspError as e:
            st.error(str(e))
            st.stop()
        st.rerun()
    st.stop()

st.success("Every reply is labelled: the models, un-blinded.")
try:
    models = sheet_models(path)
    reference = st.selectbox("Compared with", models, key="label_reference")
    result = score_sheet(path, reference)
except GraspError as e:
    st.error(str(e))
    st.stop()
table = pd.DataFrame(result.rows())
st.dataframe(table, hide_index=True, key="label_table")
st.caption(f"Intervals: {result.shares[result.reference].label} (the replies to one question are not independent).")
