"""TrainConfig: validation names the field, dict and flag round trips, old names read with a warning, method defaults."""

from __future__ import annotations

import argparse

import pytest

from grasp_core.errors import GraspError
from grasp_core.training.config import TrainConfig


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"method": "magic"}, "method"),
        ({"weights_side": "left"}, "weights_side"),
        ({"projection": "grad"}, "projection"),
        ({"method": "grasp"}, "factors"),
        ({"method": "random"}, "top"),
        ({"r": 0}, "r"),
        ({"lr": -1.0}, "lr"),
        ({"warmup_ratio": 1.0}, "warmup_ratio"),
        ({"method": "kl", "rounds": 2}, "rounds"),
        ({"select": (0,), "top": 2}, "select"),
        ({"dtype": "float8"}, "dtype"),
        ({"method": "inoculate"}, "system_prompt"),
        ({"system_prompt": "  "}, "system_prompt"),
        ({"mid_block": True}, "mid_block"),  # the naive method projects nothing
        ({"method": "grasp", "factors": "f.safetensors", "projection": "weights", "mid_block": True}, "mid_block"),
        ({"method": "grasp", "factors": "f.safetensors", "rounds": 2, "round_select": "spectral"}, "round_select"),
        (
            {"method": "grasp", "factors": "f.safetensors", "round_select": "evidence", "round_probes": "o"},
            "round_select",
        ),
        ({"method": "grasp", "factors": "f.safetensors", "rounds": 2, "round_select": "evidence"}, "round_probes"),
        ({"method": "grasp", "factors": "f.safetensors", "rounds": 2, "round_probes": "o"}, "round_probes"),
    ],
)
def test_config_validation_names_the_field(kw, field):
    with pytest.raises(ValueError, match=f"`{field}`"):
        TrainConfig(data="d.jsonl", **kw)


def test_config_dict_and_argparse_round_trip():
    cfg = TrainConfig(data="d.jsonl", method="grasp", factors="f.safetensors", select=(0, 2), layers=(1,))
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.warns(UserWarning, match="unknown keys bogus"):
        assert TrainConfig.from_dict({**cfg.to_dict(), "bogus": 1}) == cfg
    with pytest.raises(GraspError, match="missing required field.*data"):
        TrainConfig.from_dict({"method": "naive"})
    parser = argparse.ArgumentParser()
    TrainConfig.add_arguments(parser)
    ns = parser.parse_args(
        [
            "--data",
            "d.jsonl",
            "--method",
            "steer",
            "--factors",
            "f.safetensors",
            "--top",
            "3",
            "--strength",
            "2.5",
            "--target-modules",
            "o_proj",
            "down_proj",
            "--use-rslora",
        ]
    )
    got = TrainConfig.from_args(ns)
    assert (got.method, got.top, got.strength, got.target_modules, got.use_rslora, got.r) == (
        "steer",
        3,
        2.5,
        ("o_proj", "down_proj"),
        True,
        8,
    )


def test_grasp_defaults_are_the_best_configuration_found() -> None:
    """Unset `top` / `rounds` take the method's defaults (README's rule: residual-grad, top 4, one round for grasp,
    and its random control as many); an explicit value, `select`, or a method without factors is left alone."""
    g = TrainConfig(data="d.jsonl", method="grasp", factors="f.safetensors")
    assert (g.projection, g.top, g.rounds, g.n_rounds) == ("residual-grad", 4, 1, 1)
    assert TrainConfig(data="d.jsonl", method="random", factors="f.safetensors").top == 4
    assert TrainConfig(data="d.jsonl", method="grasp", factors="f.safetensors", top=8, rounds=1).top == 8
    assert TrainConfig(data="d.jsonl", method="grasp", factors="f.safetensors", select=(0, 3)).top is None
    assert (
        TrainConfig(data="d.jsonl", method="caft", factors="f.safetensors").top,
        TrainConfig(data="d.jsonl", method="caft", factors="f.safetensors").rounds,
    ) == (4, 1)
    assert (TrainConfig(data="d.jsonl").top, TrainConfig(data="d.jsonl").rounds) == (None, 1)
    with pytest.raises(ValueError, match="must be 1 for method `caft`"):
        TrainConfig(data="d.jsonl", method="caft", factors="f.safetensors", rounds=2)


def test_old_names_are_read_with_a_warning() -> None:
    """`iterate` and `side` (earlier releases) are read as `rounds` and `weights_side`, from JSON and from flags."""
    with pytest.warns(UserWarning) as caught:
        cfg = TrainConfig.from_dict(
            {"data": "d.jsonl", "method": "grasp", "factors": "f", "iterate": 2, "side": "both"}
        )
    said = " ".join(str(w.message) for w in caught)
    assert "`iterate` is now called `rounds`" in said and "`side` is now called `weights_side`" in said
    assert (cfg.rounds, cfg.weights_side) == (2, "both") and "iterate" not in cfg.to_dict()
    p = argparse.ArgumentParser()
    TrainConfig.add_arguments(p)
    with pytest.warns(UserWarning, match="--iterate is now --rounds"):
        old = TrainConfig.from_args(
            p.parse_args(["--data", "d", "--method", "grasp", "--factors", "f", "--iterate", "3"])
        )
    assert old.rounds == 3
    with pytest.raises(GraspError, match="`rounds` must be 1 for method `kl` \\(only grasp train in rounds\\)"):
        TrainConfig.from_dict({"data": "d", "method": "kl", "rounds": 2})


def test_select_is_comma_separated_and_the_spaced_form_of_earlier_releases_warns() -> None:
    p = argparse.ArgumentParser()
    TrainConfig.add_arguments(p)
    base = ["--data", "d", "--method", "grasp", "--factors", "f"]
    assert TrainConfig.from_args(p.parse_args([*base, "--select", "0,2"])).select == (0, 2)
    with pytest.warns(UserWarning, match="--select 0 2 is now --select 0,2"):
        assert TrainConfig.from_args(p.parse_args([*base, "--select", "0", "2"])).select == (0, 2)
    for bad, says in (("0,0,1", "index 0 given twice"), ("a,1", "comma-separated"), ("-1", ">= 0")):
        with pytest.raises(GraspError, match=says):
            TrainConfig.from_args(p.parse_args([*base, "--select", bad]))


def test_the_method_name_of_earlier_releases_is_read() -> None:
    assert TrainConfig(data="d", method="lora").method == "naive"  # stored configs: read as they are
    p = argparse.ArgumentParser()
    TrainConfig.add_arguments(p)
    with pytest.warns(UserWarning, match="--method lora is now --method naive"):  # typed by a person: warned
        assert TrainConfig.from_args(p.parse_args(["--data", "d", "--method", "lora"])).method == "naive"


def test_an_index_selected_twice_is_refused() -> None:
    with pytest.raises(GraspError, match="`select`"):
        TrainConfig(data="d", method="grasp", factors="f", select=(0, 2, 0))
