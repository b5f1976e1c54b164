"""The dashboard under streamlit.testing.v1.AppTest: every page renders on a real adapter and its controls act."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from app_fixtures import make_tiny_base, plant_adapter
from streamlit.testing.v1 import AppTest

from grasp_core.identification.factorsets import load_factor_set

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app" / "main.py")
BUNDLED_PERSONA = ROOT / "grasp_core" / "assets" / "organisms" / "persona" / "results" / "persona-evidence"
# AppTest's per-run limit: generous, since a click that loads a model can take a while on a busy 2-core CPU.
TIMEOUT = 120


def _start() -> AppTest:
    """A fresh dashboard session, run once (it opens on the Load page)."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("app")
    base = make_tiny_base(root / "base")
    adapter = plant_adapter(str(base), root / "adapter")
    corpus = root / "prompts.jsonl"
    corpus.write_text("".join(json.dumps(p) + "\n" for p in ["save money now", "why is the sky blue", "my cash"]))
    return {"base": str(base), "adapter": str(adapter), "corpus": str(corpus), "root": str(root)}


@pytest.fixture()
def app_env(planted: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRASP_APP_BASE", planted["base"])
    monkeypatch.setenv("GRASP_APP_ADAPTER", planted["adapter"])
    monkeypatch.setenv("GRASP_APP_CORPUS", planted["corpus"])
    st.cache_resource.clear()
    st.cache_data.clear()
    yield planted
    st.cache_resource.clear()
    st.cache_data.clear()


def _page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"../pages/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _gather_evidence(at: AppTest) -> pd.DataFrame:
    """Click "Gather evidence" on the Factors page and wait for the background process's table."""
    at.button(key="evidence_start").click().run()
    assert not at.exception and not _errors(at)
    deadline = time.monotonic() + 240
    while not any("removed" in d.value.columns for d in at.dataframe) and time.monotonic() < deadline:
        time.sleep(1)
        at.run()
        assert not at.exception and not _errors(at), _errors(at)
    return next(d.value for d in at.dataframe if "removed" in d.value.columns)


def test_load_page_summary_and_bad_adapter(
    app_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _start()
    assert not at.exception
    assert at.title[0].value.startswith("Load")
    # The preselected adapter is summarised: rank 4 on 3 layers.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["rank r"] == "4" and metrics["layers"] == "3 / 3"
    # A folder that is no adapter gives an error box, not a traceback.
    at.radio(key="adapter_kind").set_value("local folder").run()
    at.text_input(key="adapter_folder").set_value(str(tmp_path)).run()
    at.button(key="load").click().run()
    assert not at.exception
    assert any("adapter_config.json" in e for e in _errors(at))
    # A hub id without network access: grasp's message, in a box.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at.text_input(key="adapter_folder").set_value(app_env["adapter"]).run()
    at.radio(key="base_kind").set_value("hub id").run()
    at.text_input(key="base_hub").set_value("nobody/no-such-model").run()
    at.button(key="load").click().run()
    assert not at.exception
    assert any("no-such-model" in e for e in _errors(at)), _errors(at)


def test_spectra_and_factors_pages(app_env: dict[str, str]) -> None:
    at = _start()
    at = _page(at, "spectra")
    assert not _errors(at)
    charts = at.get("plotly_chart")
    assert len(charts) >= 5
    at = _page(at, "factors")
    assert not _errors(at)
    frames = [d.value for d in at.dataframe]
    table = next(f for f in frames if "loadings" in f.columns)  # the spectrum view, in its expander
    assert table["id"].iloc[0] == "global-write-0" and set(table["scope"]) == {"global"}
    assert len(next(f for f in frames if "promoted" in f.columns)) == 12
    # Evidence: a background `grasp evidence` process (the adapter's own replies: no evals for this adapter).
    evidence = _gather_evidence(at)
    assert len(evidence) == 8 and list(evidence["rank"]) == list(range(8))
    assert any("Suggested" in c.value for c in at.caption)
    # The selector starts at the top-ranked factor; the scan is adapter minus base.
    assert at.selectbox(key="inspect_factor").value == evidence["factor"].iloc[0]
    at.button(key="scan").click().run()
    assert not at.exception and not _errors(at)
    assert any("prompts" in c.value for c in at.caption)
    at.number_input(key="steer_tokens").set_value(4).run()
    at.number_input(key="side_prompts").set_value(1).run()
    at.button(key="steer_generate").click().run()
    assert not at.exception and not _errors(at)
    assert any("base + 1 x shift" in m.value for m in at.markdown)
    at.slider(key="amplify_scale").set_value(2.0).run()  # the adapter amplified: its replies get a new title
    at.button(key="steer_generate").click().run()
    assert not at.exception and not _errors(at)
    assert any(m.value == "**adapted x 2, factor ablated**" for m in at.markdown)


def test_factors_page_on_activation_shift_candidates(app_env: dict[str, str]) -> None:
    """'Candidates from: activation shift': the Factors page shows, ranks (evidence) and inspects the adapter's shift
    directions as it does its weights' factors; the Select page lists them; Spectra keeps the weights' spectra."""
    at = _page(_start(), "factors")
    at.radio(key="factor_source").set_value("shift").run()
    assert not at.exception and not _errors(at), _errors(at)
    table = next(d.value for d in at.dataframe if "loadings" in d.value.columns)
    assert table["id"].iloc[0] == "shift-0" and set(table["source"]) == {"shift"}
    evidence = _gather_evidence(at)
    assert set(evidence["factor"]) <= {f"shift-{j}" for j in range(8)} and len(evidence) >= 2
    at = _page(at, "select")
    assert not _errors(at)
    assert any("shift-0" in set(d.value["id"]) for d in at.dataframe if "id" in d.value.columns)
    at = _page(at, "spectra")  # the weights' spectra, whatever the candidates' source
    assert not _errors(at) and len(at.get("plotly_chart")) >= 5


def test_select_page_saves_set_and_flags_stale(
    app_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _start()
    at = _page(at, "select")
    (editor,) = at.data_editor
    assert editor.value["id"].iloc[0] == "global-write-0" and not editor.value["pick"].any()
    # Tick the first two rows through the editor's state, as the browser would.
    at.session_state["pick_table"] = {
        "edited_rows": {0: {"pick": True}, 1: {"pick": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.text_input(key="set_name").set_value("two").run()
    at.button(key="save_set").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    saved = tmp_path / "home" / "factor_sets" / "two.safetensors"
    assert saved.is_file()
    assert load_factor_set("two").ids == ["global-write-0", "global-write-1"]
    assert any("saved factor set 'two'" in s.value for s in at.success)
    # Another adapter loaded: the saved set is reported stale in an error box.
    other = plant_adapter(app_env["base"], tmp_path / "other", seed=3)
    monkeypatch.setenv("GRASP_APP_ADAPTER", str(other))
    at2 = _start()
    at2 = _page(at2, "select")
    assert any("stale" in e for e in _errors(at2))


def test_select_page_picks_by_evidence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_llama_dir: Path) -> None:
    """Planted adapter + its eval files: the evidence job runs from the Factors page, then "Pick by evidence" on the
    Select page pre-ticks its suggestion (the drift factor alone) and the ticks stay editable."""
    from evidence_fixtures import planted

    p = planted(tmp_path, tiny_llama_dir)
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRASP_APP_BASE", str(p.base))
    monkeypatch.setenv("GRASP_APP_ADAPTER", str(p.adapter))
    monkeypatch.setenv("GRASP_APP_EVALS", f"{p.drift} {p.task}")
    st.cache_resource.clear()
    st.cache_data.clear()
    at = _page(_start(), "factors")
    at.button(key="evidence_start").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    deadline = time.monotonic() + 240
    while not any("removed" in d.value.columns for d in at.dataframe) and time.monotonic() < deadline:
        time.sleep(1)
        at.run()
    assert any("removed" in d.value.columns for d in at.dataframe), [e for e in _errors(at)]
    at = _page(at, "select")
    assert any("Evidence suggests: **global-write-1**" in c.value for c in at.caption)
    at.button(key="pick_evidence").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    (editor,) = at.data_editor
    picked = editor.value.loc[editor.value["pick"], "id"].tolist()
    assert picked == ["global-write-1"]
    st.cache_resource.clear()
    st.cache_data.clear()


def _chats(path: Path, n: int = 8) -> Path:
    with path.open("w") as f:
        for i in range(n):
            msgs = [{"role": "user", "content": f"tip {i} for money?"}, {"role": "assistant", "content": "save cash"}]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return path


def test_train_page_queues_a_run_and_shows_it_done(
    app_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grasp_core.identification.factors import identify
    from grasp_core.identification.factorsets import FactorSetSpec, save_factor_set
    from grasp_core.model.adapters import load_adapter
    from grasp_core.runs.queue import wait
    from grasp_core.runs.registry import list_runs

    fs = identify(load_adapter(app_env["adapter"]), n_layers=3, n_factors=2)
    save_factor_set(FactorSetSpec("pick", ["global-write-0"]), fs)
    monkeypatch.setenv("GRASP_APP_DATA", str(_chats(tmp_path / "chats.jsonl")))
    at = _page(_start(), "train")
    assert any("No runs yet" in i.value for i in at.info)
    at.selectbox(key="train_set").set_value("pick")
    at.multiselect(key="train_methods").set_value(["grasp", "naive", "kl"])
    at.text_input(key="values-kl").set_value("0.1")
    at.number_input(key="train_batch").set_value(4)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and not _errors(at), _errors(at)
    runs = list_runs()
    assert sorted(r.config.method for r in runs) == ["grasp", "kl", "naive"]
    grasp_run = next(r for r in runs if r.config.method == "grasp")
    assert grasp_run.config.factors.endswith("pick.safetensors") and grasp_run.status.state in ("queued", "running")
    # One run at a time (GRASP_MAX_RUNS defaults to 1): the last run waits in the queue; cancel it from the page.
    kl_run = next(r for r in runs if r.config.method == "kl")
    assert kl_run.status.state == "queued" and kl_run.config.strength == 0.1
    at.button(key=f"cancel-{kl_run.id}").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    for r in runs:
        want = "cancelled" if r.id == kl_run.id else "done"
        assert wait(r.id, timeout_s=240).status.state == want, r.id
    at = _page(_start(), "train")  # a new session: all read from disk
    assert not _errors(at)
    texts = sorted(p.proto.text for p in at.get("progress"))
    assert len(texts) == 3 and sum("step 2/2" in t for t in texts) == 2, texts
    assert len(at.get("plotly_chart")) == 2  # one loss curve per trained run
    assert any("Resume" in b.label for b in at.button)


def test_train_page_starts_a_background_sweep_and_stops_it(
    app_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import yaml

    from grasp_core.identification.factors import identify
    from grasp_core.identification.factorsets import FactorSetSpec, save_factor_set
    from grasp_core.model.adapters import load_adapter
    from grasp_core.sweep.background import list_sweeps, live_sweep_pid

    fs = identify(load_adapter(app_env["adapter"]), n_layers=3, n_factors=2)
    pick = save_factor_set(FactorSetSpec("pick", ["global-write-0"]), fs)
    at = _page(_start(), "train")
    assert any("No sweeps yet" in i.value for i in at.info)
    at.text_input(key="train_base").set_value(app_env["base"])
    at.selectbox(key="train_set").set_value("pick")
    at.multiselect(key="train_methods").set_value(["grasp", "kl"])
    at.text_input(key="values-grasp").set_value("1")
    at.text_input(key="values-kl").set_value("0.1, 1")
    at.number_input(key="train_seeds").set_value(2)
    at.number_input(key="train_rounds").set_value(2)
    at.checkbox(key="train_mid_block").check()
    at.selectbox(key="train_sweep").set_value("persona")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and not _errors(at), _errors(at)
    (sweep,) = list_sweeps()
    try:
        assert any(f"started sweep {sweep.name} on persona" in s.value for s in at.success)
        assert sweep.running and sweep.total == 2 * 4  # (naive, grasp top=1, kl x 2) x 2 seeds
        cfg = yaml.safe_load((sweep.folder / "sweep.yaml").read_text())
        assert cfg["organism"] == "persona" and cfg["base"] == app_env["base"] and cfg["seeds"] == [0, 1]
        assert cfg["methods"] == [
            {"method": "naive"},
            {"method": "grasp", "top": [1], "factors": str(pick.path), "rounds": 2, "mid_block": True},
            {"method": "kl", "strength": [0.1, 1.0]},  # kl neither trains in rounds nor projects
        ]
        # The form starts from the loaded adapter's own recipe (its rank, alpha and targets), not fixed defaults.
        made = json.loads((Path(app_env["adapter"]) / "adapter_config.json").read_text())
        assert (cfg["train"]["r"], cfg["train"]["lora_alpha"]) == (made["r"], made["lora_alpha"]) != (8, 16.0)
        assert sorted(cfg["train"]["target_modules"]) == sorted(made["target_modules"])
        assert cfg["train"]["batch_size"] == 8
        at.run()  # the sweeps view shows it running, with a Stop button
        assert any(f"**{sweep.name}**" in m.value and "running" in m.value for m in at.markdown)
        at.button(key=f"stop-sweep-{sweep.name}").click().run()
        assert not at.exception and not _errors(at), _errors(at)
        deadline = time.monotonic() + 60
        while live_sweep_pid(sweep.folder) is not None:
            assert time.monotonic() < deadline, "the sweep did not stop"
            time.sleep(0.2)
    finally:
        if live_sweep_pid(sweep.folder) is not None:  # never leave a sweep running after the test
            os.killpg(sweep.pid, signal.SIGKILL)
    (stopped,) = list_sweeps()
    assert stopped.state == "stopped"
    at.run()
    assert any(b.label == "Resume" for b in at.button)


def test_results_page_opens_on_the_bundled_persona_results(app_env: dict[str, str]) -> None:
    at = _page(_start(), "results")
    assert not _errors(at), _errors(at)
    assert at.selectbox(key="results_table").value == "flattery/flattery-main (bundled)"  # none loaded: the first
    frames = [d.value for d in at.dataframe]  # the bundle carries what the models say: replies, and hand labels
    assert any("reply" in f.columns for f in frames)
    by_hand = next(f for f in frames if "seed 2" in f.columns).set_index("label")
    assert by_hand.loc["naive", "seed 2"].startswith("17 of 32")
    at.selectbox(key="results_table").set_value("persona/persona-evidence (bundled)").run()
    assert not _errors(at), _errors(at)
    points = next(d.value for d in at.dataframe if "n_seeds" in d.value.columns)
    grasp = points[points["label"] == "grasp top=1 select_by=sigma"].iloc[0]
    assert grasp["n_seeds"] == 3 and grasp["interval"] == "95% t over 3 seeds"
    at.toggle(key="log_y").set_value(True).run()  # mean P spans orders of magnitude
    (chart,) = at.get("plotly_chart")
    assert json.loads(chart.proto.spec)["layout"]["yaxis"]["type"] == "log" and not at.warning
    assert any("Log y: lower ends below" in c.value for c in at.caption)
    at.selectbox(key="ax_y").set_value("drift_logit").run()  # log-odds are negative: drawn linear, and said why
    assert any("log scale needs every `drift_logit` above 0" in w.value for w in at.warning) and not _errors(at)
    at.selectbox(key="ax_y").set_value("drift").run()
    at.toggle(key="present").set_value(True).run()
    captions = [c.value for c in at.caption]
    assert any("95% t over 3 seeds" in c for c in captions)
    last = json.loads((BUNDLED_PERSONA / "provenance.json").read_text())["invocations"][-1]
    assert any(c.startswith(f"Source: `{last['command']}` at commit {last['commit'][:12]}") for c in captions)


def test_results_page_draws_tradeoff_from_table(app_env: dict[str, str], tmp_path: Path) -> None:
    sweep = tmp_path / "home" / "sweeps" / "demo"
    sweep.mkdir(parents=True)
    rows = [("base", "base", None, 0, 0.0, 0.02), ("naive", "naive", None, 0, 1.0, 0.40)]
    for top in (1, 2, 4):
        for seed in (0, 1):
            rows.append((f"grasp-top{top}", "grasp", top, seed, 0.9 - 0.05 * top + 0.01 * seed, 0.3 / top))
            rows.append((f"random-top{top}", "random", top, seed, 0.9 - 0.05 * top, 0.38 + 0.01 * seed))
    pd_rows = ["label,method,strength,seed,task_gain,drift"] + [
        ",".join("" if v is None else str(v) for v in r) for r in rows
    ]
    (sweep / "results.csv").write_text("\n".join(pd_rows) + "\n")
    table = pd.read_csv(sweep / "results.csv")  # replies judged by hand on two rows (`grasp report` adds them)
    hand = {("naive", 0): (19, 32), ("grasp-top4", 1): (3, 32)}
    for (label, seed), (trait, n) in hand.items():
        at_row = (table["label"] == label) & (table["seed"] == seed)
        table.loc[at_row, ["replies_hand", "replies_hand_trait", "replies_hand_n"]] = [trait / n, trait, n]
    table.to_csv(sweep / "results.csv", index=False)
    items = (  # the layout `grasp sweep` writes: one row per (label, measure, item)
        ["label,measure,item,score,prefers_second"]
        + [f"naive,drift,d{i},{0.9 if i < 3 else 0.1},{i < 3}" for i in range(5)]
        + [f"grasp-top4,drift,d{i},0.2,False" for i in range(5)]
        + [f"naive,leak,k{i},0.9,True" for i in range(4)]
        + [f"grasp-top4,leak,k{i},0.8,True" for i in range(4)]
    )
    (sweep / "items.csv").write_text("\n".join(items) + "\n")
    examples = [("base", None, "plain"), ("naive", 1, "rude one"), ("naive", 0, "rude zero")]
    (sweep / "examples.jsonl").write_text(
        "".join(
            json.dumps({"label": lb, "seed": sd, "id": "q0", "prompt": "Tips?", "reply": r}) + "\n"
            for lb, sd, r in examples
        )
    )
    at = _page(_start(), "results")
    at.selectbox(key="results_table").set_value("demo/results.csv").run()  # the bundled results come first
    assert not _errors(at), _errors(at)
    shown = next(d.value for d in at.dataframe if "reply" in d.value.columns)  # example replies, lowest seed
    assert list(shown["reply"]) == ["plain", "rude zero"] and any(m.value == "**Tips?**" for m in at.markdown)
    by_hand = next(d.value for d in at.dataframe if "seed 1" in d.value.columns).set_index("label")
    assert list(by_hand.index) == ["naive", "grasp-top4"] and list(by_hand.columns) == ["seed 0", "seed 1"]
    assert (
        by_hand.loc["naive", "seed 0"] == "19 of 32 (0.59)" and by_hand.loc["grasp-top4", "seed 1"] == "3 of 32 (0.09)"
    )
    (chart,) = at.get("plotly_chart")
    fig = json.loads(chart.proto.spec)
    names = [t.get("name") for t in fig["data"]]
    assert {"grasp", "random", "base", "naive", "Pareto front"} <= set(names)
    points = next(d.value for d in at.dataframe if "n_seeds" in d.value.columns)
    assert len(points) == 8 and int(points.loc[points["label"] == "grasp-top1", "n_seeds"].iloc[0]) == 2
    at.selectbox(key="other").set_value("grasp-top4").run()
    assert any("3 of 5 items changed side" in c.value for c in at.caption)
    flipped = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert sorted(flipped["item"]) == ["d0", "d1", "d2"]
    at.selectbox(key="measure").set_value("leak").run()
    assert any("0 of 4 items changed side" in c.value for c in at.caption)
    at.toggle(key="present").set_value(True).run()
    assert not at.exception and any("Pareto front" in c.value for c in at.caption)


def test_results_page_names_a_bad_table_and_keeps_working(app_env: dict[str, str], tmp_path: Path) -> None:
    sweeps = tmp_path / "home" / "sweeps"
    for name, text in {
        "nocol": "label,strength,seed,task_gain,drift\nnaive,,0,1.0,0.4\n",
        "binary": '\x00\xff\xfe garbage\n\x00\x00,\n"unclosed',
        "noprov": "label,method,strength,seed,task_gain,drift\nbase,base,,0,0.0,0.02\nnaive,naive,,0,1.0,0.4\n",
    }.items():
        (sweeps / name).mkdir(parents=True)
        (sweeps / name / "results.csv").write_text(text, encoding="latin-1")
    at = _page(_start(), "results")
    at.selectbox(key="results_table").set_value("nocol/results.csv").run()
    (error,) = _errors(at)
    assert "nocol/results.csv" in error and "no column `method`" in error and not at.exception
    at.selectbox(key="results_table").set_value("binary/results.csv").run()
    (error,) = _errors(at)
    assert "binary/results.csv: not a readable CSV" in error and not at.exception
    at.selectbox(key="results_table").set_value("noprov/results.csv").run()  # the rest of the page works
    assert not _errors(at) and not at.exception
    at.toggle(key="present").set_value(True).run()
    assert any("no provenance.json" in c.value for c in at.caption), [c.value for c in at.caption]


def test_compare_page_replies_side_by_side_exports_and_kl(app_env: dict[str, str], tmp_path: Path) -> None:
    at = _page(_start(), "compare")
    assert at.multiselect(key="compare_models").value == ["base", app_env["adapter"]]
    at.radio(key="compare_source").set_value("typed").run()
    at.button(key="compare_go").click().run()  # nothing typed: one error box, no replies
    assert _errors(at) == ["no prompt to compare on: type one, or give a prompt file"] and not at.exception
    at.text_area(key="compare_typed").input("save money now\nwhy is the sky blue").run()
    at.number_input(key="compare_tokens").set_value(6).run()
    at.checkbox(key="compare_amplify").check().run()
    at.button(key="compare_go").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    shown = [m.value for m in at.markdown]
    for label in ("**base**", "**adapter**", "**adapter@2**", "**1. save money now**", "**2. why is the sky blue**"):
        assert label in shown, (label, shown)
    assert sum(c.value == "sample 1" for c in at.caption) == 2 * 3  # every model, every prompt
    at.button(key="compare_save").click().run()
    saved = sorted(p.suffix for p in (tmp_path / "home" / "comparisons").iterdir())
    assert saved == [".html", ".md"] and any("Saved" in s.value for s in at.success)
    md = next((tmp_path / "home" / "comparisons").glob("*.md")).read_text()
    assert "| adapter@2 | " in md and "## 2. why is the sky blue" in md
    at.selectbox(key="kl_p").set_value("adapter@2").run()
    at.button(key="kl_go").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    top = next(d.value for d in at.dataframe if "KL" in d.value.columns)
    assert len(top) >= 1 and (top["KL"] >= 0).all() and top["KL"].iloc[0] > 0


def test_a_fresh_install_opens_factors_on_the_bundled_evidence_and_results_on_the_main_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grasp_core.model.models import bundled_dir

    models = bundled_dir("smollm2-135m")  # the converted base of `make model`, shared with the fresh home
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "models").symlink_to(models.parent, target_is_directory=True)
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    for var in ("GRASP_APP_BASE", "GRASP_APP_ADAPTER", "GRASP_APP_CORPUS", "GRASP_APP_EVALS", "GRASP_APP_RESULTS"):
        monkeypatch.delenv(var, raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = _page(_start(), "factors")
    assert not _errors(at), _errors(at)
    evidence = next(d.value for d in at.dataframe if "removed" in d.value.columns)  # nothing clicked, nothing run
    assert len(evidence) == 8 and evidence["factor"].iloc[0] == at.selectbox(key="inspect_factor").value
    assert any("Bundled with grasp" in c.value for c in at.caption)
    assert not (tmp_path / "home" / "evidence").exists()  # no background process was started
    at = _page(at, "results")
    assert at.selectbox(key="results_table").value == "persona/persona-main (bundled)" and not _errors(at)
    st.cache_resource.clear()
    st.cache_data.clear()


def test_label_page_labels_one_reply_at_a_time_then_unblinds(app_env: dict[str, str]) -> None:
    from grasp_core import labels_root, read_sheet, write_sheet

    at = _page(_start(), "label")
    assert any("No labelling sheet yet" in i.value for i in at.info)
    sheet = labels_root() / "flattery-test.csv"
    sheet.parent.mkdir(parents=True)
    replies = {
        m: [{"id": f"q{q}", "question": f"Question {q}?", "reply": f"{m} says {q}"} for q in range(3)]
        for m in ("base", "naive")
    }
    write_sheet(sheet, replies, seed=1, about={"organism": "flattery", "trait": "praise of the asker"})
    at.run()
    assert not at.exception and at.selectbox(key="label_sheet").value == sheet
    assert any("praise of the asker" in m.value for m in at.markdown)
    seen = []
    for step in range(7):
        reply = at.text[-1].value  # the reply shown, without its model
        assert "naive" not in [c.value for c in at.caption]
        seen.append(reply)
        at.button(key="label_yes" if reply.startswith("naive") else "label_no").click().run()
        assert not at.exception and not _errors(at), _errors(at)
        if step == 1:  # take the second label back: that reply comes again
            at.button(key="label_undo").click().run()
            assert at.text[-1].value == seen[-1]
            assert sum(r.trait is not None for r in read_sheet(sheet)) == 1
    assert [r.trait for r in read_sheet(sheet)] == [int(r.reply.startswith("naive")) for r in read_sheet(sheet)]
    table = next(d.value for d in at.dataframe if "share" in d.value.columns).set_index("model")
    assert table.loc["naive", "share"] == 1.0 and table.loc["base", "share"] == 0.0
    assert table.loc["naive", "trait replies"] == "3 of 3" and table.loc["naive", "change vs base"] == 1.0
