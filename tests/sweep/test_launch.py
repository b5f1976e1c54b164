"""The launch form as a library function: form values -> TrainConfigs or a SweepConfig, no Streamlit needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from train_fixtures import write_factors

from grasp_core import (
    METHODS,
    ConfigError,
    GraspError,
    LaunchForm,
    SweepConfig,
    form_recipe,
    launch_runs,
    launch_sweep,
    parse_values,
    recipe_of,
)
from grasp_core.sweep.config import expand_entry


@pytest.fixture()
def data(tmp_path: Path) -> str:
    path = tmp_path / "chats.jsonl"
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    path.write_text(json.dumps(row) + "\n")
    return str(path)


def test_runs_are_methods_x_values_x_seeds(data: str, tmp_path: Path) -> None:
    factors = write_factors(tmp_path / "set.safetensors", torch.eye(64)[:3], base="b")
    form = LaunchForm(
        base="b",
        methods=("grasp", "kl"),
        values={"grasp": "1, 2", "kl": ""},
        seeds=2,
        data=data,
        factor_set=str(factors),
        recipe={"r": 4, "lora_alpha": 8.0, "lr": 1e-3},
    )
    runs = launch_runs(form)
    assert [(c.method, c.top, c.seed) for c in runs] == [
        ("grasp", 1, 0),
        ("grasp", 1, 1),
        ("grasp", 2, 0),
        ("grasp", 2, 1),
        ("kl", None, 0),
        ("kl", None, 1),
    ]
    assert all(c.factors == str(factors) for c in runs[:4]) and runs[4].factors is None
    assert {(c.r, c.lora_alpha, c.lr, c.base, c.data) for c in runs} == {(4, 8.0, 1e-3, "b", data)}
    whole = launch_runs(LaunchForm(base="b", methods=("grasp",), data=data, factor_set=str(factors)))
    assert [c.top for c in whole] == [3]  # `top` left empty: the whole hand-picked set


def test_method_quirks_come_from_the_registry(data: str) -> None:
    # random runs without a set from a count alone: its default top; grasp cannot run without factors.
    (rand,) = launch_runs(LaunchForm(base="b", methods=("random",), data=data))
    assert rand.top == METHODS["random"].default_top and rand.factors is None
    with pytest.raises(GraspError, match="method `grasp` needs a factor set"):
        launch_runs(LaunchForm(base="b", methods=("grasp",), data=data))
    assert [
        c.strength
        for c in launch_runs(LaunchForm(base="b", methods=("kl", "naive"), data=data, values={"kl": "2", "naive": "5"}))
    ] == [2.0, None]


def test_the_sweep_has_the_naive_reference_first_and_the_same_grid(data: str) -> None:
    form = LaunchForm(
        base="b",
        methods=("kl", "grasp"),
        values={"kl": "0.1,1"},
        seeds=3,
        organism="persona",
        recipe={"r": 4, "target_modules": ("q_proj", "o_proj")},
    )
    sweep = launch_sweep(form)
    assert isinstance(sweep, SweepConfig) and sweep.seeds == (0, 1, 2)
    assert list(sweep.methods) == [{"method": "naive"}, {"method": "kl", "strength": [0.1, 1.0]}, {"method": "grasp"}]
    assert sweep.train == {"r": 4, "target_modules": ["q_proj", "o_proj"]}
    labels = [c.label for c in sweep.cells() if c.seed == 0]
    assert labels == [label for e in sweep.methods for label, _s, _o in expand_entry(e)]
    assert len(sweep.cells()) == 3 * 4


def test_a_sweep_form_can_pick_factors_by_evidence(data: str, tmp_path: Path) -> None:
    form = LaunchForm(
        base="b", methods=("grasp", "random"), values={"grasp": "1,2"}, organism="persona", select_by="evidence"
    )
    entries = list(launch_sweep(form).methods)
    assert entries[1] == {"method": "grasp", "top": [1, 2], "select_by": "evidence"}
    assert "select_by" not in entries[2]  # random directions are not picked
    bare = launch_sweep(LaunchForm(base="b", methods=("grasp",), organism="persona", select_by="evidence"))
    assert bare.methods[1] == {"method": "grasp", "select_by": "evidence", "top": METHODS["grasp"].default_top}
    sized = launch_sweep(
        LaunchForm(base="b", methods=("grasp",), values={"grasp": "1,2"}, organism="persona", select_by="suggested")
    )
    assert sized.methods[1] == {"method": "grasp", "select_by": "suggested"}  # the evidence sizes the set
    factors = write_factors(tmp_path / "set.safetensors", torch.eye(64)[:3], base="b")
    fixed = launch_sweep(
        LaunchForm(base="b", methods=("grasp",), organism="persona", select_by="evidence", factor_set=str(factors))
    )
    assert "select_by" not in fixed.methods[1]  # a hand-picked set is used as it is
    with pytest.raises(ConfigError, match="`select_by` must be one of sigma, evidence"):
        LaunchForm(base="b", methods=("grasp",), select_by="vibes")


def test_a_sweep_form_sets_the_candidates_source_rounds_and_mid_block(data: str, tmp_path: Path) -> None:
    form = LaunchForm(
        base="b",
        methods=("grasp", "caft", "random", "kl"),
        values={"grasp": "1,2"},
        organism="persona",
        select_by="evidence",
        factor_source="shift",
        mid_block=True,
    )
    grasp, caft, rand, kl = list(launch_sweep(form).methods)[1:]
    assert grasp == {
        "method": "grasp",
        "top": [1, 2],
        "select_by": "evidence",
        "factor_source": "shift",
        "mid_block": True,
    }
    assert caft["factor_source"] == "shift" and "mid_block" not in caft  # caft does not project in training
    assert rand == {"method": "random", "mid_block": True}  # random directions have no source to pick from
    assert kl == {"method": "kl"}
    rounds = launch_sweep(LaunchForm(base="b", methods=("grasp",), organism="persona", select_by="evidence", rounds=2))
    assert rounds.methods[1]["rounds"] == 2
    (cell,) = [c for c in rounds.cells() if c.method == "grasp"]
    assert cell.select_by == "evidence"  # its run ranks each later round's candidates by evidence (run.measure)
    factors = write_factors(tmp_path / "set.safetensors", torch.eye(64)[:2], base="b")
    plain = launch_runs(
        LaunchForm(base="b", methods=("grasp", "random"), data=data, factor_set=str(factors), rounds=3, mid_block=True)
    )
    assert [(c.method, c.rounds, c.mid_block) for c in plain] == [("grasp", 3, True), ("random", 1, True)]
    with pytest.raises(ConfigError, match="`factor_source` must be one of weights, shift, both"):
        LaunchForm(base="b", methods=("grasp",), factor_source="vibes")
    with pytest.raises(ConfigError, match="`rounds` must be a whole number"):
        LaunchForm(base="b", methods=("grasp",), rounds=0)


def test_bad_form_values_are_named(data: str) -> None:
    with pytest.raises(ConfigError, match="`beta` values of kl must be numbers"):
        parse_values("0.1, x", "kl")
    assert parse_values(" 1,2 ", "grasp") == [1, 2] and parse_values("", "grasp") == []
    with pytest.raises(ConfigError, match="at least one method"):
        LaunchForm(base="b", methods=())
    with pytest.raises(GraspError, match="unknown method 'nope'"):
        LaunchForm(base="b", methods=("nope",))
    with pytest.raises(GraspError, match=r"training data \(empty\): file not found"):
        launch_runs(LaunchForm(base="b", methods=("naive",)))


def test_the_form_starts_from_the_adapters_own_recipe(tmp_path: Path) -> None:
    from grasp_core import DEMO_ROOT

    persona = form_recipe(DEMO_ROOT / "persona" / "naive-lora")
    # how grasp demo build trained it, not the dataclass defaults
    recipe = (persona["r"], persona["lora_alpha"], persona["lr"], persona["epochs"], persona["batch_size"])
    assert recipe == (4, 8, 1e-3, 2, 16)
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 16, "lora_alpha": 32, "target_modules": ["v", "q"]}))
    assert recipe_of(tmp_path) == {"r": 16, "lora_alpha": 32, "target_modules": ("q", "v")}  # a PEFT folder
    assert form_recipe(tmp_path)["lr"] == form_recipe(None)["lr"]  # what it cannot tell keeps the default
    assert recipe_of(tmp_path / "missing") == {}


def test_inoculation_takes_the_typed_prompt_or_in_a_sweep_the_organisms(data: str) -> None:
    (run,) = launch_runs(LaunchForm(base="b", methods=("inoculate",), data=data, system_prompt=" Be rude. "))
    assert run.method == "inoculate" and run.system_prompt == "Be rude."
    with pytest.raises(GraspError, match="method `inoculate` needs a system prompt"):
        launch_runs(LaunchForm(base="b", methods=("inoculate",), data=data))
    sweep = launch_sweep(LaunchForm(base="b", methods=("inoculate",), organism="persona"))
    assert sweep.methods[1] == {"method": "inoculate"}  # the organism's inoculation.txt, read when it runs
