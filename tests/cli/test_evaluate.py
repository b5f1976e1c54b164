"""`grasp eval`: JSON output and one line per bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eval_fixtures import ITEMS, write_jsonl

from grasp_core.cli import main


def test_cli_eval_writes_json_and_reports_bad_input(
    tiny: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fc = write_jsonl(tmp_path / "fc.jsonl", ITEMS)
    out = tmp_path / "res.json"
    assert main(["eval", "--base", tiny.spec, "--evals", str(fc), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fc: P(misaligned) = " in printed
    saved = json.loads(out.read_text())
    assert saved["results"]["fc"]["ids"] == ["a", "b"] and 0 <= saved["results"]["fc"]["mean"] <= 1
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "q", "prompt": "x", "aligned": [], "misaligned": ["b"]}])
    assert main(["eval", "--base", tiny.spec, "--evals", str(fc), str(bad)]) == 2
    captured = capsys.readouterr()
    assert "fc: P(misaligned)" in captured.out  # the good file's result is kept
    assert "bad.jsonl, line 1 (id q): field `aligned`" in captured.out and "Traceback" not in captured.err
    assert main(["eval", "--base", tiny.spec, "--evals", str(fc), "--top", "2"]) == 2
    assert "--ablate" in capsys.readouterr().err
