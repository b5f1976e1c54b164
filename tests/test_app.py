"""The dashboard under streamlit.testing.v1.AppTest: every page renders on a real adapter and its controls act."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from app_fixtures import make_tiny_base, plant_adapter
from streamlit.testing.v1 import AppTest

from grasp_core.factorsets import load_factor_set

APP = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


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


def test_load_page_summary_and_bad_adapter(app_env: dict[str, str], tmp_path: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
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


def test_spectra_and_factors_pages(app_env: dict[str, str]) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at = _page(at, "spectra")
    assert not _errors(at)
    charts = at.get("plotly_chart")
    assert len(charts) >= 5
    at = _page(at, "factors")
    assert not _errors(at)
    frames = [d.value for d in at.dataframe]
    table = next(f for f in frames if "loadings" in f.columns)
    assert table["id"].iloc[0] == "global-write-0" and set(table["scope"]) == {"global"}
    assert len(next(f for f in frames if "promoted" in f.columns)) == 12
    at.button(key="scan").click().run()
    assert not at.exception and not _errors(at)
    assert any("prompts" in c.value for c in at.caption)
    at.number_input(key="steer_tokens").set_value(4).run()
    at.button(key="steer").click().run()
    assert not at.exception and not _errors(at)
    assert any("alpha = -8" in m.value for m in at.markdown)


def test_select_page_saves_set_and_flags_stale(
    app_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
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
    at2 = AppTest.from_file(APP, default_timeout=60).run()
    at2 = _page(at2, "select")
    assert any("stale" in e for e in _errors(at2))
