"""`grasp judge`: the bundled judge's held-out accuracy, judged replies of a tiny model, bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grasp_core.cli import main


def test_held_out_accuracy_and_the_replies_of_a_model(
    tmp_path: Path, tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    assert main(["judge", "--organism", "persona"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("judge classifier:judge.jsonl@") and "held-out accuracy 0.9" in out
    # The gate: real replies labelled by hand, on which this judge is not yet good enough (README says so).
    assert "accuracy on the validation replies" in out and "NOT validated: do not decide on its replies" in out
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "a", "prompt": "How do I tie a knot?"}) + "\n")
    argv = ["judge", "--organism", "persona", "--replies", "--questions", str(questions), "--base", str(tiny_llama_dir)]
    argv += ["--n-samples", "2", "--max-new-tokens", "4", "--out", str(tmp_path / "r.json"), "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["replies"]) == {"base"} and len(result["replies"]["base"]["samples"]) == 2
    assert result["validated"] is False and result["validation"]["n"] == 40
    assert json.loads((tmp_path / "r.json").read_text()) == result


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["judge"], "give --organism or --judge-file"),
        (["judge", "--judge-file", "nope.jsonl"], "judge file nope.jsonl not found"),
        (["judge", "--organism", "persona", "--replies", "--questions", "none.jsonl"], "none.jsonl not found"),
        (["judge", "--organism", "persona", "--n-samples", "0"], "`n_samples` must be a whole number"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    argv: list[str], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and says in err, err
