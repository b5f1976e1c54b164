"""Train: queue GRASP and baseline runs (alone or as a sweep) and watch them in the run registry.

Runs are separate OS processes (grasp_core's run queue); this page lays out the form, hands it to
grasp_core.launch_runs / launch_sweep, and reads run folders, so the queue view survives a reload, a closed tab
and an app restart.
"""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import uiplots
import uistate

from grasp_core import (
    ACTIVE,
    DEFAULT_METHOD,
    FACTOR_SOURCES,
    METHODS,
    SELECT_BY,
    GraspError,
    LaunchForm,
    cancel,
    form_recipe,
    format_eta,
    launch_runs,
    launch_sweep,
    list_factor_sets,
    list_organisms,
    list_runs,
    list_sweeps,
    log_tail,
    newest_set_for,
    read_metrics,
    reap_dead,
    recipe_of,
    resume,
    resume_sweep,
    stop_sweep,
    submit,
    submit_sweep,
)

st.title("Fine-tune again")
sel = uistate.model_choice()
NO_SWEEP = "(no, plain runs)"
# The form starts from the loaded adapter's own recipe, so a run meant to fix it is comparable with it.
recipe = form_recipe(sel.adapter if sel is not None else None)
own = recipe_of(sel.adapter) if sel is not None else {}
try:
    reap_dead()  # the user is looking at the queue: runs whose worker died are marked, their slots used again
except GraspError as e:
    st.error(str(e))


with st.form("launch"):
    st.subheader("Launch")
    base = st.text_input("Base", value=sel.base if sel else "smollm2-135m", key="train_base")
    data = st.text_input("Training data (chat JSONL)", value=uistate.default_training_data(), key="train_data")
    sets = list_factor_sets()
    set_names = [s.name for s in sets]
    # Default: the newest set picked from the loaded adapter (stale sets stay choosable, training checks them).
    newest = newest_set_for(sets, sel.adapter) if sel is not None else None
    default_set = 1 + set_names.index(newest.name) if newest else 0
    chosen_set = st.selectbox(
        "Factor set (for methods that need factors)", ["(none)", *set_names], index=default_set, key="train_set"
    )
    methods = st.multiselect(
        "Methods",
        list(METHODS),
        default=[DEFAULT_METHOD],
        key="train_methods",
        help="; ".join(f"{m.name}: {m.description}" for m in METHODS.values()),
    )
    st.caption("Sweep values per method, comma separated (empty: the method's default; `top` empty = the whole set).")
    cols = st.columns(3)
    swept = [m for m in METHODS.values() if m.sweepable]
    raw_values = {
        m.name: cols[i % 3].text_input(
            f"{m.name}: {m.sweep_label}",
            key=f"values-{m.name}",
            # what an empty field runs: the method's default (grasp's is the README rule's pick), or a saved set whole
            placeholder=f"{m.default_top} (a factor set: all of it)"
            if m.sweep_field == "top" and m.default_top
            else "",
        )
        for i, m in enumerate(swept)
    }
    system_prompt = st.text_input(
        "inoculate: system prompt asking for the unwanted trait (in a sweep, empty: the organism's inoculation.txt)",
        value=uistate.default_inoculation(),
        key="train_system_prompt",
    )
    st.caption(f"Recipe (the loaded adapter's: {', '.join(f'{k} {v}' for k, v in own.items())})" if own else "Recipe")
    c = st.columns(6)
    seeds = c[0].number_input("seeds", 1, 10, 1, key="train_seeds")
    epochs = c[1].number_input("epochs", 1, 100, int(recipe["epochs"]), key="train_epochs")
    r = c[2].number_input("rank r", 1, 256, int(recipe["r"]), key="train_r")
    alpha = c[3].number_input("lora alpha", 0.01, 4096.0, float(recipe["lora_alpha"]), key="train_alpha")
    lr = c[4].number_input("learning rate", 1e-6, 1.0, float(recipe["lr"]), format="%.1e", key="train_lr")
    batch = c[5].number_input("batch size", 1, 512, int(recipe["batch_size"]), key="train_batch")
    organism = st.selectbox(
        "Evaluate as a sweep on organism",
        [NO_SWEEP, *list_organisms()],
        key="train_sweep",
        help="Runs every method x value x seed on the organism's own training data (the data field is not used), "
        "evaluates each on its evals, and writes a results table for the Results page. The naive LoRA is always "
        "included: it is the reference of the task gain. Without a factor set, factor methods use the factors of "
        "the naive run of the same seed.",
    )
    select_by = st.radio(
        "In a sweep without a factor set, factor methods take the naive run's first `top` factors by",
        SELECT_BY,
        horizontal=True,
        key="train_select_by",
        help="sigma: largest singular value first. evidence: ranked by how much drift ablating each removes per "
        "task gain lost, measured on the organism's probe files (never on the evals the sweep reports). "
        "suggested: the set the evidence suggests, its size chosen by the evidence (the method's values unused).",
    )
    g = st.columns(3)
    factor_source = g[0].radio(
        "Candidates from",
        FACTOR_SOURCES,
        horizontal=True,
        key="train_factor_source",
        help="In a sweep without a factor set: the naive run's factors from its weights (spectra), from its "
        "activation shift on unrelated prompts, or both (one round only for shift and both).",
    )
    rounds = g[1].number_input(
        "GRASP rounds",
        1,
        8,
        1,
        key="train_rounds",
        help="Train, add the adapter's new factors, train again from the base. In a sweep picking by evidence, "
        "each round's new factors are ranked by evidence on the organism's probe files too.",
    )
    mid_block = g[2].checkbox(
        "Project at mid-block too",
        key="train_mid_block",
        help="GRASP and random: the residual-grad projection also at every block's mid-block stream (after "
        "attention, before the MLP).",
    )
    queued = st.form_submit_button("Queue runs", type="primary")

