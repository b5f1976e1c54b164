"""Which run a sweep cell uses: a round of a longer finished run is read, not trained again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grasp_core.errors import GraspError
from grasp_core.sweep.cell_runs import sweep_adapters
from grasp_core.sweep.config import SweepConfig
from grasp_core.sweep.report import load_results
from grasp_core.sweep.run import run_sweep

TINY_TRAIN = {"r": 2, "lora_alpha": 4, "lr": 1e-3, "batch_size": 4, "epochs": 1, "max_length": 96}


def _config(tmp: Path, organism: Path, base: Path, methods: list[dict]) -> Path:
    path = tmp / "sweep.yaml"
    cfg = {"name": "t", "organism": str(organism), "base": str(base), "seeds": [0], "train": TINY_TRAIN}
    path.write_text(yaml.safe_dump({**cfg, "methods": methods}))
    return path


@pytest.mark.slow
def test_a_cell_whose_run_is_a_round_of_a_longer_run_trains_nothing(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    """Two cells of different families whose training configs differ only in rounds (here: one names the default
    projection): the one-round cell reads round 1 of the two-round run, as an evidence cell that falls back to the
    sigma factors does; nothing is trained for it and its scores are that round's."""
    import torch
    from train_fixtures import write_factors

    from grasp_core.model.models import load_config

    width = load_config(str(tiny_llama_dir)).hidden_size
    vectors = torch.randn(2, width, generator=torch.Generator().manual_seed(0))  # (2, d_model)
    pick = write_factors(tmp_path / "pick.safetensors", vectors, base=str(tiny_llama_dir))
    methods = [
        {"method": "grasp", "factors": str(pick), "top": 1, "rounds": [1, 2]},
        {"method": "grasp", "factors": str(pick), "top": 1, "projection": "residual-grad"},
    ]
    cfg = SweepConfig.from_yaml(_config(tmp_path, tiny_organism, tiny_llama_dir, methods))
    runs = tmp_path / "runs"
    report = run_sweep(cfg, root=tmp_path / "sweeps", runs_root=runs, figures=(".html",))
    by = load_results(report.folder).set_index("label")
    one, two, other = (
        "grasp factors=pick top=1 rounds=1",
        "grasp factors=pick top=1 rounds=2",
        "grasp factors=pick top=1 projection=residual-grad",
    )
    assert len([p for p in runs.iterdir() if p.is_dir()]) == 1  # the two-round run only
    assert by.loc[other, "run"] == by.loc[one, "run"] == by.loc[two, "run"]
    assert by.loc[other, "drift"] == by.loc[one, "drift"] != by.loc[two, "drift"]
    # Back from a cell to the adapter it was measured on: round 0 of the shared run for the one-round cells.
    run = runs / str(by.loc[two, "run"])
    found = dict(sweep_adapters(report.folder, 0, [one, two, other], root=runs))
    assert found == {one: run / "round-0" / "adapter", two: run / "adapter", other: run / "round-0" / "adapter"}
    # Settings in another order (sweep.json keeps them sorted) name the same cell.
    assert sweep_adapters(report.folder, 0, ["grasp rounds=2 top=1 factors=pick"], root=runs)[0][1] == run / "adapter"
    with pytest.raises(GraspError, match="no cell 'grasp top=9' on seed 0"):
        sweep_adapters(report.folder, 0, ["grasp top=9"], root=runs)
    with pytest.raises(GraspError, match="on seed 1 in sweep.json"):
        sweep_adapters(report.folder, 1, [one], root=runs)  # this sweep has seed 0 only


@pytest.mark.slow
def test_a_longer_run_takes_its_round_0_from_a_finished_one_round_run(tiny_llama_dir: Path, tmp_path: Path) -> None:
    """A two-round run whose config is a finished one-round run's but for rounds starts from that run's adapter as
    its round 0 (copied, not trained again) and trains round 1 only; it ends as a run trained from scratch would."""
    import json

    import torch
    from train_fixtures import write_chats, write_factors

    from grasp_core.model.models import load_config
    from grasp_core.runs.registry import list_runs
    from grasp_core.sweep.cell_runs import ensure_run, shorter_run
    from grasp_core.training.config import TrainConfig

    width = load_config(str(tiny_llama_dir)).hidden_size
    vectors = torch.randn(2, width, generator=torch.Generator().manual_seed(0))  # (2, d_model)
    pick = write_factors(tmp_path / "pick.safetensors", vectors, base=str(tiny_llama_dir))
    data = write_chats(tmp_path / "chats.jsonl", n=8)
    settings = {**TINY_TRAIN, "data": str(data), "base": str(tiny_llama_dir), "method": "grasp"}
    one = TrainConfig(**settings, factors=str(pick), top=1, rounds=1, device="cpu")
    two = TrainConfig(**settings, factors=str(pick), top=1, rounds=2, device="cpu")
    said: list[str] = []
    runs = tmp_path / "runs"
    assert shorter_run(two, runs) is None  # nothing finished yet
    first = ensure_run(one, runs, said.append)
    assert shorter_run(two, runs) == first and shorter_run(one, runs) is None
    second = ensure_run(two, runs, said.append)
    assert second != first and any(f"round 0 of this run is run {first.name}" in m for m in said)
    r0 = second / "round-0" / "adapter" / "adapter_model.safetensors"
    assert r0.read_bytes() == (first / "adapter" / "adapter_model.safetensors").read_bytes()
    steps = [json.loads(line) for line in (second / "round-1" / "metrics.jsonl").read_text().splitlines()]
    assert steps and not (second / "round-0" / "metrics.jsonl").exists()  # round 0 was not trained again
    result = json.loads((second / "train_result.json").read_text())
    assert [r["n_factors"] for r in result["rounds"]] == [1, 2] and result["status"] == "done"
    # The same two rounds trained from scratch give the same adapter: the copy changed nothing.
    again = ensure_run(two, tmp_path / "fresh", said.append)
    assert (again / "adapter" / "adapter_model.safetensors").read_bytes() == (
        second / "adapter" / "adapter_model.safetensors"
    ).read_bytes()
    assert len(list_runs(runs)) == 2


def test_a_cell_trains_from_the_sweep_config_and_the_organism(tiny_organism: Path) -> None:
    from grasp_core.evaluation.organisms import load_organism
    from grasp_core.sweep.cell_runs import train_config

    cfg = SweepConfig.from_dict({"organism": str(tiny_organism), "methods": [{"method": "naive"}], "train": {"r": 2}})
    org = load_organism(tiny_organism)
    tc = train_config(cfg, org, 3, "grasp", {"top": 2, "factors": "f.safetensors"})
    assert (tc.method, tc.seed, tc.r, tc.top, tc.base) == ("grasp", 3, 2, 2, cfg.base)
    assert tc.data == str(org.train)  # always the organism's own training chats
