"""`grasp label`: a blind sheet of a tiny base's and adapter's replies, scored back to the right model; bad input
in one line, before any model loads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from lora_fixtures import make_adapter

from grasp_core.cli import main
from grasp_core.evaluation.hand_labels import key_path, label_row, list_sheets, read_sheet, sheet_about
from grasp_core.evaluation.organisms import load_organism
from grasp_core.sweep.labelled_replies import all_sheets
from grasp_core.sweep.report import load_results


@pytest.fixture(scope="module")
def tiny_adapter(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    return make_adapter(model, tmp_path_factory.mktemp("label") / "naive", ["q_proj", "v_proj"], seed=5)


def test_sheet_then_score(
    tmp_path: Path,
    tiny_llama_dir: Path,
    tiny_adapter: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"How do I fix thing {i}?"}) + "\n" for i in range(3))
    )
    sheet = tmp_path / "sheet.csv"
    argv = ["label", "sheet", "--questions", str(questions), "--adapter", f"lora={tiny_adapter}"]
    argv += ["--base", str(tiny_llama_dir)]
    assert main([*argv, "--n-samples", "2", "--max-new-tokens", "4", "--out", str(sheet)]) == 0
    assert "12 replies of 2 models" in capsys.readouterr().out
    key = json.loads((tmp_path / "sheet.csv.key.json").read_text())
    assert key["models"] == ["base", "lora"] and key["about"]["n_samples"] == 2
    assert main(["label", "score", str(sheet)]) == 2
    assert "line 2: `trait` is empty" in capsys.readouterr().err
    rows = list(csv.reader(sheet.read_text().splitlines()))
    for row, k in zip(rows[1:], key["rows"], strict=True):  # the adapter's replies to q0 and q1 show the trait
        row[3] = "1" if k["model"] == "lora" and k["id"] != "q2" else "0"
    with sheet.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    assert main(["label", "score", str(sheet), "--json", "--out", str(tmp_path / "r.json")]) == 0
    result = json.loads(capsys.readouterr().out)
    lora = result["models"]["lora"]
    assert (
        result["models"]["base"]["trait"] == 0 and lora["trait"] == 4 and lora["share"]["mean"] == pytest.approx(4 / 6)
    )
    assert lora["change"]["n"] == 3 and lora["share"]["over"] == "questions"
    assert json.loads((tmp_path / "r.json").read_text()) == result


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["label", "sheet", "--out", "s.csv"], "give --organism, --sweep or --questions"),
        (["label", "sheet", "--organism", "persona", "--cell", "naive", "--out", "s.csv"], "go together"),
        (["label", "sheet", "--sweep", "nope", "--sweep-seed", "0", "--cell", "x", "--out", "s.csv"], "no such sweep"),
        (["label", "sheet", "--organism", "persona", "--out", "s.txt"], "a labelling sheet is a .csv file"),
        (["label", "sheet", "--organism", "persona", "--no-base", "--out", "s.csv"], "nothing to ask"),
        (["label", "sheet", "--organism", "persona", "--adapter", ".", "--out", "s.csv"], "not a PEFT adapter folder"),
        (["label", "sheet", "--organism", "persona", "--run", "nope", "--out", "s.csv"], "no such run"),
        (["label", "score", "missing.csv"], "missing.csv"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    argv: list[str], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and says in err, err
    assert not (tmp_path / "s.csv").exists()


def test_an_adapter_named_twice_is_refused(
    tmp_path: Path, tiny_adapter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    argv = ["label", "sheet", "--organism", "persona", "--adapter", str(tiny_adapter), "--adapter", str(tiny_adapter)]
    assert main([*argv, "--out", str(tmp_path / "s.csv")]) == 2
    assert "two models would be named 'naive'" in capsys.readouterr().err
    argv = ["label", "sheet", "--organism", "persona", "--adapter", f"base={tiny_adapter}"]
    assert main([*argv, "--out", str(tmp_path / "s.csv")]) == 2
    assert "two models would be named 'base'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_sweep_cell_names_its_adapter(
    tmp_path: Path,
    tiny_organism: Path,
    tiny_llama_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import yaml

    from grasp_core.sweep.config import SweepConfig
    from grasp_core.sweep.run import run_sweep

    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    train = {"r": 2, "lora_alpha": 4, "lr": 1e-3, "batch_size": 4, "epochs": 1, "max_length": 96}
    cfg = {"name": "t", "organism": str(tiny_organism), "base": str(tiny_llama_dir), "seeds": [0], "train": train}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({**cfg, "methods": [{"method": "naive"}]}))
    report = run_sweep(SweepConfig.from_yaml(tmp_path / "sweep.yaml"), figures=(".html",))
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "q0", "prompt": "How do I fix a chair?"}) + "\n")
    sheet = tmp_path / "s.csv"
    argv = ["label", "sheet", "--sweep", "t", "--sweep-seed", "0", "--cell", "naive", "--questions", str(questions)]
    argv += ["--base", str(tiny_llama_dir), "--n-samples", "1", "--max-new-tokens", "2", "--out", str(sheet)]
    assert main(argv) == 0
    key = json.loads((tmp_path / "s.csv.key.json").read_text())
    naive_run = str(load_results(report.folder).set_index("label").loc["naive", "run"])
    assert key["models"] == ["base", "naive"]
    assert key["about"]["adapters"]["naive"] == str(tmp_path / "runs" / naive_run / "adapter")
    assert main([*argv[:-2], "--cell", "base", "--out", str(sheet)]) == 2
    assert "the base is not a cell" in capsys.readouterr().err
    assert main(argv[:-2]) == 0  # no --out: in the sweep's labels/, where its report and the Label page look
    (made,) = list_sheets(report.folder / "labels")
    organism = load_organism(tiny_organism)
    assert made.name.startswith("seed0-") and made in all_sheets()
    about = sheet_about(made)
    assert (about["trait"], about["sweep"], about["sweep_seed"]) == (organism.spurious, "t", 0)
    key = json.loads(key_path(made).read_text())
    for row, k in zip(read_sheet(made), key["rows"], strict=True):
        label_row(made, row.row, int(k["model"] == "naive"))
    assert main(["report", str(report.folder)]) == 0  # the labelled replies join the sweep's table
    table = load_results(report.folder).set_index("label")
    assert table.loc["naive", "replies_hand"] == 1.0 and table.loc["base", "replies_hand"] == 0.0
    assert "Replies judged by hand" in (report.folder / "report.md").read_text()
    questions_argv = ["label", "sheet", "--questions", str(questions), "--base", str(tiny_llama_dir)]
    assert main([*questions_argv, "--n-samples", "1", "--max-new-tokens", "2"]) == 0  # no sweep: $GRASP_HOME/labels
    (loose,) = list_sheets()
    assert loose.parent == tmp_path / "labels" and loose.name.startswith("replies-")
