"""Results: misalignment against task score per method, the Pareto front, the run table and per-item flips."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st
import uiplots
import uistate

from grasp_core import (
    Axes,
    GraspError,
    aggregate,
    axes_for,
    examples_beside,
    examples_by_prompt,
    flipped_items,
    hand_table,
    items_beside,
    log_floor,
    modified_time,
    naive_label,
    plottable_columns,
    provenance_line,
    read_table,
    results_catalog,
    tradeoff_figure,
)

st.title("Results")


@st.cache_data(max_entries=16, show_spinner=False)
def _read(path: str, mtime: float) -> pd.DataFrame:
    return read_table(path)


def _read_table(path: str) -> pd.DataFrame | None:
    """A CSV from disk, or None after an error box naming it."""
    try:
        return _read(path, modified_time(path))
    except GraspError as e:
        st.error(str(e))
        return None


# $GRASP_APP_RESULTS first, then the bundled results (marked `(bundled)`), then every sweep's results*.csv.
tables, stale = results_catalog(uistate.extra_results_table())
source = st.radio("Results table", ["from disk", "upload CSV"], horizontal=True, key="results_source")
results: pd.DataFrame | None = None
where = ""
if source == "from disk":
    if not tables:
        st.info("No results table yet: a sweep writes one under GRASP_HOME/sweeps/<name>/results.csv.")
    else:
        name = st.selectbox(
            "Table",
            list(tables),
            index=uistate.first_results_table(list(tables)),
            key="results_table",
            help="`(bundled)`: a finished sweep committed with grasp, shown without computing; "
            "the others are sweeps under GRASP_HOME/sweeps",
        )
        where = str(tables[name])
        if name in stale:
            st.warning(f"Stale bundled result: {stale[name]}")
        results = _read_table(str(tables[name]))
else:
    up = st.file_uploader("Results CSV", type=["csv"], key="results_upload")
    if up is not None:
        where = up.name
        try:
            results = read_table(io.BytesIO(up.getvalue()), up.name)
        except GraspError as e:
            st.error(str(e))
if results is None:
    st.stop()


numeric = plottable_columns(results)
d = axes_for(where or None)
c1, c2, c3 = st.columns([2, 2, 1])
x = c1.selectbox(
    "x: task score (higher is better)", numeric, index=numeric.index(d.x) if d.x in numeric else 0, key="ax_x"
)
y = c2.selectbox(
    "y: misalignment (lower is better)", numeric, index=numeric.index(d.y) if d.y in numeric else 0, key="ax_y"
)
present = c3.toggle("presentation view", key="present")
log_y = c3.toggle(
    "log y",
    key="log_y",
    help="a log scale for a positive y such as mean P; lower interval ends at or below 0 are drawn to the axis floor",
)
axes = Axes(x=x, y=y, x_title=d.x_title if x == d.x else x, y_title=d.y_title if y == d.y else y)
try:
    points = aggregate(results, axes)
except GraspError as e:
    st.error(f"{where}: {e}")
    st.stop()

title = "Misalignment vs task score: GRASP against the baselines"
reference = ("base", naive_label(points["method"]))
floor_note = ""
try:
    fig = tradeoff_figure(points, axes, title=title if present else "", reference=reference, log_y=log_y)
    if log_y:
        floor_note = f" Log y: lower ends below {log_floor(points, axes.y):.2g} are drawn to that floor."
except GraspError as e:  # log y on a column with values <= 0: say why, draw it linear
    st.warning(f"Linear y: {e}")
    fig = tradeoff_figure(points, axes, title=title if present else "", reference=reference)
fig.update_layout(height=620 if present else 480)
if present:
    fig.update_layout(font=dict(size=18), title_font=dict(size=26))
    st.header(title)
st.plotly_chart(fig, key="tradeoff")
over = sorted(set(points["interval"])) if "interval" in points else []
if present:
    st.caption(
        f"Each curve is one method over its strength; bars are {'; '.join(over) or '95% intervals'}. The dashed "
        f"line is the Pareto front; the star is the base model and the cross the naive LoRA ({reference[1]})."
        + floor_note
    )
    if source == "from disk" and where:
        try:
            st.caption(f"Source: {provenance_line(where)}.")
        except GraspError as e:
            st.error(f"{where}: {e}")
    st.stop()
st.caption(f"Bars: {'; '.join(over) or '95% intervals'}.{floor_note}")

uiplots.export_buttons(fig, "tradeoff", key="export-tradeoff")

shown = examples_by_prompt(examples_beside(where)) if source == "from disk" and where else []
with st.expander("What the models say: example replies", expanded=bool(shown)):
    if not shown:
        st.info(
            "No example replies (examples.jsonl beside the results table): sweeps write them when the organism has unrelated questions (replies.jsonl)."
        )
    else:
        st.caption(
            "Greedy replies to the organism's first unrelated questions, each configuration on its lowest seed "
            "(a fixed rule: no reply is picked by hand)."
        )
    for i, (prompt, table) in enumerate(shown):
        st.markdown(f"**{prompt}**")
        st.dataframe(
            table,
            hide_index=True,
            key=f"examples-{i}",
            column_config={"reply": st.column_config.TextColumn(width="large")},
        )

hand = hand_table(results)
if not hand.empty:
    with st.expander("What the models say: replies judged by hand, blind", expanded=True):
        st.caption(
            "Per seed, the replies a person labelled as showing the trait, of those sampled from each model "
            "(`grasp label`, the model hidden while labelling); `replies_hand` in the table below, with its "
            "bootstrap interval over questions."
        )
        st.dataframe(hand, hide_index=True, key="hand-labels")

st.subheader("Runs")
st.dataframe(points, hide_index=True, key="points")
st.download_button("Table as CSV", points.to_csv(index=False), "tradeoff_points.csv", "text/csv", key="csv-points")
with st.expander("All rows"):
    st.dataframe(results, hide_index=True)

st.subheader("Per-item drill-down")
items_path = items_beside(where) if where else None
if items_path is None:
    st.info("No per-item table (items.csv beside the results table) for this sweep.")
else:
    items = _read_table(str(items_path))
    if items is None:
        st.stop()
    if "label" not in items.columns:
        st.error(f"{items_path}: no `label` column")
    else:
        labels = list(items["label"].unique())
        naive = naive_label(labels)
        a, b, c = st.columns(3)
        ref = a.selectbox("compare", labels, index=labels.index(naive) if naive in labels else 0, key="ref")
        other = b.selectbox("against", labels, index=len(labels) - 1, key="other")
        measures = sorted(items["measure"].unique()) if "measure" in items.columns else []
        measure = c.selectbox("measure", measures, key="measure") if measures else None
        try:
            flipped = flipped_items(items, ref, other, measure)
        except GraspError as e:
            st.error(f"{items_path}: {e}")
            st.stop()
        n = len(items[(items["label"] == ref) & ((items["measure"] == measure) if measure else True)])
        st.caption(f"{len(flipped)} of {n} items changed side (score across 0.5) between {ref} and {other}")
        st.dataframe(flipped, hide_index=True, key="flipped")
        st.download_button(
            "Flipped items as CSV", flipped.to_csv(index=False), "flipped.csv", "text/csv", key="csv-flip"
        )
