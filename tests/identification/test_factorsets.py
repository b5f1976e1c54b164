"""Named factor sets: saved atomically under GRASP_HOME, listed after a 'restart', stale sets detected."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from app_fixtures import make_tiny_base, plant_adapter

from grasp_core.errors import GraspError
from grasp_core.identification.factors import identify, load_factors, save_factors
from grasp_core.identification.factorsets import (
    FactorSetSpec,
    check_factor_set,
    delete_factor_set,
    list_factor_sets,
    load_factor_set,
    save_factor_set,
    saved_set_size,
    set_cosines,
)
from grasp_core.model.adapters import load_adapter


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("fs")
    base = make_tiny_base(root / "base")
    return base, plant_adapter(str(base), root / "adapter")


def test_save_list_load_roundtrip(planted: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    adapter = load_adapter(planted[1])
    fs = identify(adapter, n_layers=3, n_factors=4)
    ids = [fs.factors[2].id, fs.factors[0].id]
    saved = save_factor_set(FactorSetSpec("persona-pick", ids), fs)
    assert saved.path == tmp_path / "factor_sets" / "persona-pick.safetensors"
    # A fresh listing (as after a restart) finds it, in the chosen order, with the same vectors.
    (again,) = list_factor_sets()
    assert again.name == "persona-pick" and again.ids == ids
    assert torch.allclose(again.factors.matrix(), torch.stack([fs.factors[2].vector, fs.factors[0].vector]))
    assert again.matches(adapter.hash)
    check_factor_set(again, adapter.hash)
    # It is a plain factors file that training reads.
    assert load_factors(saved.path).adapter_hash == adapter.hash
    # A set saved by hand is known as one (trained whole by `grasp train`); the identify output it came from is not.
    assert saved_set_size(saved.path) == 2
    assert saved_set_size(save_factors(fs, tmp_path / "factors.safetensors")) is None
    cos = set_cosines(again)
    assert abs(cos[0][0] - 1) < 1e-5 and abs(cos[0][1]) < 1e-4  # global factors are orthonormal
    delete_factor_set("persona-pick")
    assert list_factor_sets() == []


def test_stale_set_detected(planted: tuple[Path, Path], tmp_path: Path) -> None:
    adapter = load_adapter(planted[1])
    fs = identify(adapter, n_layers=3, n_factors=2)
    saved = save_factor_set(FactorSetSpec("s", [fs.factors[0].id]), fs, root=tmp_path)
    other = plant_adapter(str(planted[0]), tmp_path / "other", seed=1)
    other_hash = load_adapter(other).hash
    assert other_hash != adapter.hash
    with pytest.raises(GraspError, match="stale"):
        check_factor_set(load_factor_set("s", root=tmp_path), other_hash)
    assert not saved.matches(other_hash)


def test_bad_inputs(planted: tuple[Path, Path], tmp_path: Path) -> None:
    fs = identify(load_adapter(planted[1]), n_layers=3, n_factors=2)
    with pytest.raises(ValueError, match="`name`"):
        FactorSetSpec("../escape", ("global-write-0",))
    with pytest.raises(ValueError, match="`factor_ids`"):
        FactorSetSpec("ok", ())
    with pytest.raises(ValueError, match="duplicates"):
        FactorSetSpec("ok", ("a", "a"))
    with pytest.raises(GraspError, match="no factor 'nope'"):
        save_factor_set(FactorSetSpec("ok", ["nope"]), fs, root=tmp_path)
    save_factor_set(FactorSetSpec("ok", [fs.factors[0].id]), fs, root=tmp_path)
    with pytest.raises(GraspError, match="already exists"):
        save_factor_set(FactorSetSpec("ok", [fs.factors[1].id]), fs, root=tmp_path)
    assert load_factor_set("ok", root=tmp_path).ids == [fs.factors[0].id]
    save_factor_set(FactorSetSpec("ok", [fs.factors[1].id]), fs, root=tmp_path, overwrite=True)
    assert load_factor_set("ok", root=tmp_path).ids == [fs.factors[1].id]
    with pytest.raises(GraspError, match="no factor set 'missing'"):
        load_factor_set("missing", root=tmp_path)
    # A corrupt file is skipped by the listing, named when loaded.
    (tmp_path / "broken.safetensors").write_bytes(b"junk")
    assert [s.name for s in list_factor_sets(tmp_path)] == ["ok"]
    with pytest.raises(GraspError, match="broken"):
        load_factor_set("broken", root=tmp_path)


RACER = """
import sys, time
from pathlib import Path
from grasp_core.errors import GraspError
from grasp_core.identification.factors import load_factors
from grasp_core.identification.factorsets import FactorSetSpec, save_factor_set
fs = load_factors(sys.argv[1])
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
try:
    save_factor_set(FactorSetSpec("same", [fs.factors[int(sys.argv[3])].id]), fs, sys.argv[4])
    print("saved", sys.argv[3])
except GraspError as e:
    print("refused", e)
"""


def test_concurrent_saves_of_one_name_keep_one_and_refuse_the_others(
    planted: tuple[Path, Path], tmp_path: Path
) -> None:
    fs = identify(load_adapter(planted[1]), n_layers=3, n_factors=4)
    source = tmp_path / "all.safetensors"
    save_factors(fs, source)
    go, root = tmp_path / "go", tmp_path / "sets"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(source), str(go), str(k), str(root)], stdout=subprocess.PIPE, text=True
        )
        for k in range(3)
    ]
    time.sleep(3.0)  # every racer is waiting on the go file (imports done)
    go.touch()
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    saved = [o for o in outs if o.startswith("saved")]
    assert len(saved) == 1, outs
    assert sum("already exists" in o for o in outs) == 2, outs
    winner = int(saved[0].split()[1])
    assert load_factor_set("same", root).ids == [fs.factors[winner].id]  # what was reported saved is what is there


def test_newest_set_for_an_adapter_is_the_last_picked_from_it(
    planted: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grasp_core.identification.factorsets import newest_set_for

    monkeypatch.setenv("GRASP_HOME", str(tmp_path))
    fs = identify(load_adapter(planted[1]), n_layers=3, n_factors=2)
    save_factor_set(FactorSetSpec("older", [fs.factors[0].id]), fs)
    time.sleep(0.01)  # `created` orders the sets
    save_factor_set(FactorSetSpec("newer", [fs.factors[1].id]), fs)
    sets = list_factor_sets()
    assert newest_set_for(sets, planted[1]).name == "newer"
    assert newest_set_for(sets, str(planted[1]) + "/").name == "newer"  # the same folder, spelled differently
    assert newest_set_for(sets, tmp_path / "another-adapter") is None
    assert newest_set_for([], planted[1]) is None
