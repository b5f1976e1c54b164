"""Sweep configs: grid expansion over axes and seeds, validation that names the entry and field."""

from __future__ import annotations

import pytest

from grasp_core.errors import GraspError
from grasp_core.sweep.config import SweepConfig


def test_cells_expand_axes_and_seeds() -> None:
    cfg = SweepConfig.from_dict(
        {
            "organism": "x",
            "seeds": [0, 1],
            "methods": [
                {"method": "naive"},
                {"method": "grasp", "top": [1, 4], "projection": "weights", "weights_side": ["write", "both"]},
            ],
        }
    )
    cells = cfg.cells()
    assert len(cells) == 2 + 2 * 2 * 2
    labels = {c.label for c in cells}
    assert "grasp projection=weights top=4 weights_side=both" in labels
    grasp = [c for c in cells if c.method == "grasp"]
    assert {c.curve for c in grasp} == {
        "grasp projection=weights weights_side=write",
        "grasp projection=weights weights_side=both",
    }
    assert sorted({c.strength_value for c in grasp}) == [1.0, 4.0]
    assert [c.seed for c in cells] == [0] * 5 + [1] * 5 and cells[0].method == "naive"  # seed-major, YAML order


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"organism": "x", "methods": [{"method": "nope"}]}, "unknown method 'nope'"),
        ({"organism": "x", "methods": [{"method": "grasp", "topp": 1}]}, "unknown field `topp`"),
        ({"organism": "x", "methods": [{"method": "grasp", "naive_run": "p"}]}, "naive run 'p' is not defined"),
        ({"organism": "x", "methods": [{"method": "naive"}], "train": {"seed": 1}}, "reserved field `seed`"),
        ({"methods": [{"method": "naive"}]}, "needs `organism` and `methods`"),
        ({"organism": "x", "methods": [{"method": "naive"}], "seeds": []}, "at least one seed"),
        (
            {"organism": "x", "methods": [{"method": "grasp", "factors": "/no/pick.safetensors"}]},
            r"s.yaml: methods\[0\]: `factors` file /no/pick.safetensors not found",
        ),
        ({"organism": "x", "methods": [{"method": "naive", "factors": "f"}]}, "method `naive` uses no factors"),
        (
            {"organism": "x", "methods": [{"method": "grasp", "select_by": "vibes"}]},
            "one of sigma, evidence, suggested",
        ),
        ({"organism": "x", "methods": [{"method": "kl", "select_by": "evidence"}]}, "method `kl` uses no factors"),
        ({"organism": "x", "methods": [{"method": "grasp", "select_by": "evidence", "select": [1]}]}, "fixed"),
        (
            {"organism": "x", "methods": [{"method": "grasp", "select_by": "evidence", "factor_side": "read"}]},
            "ranks global write factors",
        ),
        ({"organism": "x", "methods": [{"method": "grasp", "select_by": "evidence"}]}, "give `top`"),
        ({"organism": "x", "methods": [{"method": "grasp", "factor_source": "vibes"}]}, "one of weights, shift, both"),
        (
            {"organism": "x", "methods": [{"method": "grasp", "top": 1, "select_by": ["evidence", "suggested"]}]},
            "`select_by: suggested` takes the set the evidence suggests",
        ),
        ({"organism": "x", "methods": [{"method": "kl", "factor_source": "shift"}]}, "method `kl` uses no factors"),
        (
            {"organism": "x", "methods": [{"method": "grasp", "top": 1, "factor_source": "shift", "rounds": [1, 2]}]},
            "`factor_source: shift` or `both` takes one round's factors",
        ),
    ],
)
def test_bad_sweep_configs_are_named(bad: dict, message: str) -> None:
    with pytest.raises(GraspError, match=message):
        SweepConfig.from_dict(bad, where="s.yaml")


def test_old_names_in_a_sweep_are_read_with_a_warning() -> None:
    d = {
        "organism": "persona",
        "train": {"side": "read"},
        "probes": {"r1": {"r": 1, "iterate": 1}},
        "methods": [{"method": "grasp", "top": 1, "iterate": [1, 2]}, {"method": "grasp", "top": 1, "probe": "r1"}],
    }
    with pytest.warns(UserWarning) as caught:
        cfg = SweepConfig.from_dict(d)
    # iterate (train, naive run, entry), side, probes, probe
    assert sum("is now called" in str(w.message) for w in caught) == 5
    assert cfg.train == {"weights_side": "read"} and cfg.naive_runs["r1"] == {"r": 1, "rounds": 1}
    labels = ["grasp top=1 rounds=1", "grasp top=1 rounds=2", "grasp top=1 naive_run=r1"]
    assert [c.label for c in cfg.cells() if c.seed == 0] == labels
    assert [c.naive_run for c in cfg.cells() if c.seed == 0] == ["naive", "naive", "r1"]
