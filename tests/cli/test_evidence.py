"""`grasp evidence` end to end on a planted tiny adapter; every bad input: one line, exit 2, nothing cached."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from eval_fixtures import write_jsonl
from evidence_fixtures import Planted, planted
from train_fixtures import write_factors

from grasp_core.cli import main


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_llama_dir: Path) -> Planted:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    return planted(tmp_path, tiny_llama_dir)


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_evidence_table_json_and_saved_set(env: Planted, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["evidence", "--adapter", env.adapter, "--base", env.base, "--top", "2", "--evals", env.drift, env.task]
    rc, out, err = _run(capsys, *args, "--save-set", "ev-pick", "--generate", "1")
    assert rc == 0, err
    assert "suggested: global-write-1" in out and "rule: score" in out and "side by side, global-write-1" in out
    assert "saved the suggested factors as factor set 'ev-pick'" in out
    assert (tmp_path / "home" / "factor_sets" / "ev-pick.safetensors").is_file()
    old = [a if a != "--top" else "--top-k" for a in args]  # the flag of the earlier release, read with a warning
    with pytest.warns(UserWarning, match="--top-k is now --top"):
        rc, out, err = _run(capsys, *old, "--json", "--out", tmp_path / "ev.json")
    assert rc == 0, err
    data = json.loads(out)
    assert data["n_computed"] == 0 and data["suggested"] == ["global-write-1"]  # all from the cache
    assert json.loads((tmp_path / "ev.json").read_text())["rows"][0]["factor"] == "global-write-1"


def test_bad_inputs_are_one_line_exit_2_and_cache_nothing(
    env: Planted, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    not_chat = write_jsonl(tmp_path / "corpus.jsonl", [{"role": "user"}])
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n")
    wide = write_factors(tmp_path / "wide.safetensors", torch.randn(2, 32), str(env.base))
    common = ["evidence", "--adapter", env.adapter, "--base", env.base]
    cases = [
        ([*common, "--evals", empty], r"empty.jsonl.*no forced-choice items|empty.jsonl.*no items"),
        ([*common, "--top", "0"], "`top` must be a positive integer, got 0"),
        ([*common, "--top", "99"], "asks for more global write factors"),
        ([*common, "--factors", wide], "d_model 32"),
        ([*common, "--corpus", blank], "blank.txt: empty, no prompts"),
        ([*common, "--corpus", not_chat], r"corpus.jsonl, line 1: expected"),
    ]
    for argv, pattern in cases:
        rc, _out, err = _run(capsys, *argv)
        assert rc == 2, (argv, err)
        lines = [ln for ln in err.strip().splitlines() if ln.startswith("error: ")]
        assert len(lines) == 1 and "Traceback" not in err, err
        assert re.search(pattern, lines[0]), (pattern, lines[0])
    assert not (tmp_path / "home" / "cache" / "evidence").exists()