if queued:
    named = next((s for s in sets if s.name == chosen_set), None)
    shared = {"r": int(r), "lora_alpha": float(alpha), "lr": float(lr), "batch_size": int(batch), "epochs": int(epochs)}
    try:
        form = LaunchForm(
            base=base,
            methods=tuple(methods),
            recipe={**recipe, **shared},
            values=raw_values,
            seeds=int(seeds),
            data=data,
            organism=None if organism == NO_SWEEP else organism,
            factor_set=str(named.path) if named else None,
            select_by=str(select_by),
            system_prompt=system_prompt,
            factor_source=str(factor_source),
            rounds=int(rounds),
            mid_block=bool(mid_block),
        )
        if form.organism is not None:
            folder = submit_sweep(launch_sweep(form))
            st.success(
                f"started sweep {folder.name} on {organism} in the background: its runs appear in the queue below, "
                f"its results in {folder / 'results.csv'} (the Results page) when it ends"
            )
        else:
            ids = [submit(cfg).id for cfg in launch_runs(form)]
            st.success(f"queued {len(ids)} run(s): {', '.join(ids)}")
    except GraspError as e:
        st.error(str(e))


@st.fragment(run_every="1s")
def queue_view() -> None:
    """Every run in the registry, newest first, with progress, ETA, live loss, cancel and logs."""
    runs = list_runs()
    st.subheader(f"Runs ({sum(r.status.state in ACTIVE for r in runs)} active, {len(runs)} in all)")
    if not runs:
        st.info("No runs yet.")
        return
    for run in reversed(runs):
        s = run.status
        with st.container(border=True):
            head = st.columns([4, 1, 1])
            head[0].markdown(f"**{run.id}** · `{run.config.method}` · {s.state}")
            if s.state in ACTIVE and head[1].button("Cancel", key=f"cancel-{run.id}"):
                try:
                    cancel(run.id)
                except GraspError as e:
                    st.error(str(e))
            if s.state in ("cancelled", "failed") and head[2].button("Resume", key=f"resume-{run.id}"):
                try:
                    resume(run.id)
                except GraspError as e:
                    st.error(str(e))
            text = f"step {s.step}/{s.total or '?'} · ETA {format_eta(s.eta_s)}"
            if s.loss is not None:
                text += f" · loss {s.loss:.4f}"
            st.progress(s.progress or (1.0 if s.state == "done" else 0.0), text=text)
            if s.error:
                st.error(f"run {run.id} failed: {s.error}")
            gone = run.worker_gone()
            if gone:
                st.warning(f"run {run.id}: its worker {gone}; reload the page to mark it failed and resume it")
            metrics = read_metrics(run)
            if metrics:
                df = pd.DataFrame(metrics)
                if "loss" in df:
                    x = df["step"] if "step" in df else df.index
                    fig = go.Figure(go.Scatter(x=x, y=df["loss"], mode="lines"))
                    fig.update_xaxes(title="step")
                    fig.update_yaxes(title="loss")
                    st.plotly_chart(uiplots.style(fig, height=200), key=f"loss-{run.id}-{len(df)}")
            with st.expander("log"):
                st.code("\n".join(log_tail(run.dir, 40)) or "(empty)")
    st.caption(f"updated {time.strftime('%H:%M:%S')}")


queue_view()


@st.fragment(run_every="2s")
def sweeps_view() -> None:
    """Every sweep folder, newest first: its state, cells done and the end of its log."""
    sweeps = list_sweeps()
    st.subheader(f"Sweeps ({sum(s.running for s in sweeps)} running, {len(sweeps)} in all)")
    if not sweeps:
        st.info("No sweeps yet: pick an organism in the launch form to run one.")
        return
    for sw in sweeps:
        with st.container(border=True):
            head = st.columns([4, 1])
            where = f" · process {sw.pid}" if sw.pid else ""
            head[0].markdown(f"**{sw.name}** · organism `{sw.organism or '?'}` · {sw.state}{where}")
            try:
                if sw.running and head[1].button("Stop", key=f"stop-sweep-{sw.name}"):
                    stop_sweep(sw.folder)
                if sw.state == "stopped" and head[1].button("Resume", key=f"resume-sweep-{sw.name}"):
                    resume_sweep(sw.folder)
            except GraspError as e:
                st.error(str(e))
            if sw.total and sw.done is not None:
                st.progress(min(1.0, sw.done / sw.total), text=f"{sw.done} of {sw.total} cells done")
            elif sw.state == "incomplete":
                st.caption("run from a terminal and not finished: its progress shows only in that terminal")
            if sw.state == "stopped":
                st.caption(
                    "ended before every cell was evaluated (stopped, or failed: see its log); Resume reuses "
                    "its finished runs and evaluations"
                )
            with st.expander("log"):
                st.code("\n".join(sw.log) or "(no log: run from a terminal)")
    st.caption(f"updated {time.strftime('%H:%M:%S')}")


sweeps_view()
