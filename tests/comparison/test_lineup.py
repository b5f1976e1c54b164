"""A lineup resolves base, adapter folders and finished runs (each @s), checks every adapter against the base
before loading anything, refuses bad names in one line, and releases each model's weights when done with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from lora_fixtures import make_adapter
from train_fixtures import make_tiny_base, tiny_config

from grasp_core.comparison.lineup import MAX_MODELS, ComparedModel, lineup, loaded, parse_model
from grasp_core.errors import GraspError
from grasp_core.model.models import load_base
from grasp_core.runs.registry import create_run

IDS = torch.tensor([[1, 5, 9, 14, 3]])


def _logits(bm: Any) -> torch.Tensor:
    with torch.no_grad():
        return bm.model(input_ids=IDS).logits[0]


def test_names_resolve_to_base_adapters_and_runs(kit: dict[str, Any]) -> None:
    base, runs = str(kit["base"]), kit["runs"]
    models = lineup(["base", str(kit["adapter"]), f"{kit['adapter']}@2", kit["run"], f"{kit['run']}@-1"], base, runs)
    assert [m.label for m in models] == ["base", "planted", "planted@2", kit["run"], f"{kit['run']}@-1"]
    assert models[0].is_base and models[1].adapter == Path(kit["adapter"]).resolve() and models[2].scale == 2.0
    assert models[3].run == kit["run"] and models[3].adapter == runs / kit["run"] / "adapter"
    assert models[4].scale == -1.0
    # Two adapter folders of one name (every organism's naive-lora) are told apart by their parent folders.
    from grasp_core import DEMO_ROOT

    two = lineup([str(DEMO_ROOT / o / "naive-lora") for o in ("persona", "flattery")], "smollm2-135m")
    assert [m.label for m in two] == ["persona/naive-lora", "flattery/naive-lora"]
    # A run's own adapter/ folder given as a path is named by its run.
    assert parse_model(str(runs / kit["run"] / "adapter"), base, runs).label == kit["run"]


@pytest.mark.parametrize(
    ("names", "error"),
    [
        (["base", "nowhere"], r"model 'nowhere': not 'base', an adapter folder or a run id"),
        (["base@2"], "the base has no adapter to amplify"),
        (["ADAPTER@4"], r"scale must lie in \[-1, 3\]"),
        (["ADAPTER", "ADAPTER"], "named twice"),
        ([" ", ""], "no models to compare"),
        (["base"] * (MAX_MODELS + 1), f"at most {MAX_MODELS}"),
        (["BASEDIR"], "not a PEFT adapter folder"),
    ],
)
def test_bad_names_are_refused_in_one_line(kit: dict[str, Any], names: list[str], error: str) -> None:
    names = [n.replace("ADAPTER", str(kit["adapter"])).replace("BASEDIR", str(kit["base"])) for n in names]
    with pytest.raises(GraspError, match=error):
        lineup(names, str(kit["base"]), kit["runs"])


def test_unfinished_runs_and_adapters_of_another_base_are_refused(kit: dict[str, Any], tmp_path: Path) -> None:
    queued = create_run(tiny_config(kit), kit["runs"])
    with pytest.raises(GraspError, match=f"run {queued.id} is queued, it has no finished adapter"):
        lineup([queued.id], str(kit["base"]), kit["runs"])
    wide = make_tiny_base(tmp_path / "wide", hidden=48)
    other = make_adapter(load_base(str(wide)).model, tmp_path / "other", ["q_proj"])
    with pytest.raises(GraspError, match="model 'other': "):
        lineup(["base", str(other)], str(kit["base"]), kit["runs"])
    with pytest.raises(GraspError, match=f"trained on base {kit['base']}, this comparison's base is {wide}"):
        lineup([kit["run"]], str(wide), kit["runs"])


def test_loaded_scales_the_adapter_and_frees_the_weights(kit: dict[str, Any]) -> None:
    base = str(kit["base"])
    with loaded(ComparedModel("base"), base) as bm:
        plain = _logits(bm)
    assert all(p.device.type == "meta" for p in bm.model.parameters())  # released though `bm` is still held
    with loaded(ComparedModel("a", Path(kit["adapter"])), base) as bm:
        tuned = _logits(bm)
    with loaded(ComparedModel("a@0", Path(kit["adapter"]), 0.0), base) as bm:
        assert torch.allclose(_logits(bm), plain, atol=1e-5)
    with loaded(ComparedModel("a@2", Path(kit["adapter"]), 2.0), base) as bm:
        doubled = _logits(bm)
    assert (tuned - plain).abs().max() > 1e-3
    assert not torch.allclose(doubled, tuned, atol=1e-4)
