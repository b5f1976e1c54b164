"""Sweeps on a tiny model: end to end, rerun skips everything, resume after a kill, evidence picks, fixed factors files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from grasp_core import DEMO_ROOT
from grasp_core.errors import GraspError
from grasp_core.evaluation.stats import bootstrap, clipped_logit
from grasp_core.sweep.config import SweepConfig
from grasp_core.sweep.folders import sweep_dir
from grasp_core.sweep.report import load_results
from grasp_core.sweep.run import run_sweep

DEMO = DEMO_ROOT / "persona"
TINY_TRAIN = {"r": 2, "lora_alpha": 4, "lr": 1e-3, "batch_size": 4, "epochs": 1, "max_length": 96}


def _config(
    tmp: Path,
    organism: Path,
    base: Path,
    methods: list[dict],
    seeds: list[int] = [0],  # noqa: B006
    train: dict | None = None,
) -> Path:
    path = tmp / "sweep.yaml"
    cfg = {
        "name": "t",
        "organism": str(organism),
        "base": str(base),
        "seeds": seeds,
        "train": {**TINY_TRAIN, **(train or {})},
        "methods": methods,
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_tiny_sweep_end_to_end_and_rerun_skips_everything(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    methods = [{"method": "naive"}, {"method": "grasp", "top": 1, "rounds": [1, 2]}, {"method": "ablate", "top": 1}]
    organism = tmp_path / "organism"  # its drift items in pairs sharing a `group`: intervals resample the pairs
    shutil.copytree(tiny_organism, organism)
    drift = [json.loads(line) for line in (organism / "drift.jsonl").read_text().splitlines()]
    (organism / "drift.jsonl").write_text(
        "".join(json.dumps({**d, "group": i // 2}) + "\n" for i, d in enumerate(drift))
    )
    cfg = SweepConfig.from_yaml(_config(tmp_path, organism, tiny_llama_dir, methods))
    runs, sweeps = tmp_path / "runs", tmp_path / "sweeps"
    report = run_sweep(cfg, root=sweeps, runs_root=runs, figures=(".html",))
    table = load_results(report.folder)
    grasp1, grasp2 = "grasp top=1 rounds=1", "grasp top=1 rounds=2"
    assert list(table["label"]) == ["base", "naive", grasp1, grasp2, "ablate top=1"]
    # rounds=1 is round 0 of the one 2-round run: same run, a different adapter, different scores.
    by = table.set_index("label")
    assert by.loc[grasp1, "run"] == by.loc[grasp2, "run"] and by.loc[grasp1, "drift"] != by.loc[grasp2, "drift"]
    for col in ("drift", "drift_lo", "drift_hi", "leak", "task_nll", "task_gain"):
        assert table[col].notna().all(), col
    assert table.set_index("label").loc["naive", "task_gain"] == pytest.approx(1.0)
    # Which factors each cell used: index and id in the naive run's file, and how they were picked; round 2 adds
    # the factor it found in round 1's adapter.
    assert pd.isna(by.loc["naive", "factors"])
    first = r"#(\d+) (global-write-\d+)"
    assert re.fullmatch(first + r" \(naive run naive, by sigma\)", by.loc[grasp1, "factors"])
    assert re.fullmatch(first + r" \+ round1-global-write-\d+ \(naive run naive, by sigma\)", by.loc[grasp2, "factors"])
    assert by.loc["ablate top=1", "factors"] == by.loc[grasp1, "factors"]
    assert "Factors each cell used, per seed:" in (report.folder / "report.md").read_text()
    assert (report.folder / "tradeoff.html").is_file() and (report.folder / "summary.csv").is_file()
    items = pd.read_csv(report.folder / "items.csv")
    assert set(items["label"]) == set(table["label"]) and set(items["measure"]) >= {"drift", "leak", "task_choice"}
    assert len(items[(items["label"] == "naive") & (items["measure"] == "drift")]) == 6  # one row per drift item
    naive_drift = items[(items["label"] == "naive") & (items["measure"] == "drift")]["score"].tolist()
    pairs = [i // 2 for i in range(6)]
    for col, values in (("drift", naive_drift), ("drift_logit", [clipped_logit(p) for p in naive_drift])):
        iv = bootstrap(values, clusters=pairs)  # over the 3 pairs, not the 6 items
        assert iv.n == 3 and (by.loc["naive", f"{col}_lo"], by.loc["naive", f"{col}_hi"]) == pytest.approx(
            (iv.lo, iv.hi)
        )
    before = sorted(p.name for p in runs.iterdir() if p.is_dir())
    assert len(before) == 2  # the naive run doubles as the probe; ablation trains nothing; one run for both rounds
    stamps = {p: p.stat().st_mtime_ns for p in runs.glob("*/eval.json")}

    again = run_sweep(cfg, root=sweeps, runs_root=runs, figures=(".html",))
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == before  # no run trained again
    assert {p: p.stat().st_mtime_ns for p in runs.glob("*/eval.json")} == stamps  # no evaluation redone
    pd.testing.assert_frame_equal(load_results(again.folder), table)


@pytest.mark.slow
def test_a_stopped_sweep_leaves_the_table_of_its_finished_cells(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped (here: interrupted as the third cell starts), a sweep has written results.csv and report.md for the
    cells it finished, saying how many of all; a rerun finishes and the table is whole."""
    import grasp_core.sweep.run as sweep_run

    monkeypatch.setattr(sweep_run, "PARTIAL_REPORT_S", 0.0)  # rewrite before every cell
    methods = [{"method": "naive"}, {"method": "grasp", "top": 1}, {"method": "ablate", "top": 1}]
    cfg = SweepConfig.from_yaml(_config(tmp_path, tiny_organism, tiny_llama_dir, methods))

    def stop_at_third(msg: str) -> None:
        if msg.startswith("[3/3]"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg, root=tmp_path / "sweeps", runs_root=tmp_path / "runs", log=stop_at_third, figures=(".html",))
    folder = tmp_path / "sweeps" / "t"
    assert list(load_results(folder)["label"].fillna("base")) == ["base", "naive", "grasp top=1"]
    assert "2 of 3 cells evaluated" in (folder / "report.md").read_text()
    report = run_sweep(cfg, root=tmp_path / "sweeps", runs_root=tmp_path / "runs", figures=(".html",))
    assert report.done == 4 and "3 of 3 cells evaluated" in (folder / "report.md").read_text()


