"""Train: queue GRASP and baseline runs (alone or as a sweep) and watch them in the run registry.

Runs are separate OS processes (grasp_core.jobs); this page only writes configs and reads run folders, so the
queue view survives a reload, a closed tab and an app restart.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import uiplots
import uistate

from grasp_core.errors import GraspError
from grasp_core.factorsets import NamedFactorSet, list_factor_sets
from grasp_core.jobs import cancel, resume, stop_sweep, submit, submit_sweep
from grasp_core.methods import METHODS
from grasp_core.organisms import list_organisms
from grasp_core.runs import ACTIVE, list_runs, log_tail, read_metrics
from grasp_core.sweep import list_sweeps, sweep_config_of
from grasp_core.sweepconfig import SweepConfig
from grasp_core.trainconfig import TrainConfig

st.title("Fine-tune again")
sel = uistate.selection()
NO_SWEEP = "(no, plain runs)"


def _default_data() -> str:
    if os.environ.get("GRASP_APP_DATA"):
        return os.environ["GRASP_APP_DATA"]
    if sel is not None:
        organism = os.path.dirname(sel.adapter)
        for name in ("train.jsonl", "data.jsonl", "chats.jsonl"):
            if os.path.isfile(os.path.join(organism, name)):
                return os.path.join(organism, name)
    return ""


def _values(raw: str, field: str) -> list[float | int | None]:
    """The comma-separated sweep values of one method ('' = the default only)."""
    if not raw.strip():
        return [None]
    conv = int if field == "top" else float
    try:
        return [conv(v) for v in raw.replace(" ", "").split(",") if v]
    except ValueError:
        raise GraspError(f"`{field}` values must be numbers separated by commas, got {raw!r}") from None


with st.form("launch"):
    st.subheader("Launch")
    base = st.text_input("Base", value=sel.base if sel else "smollm2-135m", key="train_base")
    data = st.text_input("Training data (chat JSONL)", value=_default_data(), key="train_data")
    sets = list_factor_sets()
    set_names = [s.name for s in sets]
    # Default: the newest set picked from the loaded adapter (stale sets stay choosable, choose_factors checks them).
    fresh = sorted(
        (s for s in sets if sel is not None and s.factors.adapter == sel.adapter), key=lambda s: s.factors.created
    )
    default_set = 1 + set_names.index(fresh[-1].name) if fresh else 0
    chosen_set = st.selectbox(
        "Factor set (for methods that need factors)", ["(none)", *set_names], index=default_set, key="train_set"
    )
    methods = st.multiselect(
        "Methods", list(METHODS), default=["grasp"], key="train_methods",
        help="; ".join(f"{m.name}: {m.description}" for m in METHODS.values()),
    )  # fmt: skip
    st.caption("Sweep values per method, comma separated (empty: the method's default; `top` empty = the whole set).")
    cols = st.columns(3)
    raw_values = {}
    swept = [(name, m) for name, m in METHODS.items() if name != "lora"]  # naive LoRA has nothing to sweep
    for i, (name, m) in enumerate(swept):
        label = f"{name}: {m.sweep_field if m.strength_name is None else m.strength_name}"
        raw_values[name] = cols[i % 3].text_input(label, key=f"values-{name}")
    c = st.columns(5)
    seeds = c[0].number_input("seeds", 1, 10, 1, key="train_seeds")
    epochs = c[1].number_input("epochs", 1, 100, 1, key="train_epochs")
    r = c[2].number_input("rank r", 1, 256, 8, key="train_r")
    lr = c[3].number_input("learning rate", 1e-6, 1.0, 2e-4, format="%.1e", key="train_lr")
    batch = c[4].number_input("batch size", 1, 512, 8, key="train_batch")
    organism = st.selectbox(
        "Evaluate as a sweep on organism", [NO_SWEEP, *list_organisms()], key="train_sweep",
        help="Runs every method x value x seed on the organism's own training data (the data field is not used), "
        "evaluates each on its evals, and writes a results table for the Results page. The naive LoRA is always "
        "included: it is the reference of the task gain. Without a factor set, factor methods use the factors of "
        "the naive run of the same seed.",
    )  # fmt: skip
    queued = st.form_submit_button("Queue runs", type="primary")


def _sweep_config(organism: str, named: NamedFactorSet | None) -> SweepConfig:
    """The form as a sweep: one entry per method, its comma values as an axis, seeds 0..n-1."""
    entries: list[dict[str, object]] = [{"method": "lora"}]  # the naive reference, first
    for name in methods:
        m = METHODS[name]
        if name == "lora":
            continue
        entry: dict[str, object] = {"method": name}
        field = m.sweep_field if m.strength_name is None else "strength"
        values = [v for v in _values(raw_values.get(name, ""), field) if v is not None]
        if values:
            entry[field] = values
        if m.needs_factors and named is not None:
            entry["factors"] = str(named.path)
            entry.setdefault("top", len(named.factors))  # `top` empty = the whole hand-picked set
        entries.append(entry)
    train = {"r": int(r), "lora_alpha": 2.0 * int(r), "lr": float(lr), "batch_size": int(batch), "epochs": int(epochs)}
    return SweepConfig.from_dict(
        {"organism": organism, "base": base, "seeds": list(range(int(seeds))), "train": train, "methods": entries},
        where="the launch form",
    )


if queued and organism != NO_SWEEP:
    named = next((s for s in sets if s.name == chosen_set), None)
    try:
        folder = submit_sweep(_sweep_config(organism, named))
    except GraspError as e:
        st.error(str(e))
    else:
        st.success(
            f"started sweep {folder.name} on {organism} in the background: its runs appear in the queue below, "
            f"its results in {folder / 'results.csv'} (the Results page) when it ends"
        )
elif queued:
    named = next((s for s in sets if s.name == chosen_set), None)
    try:
        configs = []
        for name in methods:
            m = METHODS[name]
            if m.needs_factors and named is None and name != "random":
                raise GraspError(f"method `{name}` needs a factor set: save one on the Select page and choose it")
            field = m.sweep_field if m.strength_name is None else "strength"
            for value in _values(raw_values.get(name, ""), field) if name != "lora" else [None]:
                for seed in range(int(seeds)):
                    kw: dict[str, object] = dict(
                        data=data, base=base, method=name, seed=seed, epochs=int(epochs), r=int(r),
                        lora_alpha=2.0 * int(r), lr=float(lr), batch_size=int(batch),
                    )  # fmt: skip
                    if m.needs_factors:
                        kw["factors"] = str(named.path) if named else None
                        kw["top"] = value if field == "top" else None
                        if named is not None and kw["top"] is None:
                            kw["top"] = len(named.factors)  # `top` empty = the whole hand-picked set
                        if name == "random" and named is None and kw["top"] is None:
                            kw["top"] = 1
                    if field == "strength" and value is not None:
                        kw["strength"] = float(value)
                    configs.append(TrainConfig.from_dict(kw))
        if not data or not os.path.isfile(data):
            raise GraspError(f"training data {data or '(empty)'}: file not found")
        ids = [submit(cfg).id for cfg in configs]
    except GraspError as e:
        st.error(str(e))
    else:
        st.success(f"queued {len(ids)} run(s): {', '.join(ids)}")


def _eta(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


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
            text = f"step {s.step}/{s.total or '?'} · ETA {_eta(s.eta_s)}"
            if s.loss is not None:
                text += f" · loss {s.loss:.4f}"
            st.progress(s.progress or (1.0 if s.state == "done" else 0.0), text=text)
            if s.error:
                st.error(f"run {run.id} failed: {s.error}")
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
                    submit_sweep(sweep_config_of(sw.folder), root=sw.folder.parent)
            except GraspError as e:
                st.error(str(e))
            if sw.total and sw.done is not None:
                st.progress(min(1.0, sw.done / sw.total), text=f"{sw.done} of {sw.total} cells done")
            elif sw.state == "incomplete":
                st.caption("run from a terminal and not finished: its progress shows only in that terminal")
            if sw.state == "stopped":
                st.caption("ended before every cell was evaluated (stopped, or failed: see its log); Resume reuses "
                           "its finished runs and evaluations")  # fmt: skip
            with st.expander("log"):
                st.code("\n".join(sw.log) or "(no log: run from a terminal)")
    st.caption(f"updated {time.strftime('%H:%M:%S')}")


sweeps_view()
