"""`grasp report`: a sweep's summary and report.md re-rendered from its results.csv, bad folders refused in a line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from grasp_core.cli import main


def _results(folder: Path, organism: Path, drop: str | None = None) -> Path:
    folder.mkdir(parents=True)
    rows = [("base", "base", None, 0.01, 0.0, 5.0)] + [
        (label, m, s, d, g, 4.5)
        for label, m, runs in (
            ("naive", "naive", [(0.21, 1.0), (0.11, 1.0), (0.41, 1.0)]),
            ("grasp", "grasp", [(0.03, 0.9), (0.11, 0.95), (0.02, 1.0)]),
        )
        for s, (d, g) in enumerate(runs)
    ]
    df = pd.DataFrame(rows, columns=["label", "method", "seed", "drift", "task_gain", "task_nll"])
    df.drop(columns=[drop] if drop else []).to_csv(folder / "results.csv", index=False)
    (folder / "sweep.json").write_text(
        json.dumps(
            {"organism": str(organism), "seeds": [0, 1, 2], "methods": [{"method": "naive"}, {"method": "grasp"}]}
        )
    )
    return folder


def test_report_rerenders_with_intervals_over_seeds(
    tmp_path: Path, tiny_organism: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _results(tmp_path / "s", tiny_organism)
    assert main(["report", str(folder), "--no-png"]) == 0
    out = capsys.readouterr().out
    assert "intervals: 95% bootstrap over items, 1 seed; 95% t over 3 seeds" in out
    assert "no provenance.json" in out
    summary = pd.read_csv(folder / "summary.csv").set_index("label")
    assert summary.loc["grasp", "interval"] == "95% t over 3 seeds"
    assert summary.loc["grasp", "drift_cut"] == pytest.approx((10 * 1 * 40) ** (1 / 3))  # per-seed cuts 10x, 1x, 40x
    assert "t on the log scale" in (folder / "report.md").read_text()


@pytest.mark.parametrize(("drop", "message"), [("task_gain", "no column `task_gain`"), ("seed", "no column `seed`")])
def test_report_refuses_a_table_without_a_required_column(
    tmp_path: Path, tiny_organism: Path, drop: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _results(tmp_path / "s", tiny_organism, drop=drop)
    assert main(["report", str(folder), "--no-png"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "results.csv" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (folder / "summary.csv").exists()


def test_report_bundle_refuses_before_writing(
    tmp_path: Path, tiny_organism: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _results(tmp_path / "s", tiny_organism)
    assert main(["report", str(folder), "--no-png", "--bundle"]) == 2
    assert "no provenance.json" in capsys.readouterr().err and not (folder / "summary.csv").exists()


def test_report_export_copies_the_small_outputs_and_refuses_a_sweep_without_provenance(
    tmp_path: Path, tiny_organism: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from grasp_core.evaluation.organisms import load_organism
    from grasp_core.sweep.provenance import record_invocation

    folder = _results(tmp_path / "home" / "s", tiny_organism)
    assert main(["report", str(folder), "--no-png", "--export", str(tmp_path / "parts")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no provenance.json to export" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "parts" / "s").exists()

    org = load_organism(tiny_organism)
    record_invocation(folder, org.name, org.fingerprint(), started=1.0e9, cells_done=7, cells_total=7, command=["x"])
    (folder / "jobs").mkdir()
    (folder / "jobs" / "1_log.err").write_text("a job's log: not part of the outputs")
    assert main(["report", str(folder), "--no-png", "--export", str(tmp_path / "parts")]) == 0
    assert f"exported: {tmp_path / 'parts' / 's'}" in capsys.readouterr().out
    copied = sorted(p.name for p in (tmp_path / "parts" / "s").iterdir())
    assert copied == ["provenance.json", "report.md", "results.csv", "summary.csv", "sweep.json"]