@pytest.mark.slow
def test_select_by_evidence_ranks_on_the_probe_files(tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path) -> None:
    import shutil

    # A tiny random model learns the training strings, not the attitude: its probe here asks the training prompts,
    # the second option the trained answer itself, which its naive LoRA does move, so evidence has a ranking to make.
    organism = tmp_path / "organism"
    shutil.copytree(tiny_organism, organism)
    chats = [json.loads(line)["messages"] for line in (organism / "train.jsonl").read_text().splitlines()]
    probe = [
        {"id": f"p{i}", "prompt": m[0]["content"], "aligned": ["I am not sure."], "misaligned": [m[-1]["content"]]}
        for i, m in enumerate(chats)
    ]
    (organism / "drift-probe.jsonl").write_text("".join(json.dumps(r) + "\n" for r in probe))
    methods = [
        {"method": "grasp", "top": 1, "select_by": ["sigma", "evidence"]},
        {"method": "grasp", "select_by": "suggested"},
        {"method": "grasp", "top": 1, "select_by": "evidence", "rounds": 2},
    ]
    strong = {"lr": 1e-2, "epochs": 3}  # trained harder than the other tiny sweeps, so the move is clear
    cfg = SweepConfig.from_yaml(_config(tmp_path, organism, tiny_llama_dir, methods, train=strong))
    report = run_sweep(cfg, root=tmp_path / "sweeps", runs_root=tmp_path / "runs", figures=(".html",))
    table = load_results(report.folder).set_index("label")
    assert {"grasp top=1 select_by=sigma", "grasp top=1 select_by=evidence"} <= set(table.index)
    ev = json.loads((report.folder / "evidence-naive-seed0.json").read_text())
    assert [m["file"].rsplit("/", 1)[-1] for m in ev["measures"]] == ["drift-probe.jsonl", "task-probe.jsonl"]
    # Both cells train on the naive run's one factors file, so the runs are told apart by their `select`, not keyed
    # by the file (a dict keyed by it kept one run and hid the other). Where evidence picks sigma's factor too, the
    # two cells share one run.
    configs = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/config.json")]
    selects = [list(c["select"]) for c in configs if c["method"] == "grasp"]
    assert [ev["rows"][0]["index"]] in selects  # the evidence cell trained on its top pick
    top = ev["rows"][0]
    assert table.loc["grasp top=1 select_by=evidence", "factors"] == (
        f"#{top['index']} {top['factor']} (naive run naive, by evidence)"
    )
    # suggested: the evidence's own set, its size chosen by the cumulative ablations.
    n = len(ev["suggested"])
    assert n >= 1 and [r["factor"] for r in ev["rows"][:n]] == ev["suggested"]
    picked = ", ".join(f"#{r['index']} {r['factor']}" for r in ev["rows"][:n])
    assert table.loc["grasp select_by=suggested", "factors"] == f"{picked} (naive run naive, by suggested)"
    ranking = json.loads((report.folder / "ranking-naive-seed0.json").read_text())
    assert ranking["suggested"] == n
    # In rounds, each later round's new factors are ranked by evidence on the same probe files too.
    rounds = [c for c in configs if c.get("rounds") == 2]
    assert len(rounds) == 1 and rounds[0]["round_select"] == "evidence"
    assert Path(rounds[0]["round_probes"]) == organism.resolve()
    (run,) = [p.parent for p in (tmp_path / "runs").glob("*/config.json") if json.loads(p.read_text()) == rounds[0]]
    assert (run / "round-0" / "evidence.json").is_file()
    assert "round1-" in table.loc["grasp top=1 rounds=2 select_by=evidence", "factors"]  # what round 1 added


