"""Which run a sweep cell uses: a round of a longer finished run is read, not trained again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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
        "grasp factors=pick projection=residual-grad top=1",
    )
    assert len([p for p in runs.iterdir() if p.is_dir()]) == 1  # the two-round run only
    assert by.loc[other, "run"] == by.loc[one, "run"] == by.loc[two, "run"]
    assert by.loc[other, "drift"] == by.loc[one, "drift"] != by.loc[two, "drift"]


def test_a_cell_trains_from_the_sweep_config_and_the_organism(tiny_organism: Path) -> None:
    from grasp_core.evaluation.organisms import load_organism
    from grasp_core.sweep.cell_runs import train_config

    cfg = SweepConfig.from_dict({"organism": str(tiny_organism), "methods": [{"method": "naive"}], "train": {"r": 2}})
    org = load_organism(tiny_organism)
    tc = train_config(cfg, org, 3, "grasp", {"top": 2, "factors": "f.safetensors"})
    assert (tc.method, tc.seed, tc.r, tc.top, tc.base) == ("grasp", 3, 2, 2, cfg.base)
    assert tc.data == str(org.train)  # always the organism's own training chats
