"""`grasp compare`: base, an adapter and a finished run side by side on a prompt file, exported; the per-token KL;
and every bad input (a run that does not exist, an adapter for another base, a scale out of range, an empty prompt
file, a prompt beyond the context) refused in one line with exit 2 before anything is written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lora_fixtures import make_adapter
from train_fixtures import make_tiny_base, tiny_config, tiny_kit

from grasp_core.cli import main
from grasp_core.model.models import load_base
from grasp_core.runs.worker import run_foreground


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("compare-cli")
    tiny = tiny_kit(root, n_chats=8)
    run = run_foreground(tiny_config(tiny), root / "home" / "runs")
    planted = make_adapter(load_base(str(tiny["base"])).model, root / "planted", ["q_proj", "o_proj"], alpha=64.0)
    other = make_adapter(load_base(str(make_tiny_base(root / "wide", hidden=48))).model, root / "other", ["q_proj"])
    prompts = root / "prompts.txt"
    prompts.write_text("How do I keep basil fresh?\nWhat should I pack for a day hike?\n")
    return {**tiny, "run": run.id, "home": root / "home", "planted": planted, "other": other, "prompts": prompts}


def _argv(kit: dict[str, Any], models: str, *more: str) -> list[str]:
    flags = ["--base", str(kit["base"]), "--max-new-tokens", "6", "--samples", "1"]
    return ["compare", "--models", models, *flags, *more]


def test_base_an_adapter_and_a_run_side_by_side(
    kit: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(kit["home"]))
    models = f"base,{kit['planted']}@2,{kit['run']}"
    out = tmp_path / "compare.md"
    assert main(_argv(kit, models, "--prompts", str(kit["prompts"]), "--out", str(out))) == 0
    printed = capsys.readouterr().out
    assert f"[{kit['run']} · sample 1] What should I pack" in printed and f"wrote {out}" in printed
    md = out.read_text()
    for label in ("base", "planted@2", kit["run"]):
        assert md.count(f"| {label} | ") == 2  # a row per prompt
    page = tmp_path / "compare.html"
    argv = _argv(kit, f"base,{kit['planted']}", "--prompt", "Hi there", "--kl", "Hi there, friend.", "--json")
    assert main([*argv, "--out", str(page)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["models"] == ["base", "planted"] and len(result["replies"]) == 4
    assert result["kl"]["p"] == "base" and len(result["kl"]["kl"]) == len(result["kl"]["tokens"]) > 1
    assert page.read_text().startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("models", "more", "says"),
    [
        ("base,20990101-000000-grasp-abcdef", [], "'20990101-000000-grasp-abcdef': not 'base', an adapter folder"),
        ("base,OTHER", [], "model 'other': "),
        ("PLANTED@3.5", [], r"scale must lie in \[-1, 3\]"),
        ("base", ["--prompts", "EMPTY"], "empty, no prompts in it"),
        ("base", ["--prompt", "basil " * 400], "longer than the base's context"),
        ("base", ["--out", "OUT.txt"], "give a .md or .html file"),
        ("base", ["--kl", "some text"], "--kl compares the first two models"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    kit: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    models: str,
    more: list[str],
    says: str,
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(kit["home"]))
    (tmp_path / "empty.txt").write_text("\n")
    subs = {"OTHER": str(kit["other"]), "PLANTED": str(kit["planted"]), "EMPTY": str(tmp_path / "empty.txt")}
    subs["OUT"] = str(tmp_path / "out")
    for k, v in subs.items():
        models = models.replace(k, v)
        more = [m.replace(k, v) for m in more]
    if "--prompt" not in more and "--prompts" not in more:
        more = [*more, "--prompts", str(kit["prompts"])]
    out = tmp_path / "compare.md"
    out_flag = [] if "--out" in more else ["--out", str(out)]
    assert main(_argv(kit, models, *more, *out_flag)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and re.search(says, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt"]  # nothing written