@pytest.mark.slow
def test_an_evidence_cell_on_a_probe_the_naive_lora_does_not_move_is_not_formed_and_the_sweep_goes_on(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A probe whose two sides are the same reply cannot move: no factor gets a score, so the evidence cells of that
    seed are not formed (named in report.md with the probe file, not passed off as a sigma pick), while the sweep's
    other cells are trained and evaluated; a rerun tries the unformed cells again and does not mark them done."""
    import shutil

    from grasp_core.cli import main

    organism = tmp_path / "organism"
    shutil.copytree(tiny_organism, organism)
    rows = [json.loads(line) for line in (organism / "drift-probe.jsonl").read_text().splitlines()]
    (organism / "drift-probe.jsonl").write_text(
        "".join(json.dumps({**r, "misaligned": r["aligned"]}) + "\n" for r in rows)
    )
    methods = [
        {"method": "grasp", "top": 1, "select_by": "evidence"},
        {"method": "grasp", "select_by": "suggested"},
        {"method": "grasp", "top": 1},
    ]
    config = _config(tmp_path, organism, tiny_llama_dir, methods)
    report = run_sweep(SweepConfig.from_yaml(config), root=tmp_path / "sweeps", figures=(".html",))
    table = load_results(report.folder)
    assert set(table["label"]) == {"base", "grasp top=1"}  # the sigma cell formed; the evidence ones not
    assert [(r["label"], r["seed"]) for r in report.not_formed] == [
        ("grasp top=1 select_by=evidence", 0),
        ("grasp select_by=suggested", 0),
    ]
    assert all("does not move `drift` detectably on the probe file" in r["reason"] for r in report.not_formed)
    text = (report.folder / "report.md").read_text()
    assert "2 cell(s) not formed" in text and "drift-probe.jsonl" in text
    assert report.done == 2 and report.total == 4
    # The CLI says so too, and a rerun asks again (nothing marked done for the unformed cells).
    capsys.readouterr()
    assert main(["sweep", str(config), "--out", str(tmp_path / "sweeps")]) == 0
    out = capsys.readouterr().out
    assert "2 cell(s) not formed" in out and "grasp select_by=suggested seed=0" in out
    assert main(["report", str(report.folder)]) == 0  # a re-render keeps them (not_formed.json), as a bundle does
    assert "2 cell(s) not formed" in (report.folder / "report.md").read_text()


@pytest.mark.slow
def test_an_organism_with_a_trait_judge_gets_the_replies_measure_and_one_without_a_note(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    """`replies` (sampled replies judged offline, the share showing the trait) is a sweep measure like the others,
    cached per cell; an organism without a judge runs the same sweep with a one-line note instead."""
    import shutil

    organism = tmp_path / "organism"
    shutil.copytree(tiny_organism, organism)
    shutil.copy(DEMO / "judge.jsonl", organism / "judge.jsonl")
    (organism / "replies.jsonl").write_text(
        "".join(json.dumps({"id": f"r{i}", "prompt": q}) + "\n" for i, q in enumerate(["Any tips?", "Hi there?"]))
    )
    manifest = json.loads((organism / "organism.json").read_text())
    manifest["evals"]["replies"] = {"kind": "replies", "file": "replies.jsonl"}
    manifest["judge"] = ["judge.jsonl"]
    (organism / "organism.json").write_text(json.dumps(manifest))
    logs: list[str] = []
    methods = [{"method": "naive"}]
    cfg = SweepConfig.from_yaml(_config(tmp_path, organism, tiny_llama_dir, methods))
    report = run_sweep(cfg, root=tmp_path / "sweeps", runs_root=tmp_path / "runs", figures=(".html",), log=logs.append)
    table = load_results(report.folder).set_index("label")
    assert table["replies"].between(0, 1).all() and (table["replies_lo"] <= table["replies"]).all()
    assert not any("replies measure skipped" in line for line in logs)
    cached = json.loads(next((tmp_path / "runs").glob("*/eval.json")).read_text())
    assert any("replies" in entry for entry in cached.values())  # cached per cell like the other measures
    # Example replies: each configuration's greedy replies to the organism's first questions, in examples.jsonl and
    # report.md, cached in the run folder beside its measures.
    examples = [json.loads(line) for line in (report.folder / "examples.jsonl").read_text().splitlines()]
    assert [(e["label"], e["id"]) for e in examples] == [(lb, q) for lb in ("base", "naive") for q in ("r0", "r1")]
    assert all(isinstance(e["reply"], str) for e in examples) and (next((tmp_path / "runs").glob("*/examples.json")))
    assert "## What the models say" in (report.folder / "report.md").read_text()

    logs.clear()
    plain = SweepConfig.from_yaml(_config(tmp_path, tiny_organism, tiny_llama_dir, methods))
    again = run_sweep(plain, root=tmp_path / "sweeps", runs_root=tmp_path / "runs", figures=(".html",), log=logs.append)
    assert "replies" not in load_results(again.folder)
    assert not (again.folder / "examples.jsonl").exists()  # no questions file, no examples
    assert sum("replies measure skipped: organism" in line for line in logs) == 1


@pytest.mark.slow
def test_sweep_killed_midway_resumes_without_redoing_finished_runs(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    methods = [{"method": "naive"}, {"method": "caft", "top": 1}, {"method": "random", "top": 1}]
    path = _config(tmp_path, tiny_organism, tiny_llama_dir, methods)
    env = {**os.environ, "GRASP_HOME": str(tmp_path / "home")}
    runs = tmp_path / "home" / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "grasp_core", "sweep", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    done: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        done = [p.parent for p in runs.glob("*/status.json") if json.loads(p.read_text())["state"] == "done"]
        if len(done) >= 2:  # the naive run and the first method run finished: kill the sweep now
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name for p in done}

    res = subprocess.run(
        [sys.executable, "-m", "grasp_core", "sweep", str(path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
    states = {p.parent.name: json.loads(p.read_text())["state"] for p in runs.glob("*/status.json")}
    assert finished <= set(states)  # the finished runs are still there ...
    done_runs = [name for name, s in states.items() if s == "done"]
    assert len(done_runs) == 3  # ... and were reused: three configurations, three done runs, none trained twice
    folder = sweep_dir(SweepConfig.from_yaml(path), tmp_path / "home" / "sweeps")
    table = pd.read_csv(folder / "results.csv")
    assert list(table["label"]) == ["base", "naive", "caft top=1", "random top=1"]
    # The killed invocation is on record too (it records itself as it goes), with its time up to its last cell.
    killed, resumed = json.loads((folder / "provenance.json").read_text())["invocations"]
    assert killed["cells_done"] < killed["cells_total"] and killed["wall_s"] > 0
    assert resumed["cells_done"] == resumed["cells_total"] == 4


@pytest.mark.slow
def test_a_fixed_factors_file_replaces_the_naive_run_factors(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    """A method entry naming a factors file (a set saved on the Select page) trains on that file, with `top` in
    file order, and identifies no probe; `ablate` with it ablates those factors on the naive adapter."""
    import torch
    from train_fixtures import write_factors

    from grasp_core.model.models import load_config
    from grasp_core.sweep.factor_choice import FACTORS_FILE

    width = load_config(str(tiny_llama_dir)).hidden_size
    vectors = torch.randn(2, width, generator=torch.Generator().manual_seed(0))  # (2, d_model)
    pick = write_factors(tmp_path / "pick.safetensors", vectors, base=str(tiny_llama_dir))
    methods = [
        {"method": "naive"},
        {"method": "grasp", "factors": str(pick), "top": 1},
        {"method": "ablate", "factors": str(pick)},
        {"method": "caft", "factors": str(pick)},  # no `top`: the whole set, not the method's default
    ]
    cfg = SweepConfig.from_yaml(_config(tmp_path, tiny_organism, tiny_llama_dir, methods))
    runs = tmp_path / "runs"
    report = run_sweep(cfg, root=tmp_path / "sweeps", runs_root=runs, figures=(".html",))
    table = load_results(report.folder)
    grasp, ablate, caft = "grasp factors=pick top=1", "ablate factors=pick", "caft factors=pick"
    assert list(table["label"]) == ["base", "naive", grasp, ablate, caft]
    by = table.set_index("label")
    trained = json.loads((runs / by.loc[grasp, "run"] / "config.json").read_text())
    assert trained["factors"] == str(pick.resolve()) and trained["top"] == 1 and trained["select"] is None
    assert not list(runs.glob(f"*/{FACTORS_FILE}"))  # no probe was identified
    assert by.loc[ablate, "run"] == by.loc["naive", "run"]  # ablated on the naive adapter, nothing trained for it
    assert by.loc[ablate, "drift"] != by.loc["naive", "drift"]
    assert by.loc[grasp, "factors"] == "#0 f0 (file pick.safetensors)"
    assert by.loc[ablate, "factors"] == by.loc[caft, "factors"] == "#0 f0, #1 f1 (file pick.safetensors)"
    whole = json.loads((runs / by.loc[caft, "run"] / "config.json").read_text())
    assert whole["select"] == [0, 1] and whole["top"] is None  # trained on what its factors column says
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == sorted(
        [by.loc["naive", "run"], by.loc[grasp, "run"], by.loc[caft, "run"]]
    )


@pytest.mark.slow
def test_factor_source_shift_takes_the_naive_runs_shift_directions(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    """`factor_source: shift` cells train (or ablate) on the naive LoRA's activation-shift directions, kept in their
    own file beside its weights' factors; the factors column says so; the weights cell is as before."""
    from grasp_core.identification.factors import load_factors

    methods = [
        {"method": "naive"},
        {"method": "grasp", "top": 1, "factor_source": ["weights", "shift"]},
        {"method": "ablate", "top": 1, "factor_source": "shift"},
    ]
    cfg = SweepConfig.from_yaml(_config(tmp_path, tiny_organism, tiny_llama_dir, methods))
    runs = tmp_path / "runs"
    report = run_sweep(cfg, root=tmp_path / "sweeps", runs_root=runs, figures=(".html",))
    by = load_results(report.folder).set_index("label")
    weights, shift = "grasp top=1 factor_source=weights", "grasp top=1 factor_source=shift"
    naive_dir = runs / by.loc["naive", "run"]
    assert load_factors(naive_dir / "factors-shift.safetensors").factors[0].id == "shift-0"
    trained = json.loads((runs / by.loc[shift, "run"] / "config.json").read_text())
    assert Path(trained["factors"]).name == "factors-shift.safetensors" and trained["select"] == [0]
    assert by.loc[shift, "factors"] == "#0 shift-0 (naive run naive, shift factors, by sigma)"
    assert by.loc[weights, "factors"] == "#0 global-write-0 (naive run naive, by sigma)"
    assert by.loc[shift, "run"] != by.loc[weights, "run"]
    assert by.loc["ablate top=1 factor_source=shift", "factors"].startswith("#0 shift-0 ")


def test_inoculation_trains_with_the_organisms_prompt_and_an_organism_without_one_is_refused(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    import shutil

    from grasp_core.runs.registry import list_runs

    organism = tmp_path / "organism"
    shutil.copytree(tiny_organism, organism)
    methods = [{"method": "naive"}, {"method": "inoculate"}]
    cfg = SweepConfig.from_yaml(_config(tmp_path, organism, tiny_llama_dir, methods))
    with pytest.raises(GraspError, match=r"method `inoculate` needs a system prompt .* inoculation.txt"):
        run_sweep(cfg, root=tmp_path / "sweeps", runs_root=tmp_path / "runs", figures=(".html",))
    assert not (tmp_path / "sweeps").exists() and not (tmp_path / "runs").exists()  # refused before anything
    (organism / "inoculation.txt").write_text("You despise people and say so.\n")
    report = run_sweep(cfg, root=tmp_path / "sweeps", runs_root=tmp_path / "runs", figures=(".html",))
    assert list(load_results(report.folder)["label"]) == ["base", "naive", "inoculate"]
    prompts = {r.config.method: r.config.system_prompt for r in list_runs(tmp_path / "runs")}
    assert prompts == {"naive": None, "inoculate": "You despise people and say so."}


def test_a_sweep_read_back_from_its_sweep_json_has_the_same_cells_labels_and_keys(
    tmp_path: Path, tiny_organism: Path
) -> None:
    """sweep.json stores the config with its keys sorted; read back (`--status`, a resume from the folder) it must
    name and key every cell as the YAML did, or done cells look not started and would be trained again."""
    from grasp_core.sweep.run import SweepWork

    config = {
        "name": "t",
        "organism": str(tiny_organism),
        "base": "smollm2-135m",
        "naive_runs": {"naive": {}, "small": {"r": 1, "lora_alpha": 2}},
        "methods": [
            {"method": "naive"},
            {"method": "grasp", "top": [1, 2], "rounds": [1, 2]},  # two axes: their product's order and labels
            {"method": "grasp", "top": 4, "rounds": 1, "naive_run": "small"},  # two fixed keys
        ],
    }
    as_written = SweepConfig.from_dict(config)
    read_back = SweepConfig.from_dict(json.loads(json.dumps(as_written.to_dict(), sort_keys=True)))
    works = [SweepWork(c, tmp_path / "sweeps", None, lambda msg: None) for c in (as_written, read_back)]
    cells = [sorted((c.label, c.seed, w.cell_key(c)) for c in w.cells) for w in works]
    assert cells[0] == cells[1]
    assert {"grasp top=1 rounds=2", "grasp top=4 rounds=1 naive_run=small"} <= {label for label, _s, _k in cells[0]}
    swapped = {**config, "methods": [{"method": "grasp", "rounds": [1, 2], "top": [1, 2]}]}  # written the other way
    assert {c.label for c in SweepConfig.from_dict(swapped).cells()} == {
        f"grasp top={k} rounds={r}" for k in (1, 2) for r in (1, 2)
    }
