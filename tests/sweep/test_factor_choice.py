"""Which factors a sweep cell uses: the first `top` of its scope and side by sigma, of an evidence ranking, or of a
fixed file; which cells need their naive run; and evidence without probe files is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_fixtures import write_factors

from grasp_core.errors import GraspError
from grasp_core.evaluation.organisms import load_organism
from grasp_core.sweep.config import Cell
from grasp_core.sweep.factor_choice import fixed_indices, needs_naive_run, require_probe_files, select_factors


def _cell(method: str = "grasp", select_by: str = "sigma", **settings: object) -> Cell:
    return Cell(label="c", method=method, settings=dict(settings), seed=0, select_by=select_by)


@pytest.fixture()
def factors(tmp_path: Path) -> Path:
    return write_factors(tmp_path / "f.safetensors", torch.eye(8)[:4], base="b")  # 4 global write factors


def test_the_first_top_by_sigma_or_by_the_evidence_ranking(factors: Path) -> None:
    assert select_factors(factors, _cell(top=2)) == (0, 1)
    assert select_factors(factors, _cell(select_by="evidence", top=2), ranking=[3, 1, 0]) == (3, 1)
    assert select_factors(factors, _cell()) is None  # no `top`: the method's own default applies
    assert select_factors(factors, _cell(top=2, select=[1])) is None  # `select` names them itself
    with pytest.raises(GraspError, match="more than the 3 factors evidence ranked"):
        select_factors(factors, _cell(select_by="evidence", top=4), ranking=[3, 1, 0])
    with pytest.raises(GraspError, match="cell 'c'"):
        select_factors(factors, _cell(top=9))
    # suggested: the prefix of the ranking that the evidence suggests, sized by it (no `top`).
    assert select_factors(factors, _cell(select_by="suggested"), ranking=[3, 1, 0], n_suggested=2) == (3, 1)
    assert select_factors(factors, _cell(select_by="suggested"), ranking=[3, 1, 0], n_suggested=0) == ()


def test_an_ablate_cell_with_a_fixed_file_removes_select_then_top_then_all(factors: Path) -> None:
    assert fixed_indices(factors, {"select": [2, 0]}) == (2, 0)
    assert fixed_indices(factors, {"top": 3}) == (0, 1, 2)
    assert fixed_indices(factors, {}) == (0, 1, 2, 3)
    with pytest.raises(GraspError, match="ablate: "):
        fixed_indices(factors, {"select": [7]})


def test_which_cells_need_their_naive_run() -> None:
    assert needs_naive_run(_cell("ablate", top=1)) and needs_naive_run(_cell("grasp", top=1))
    assert not needs_naive_run(_cell("grasp", factors="pick.safetensors", top=1))  # a fixed file replaces it
    assert not needs_naive_run(_cell("naive")) and not needs_naive_run(_cell("kl", strength=0.1))


def test_evidence_needs_the_organisms_probe_files(tiny_organism: Path, tmp_path: Path) -> None:
    require_probe_files(load_organism("persona"))  # the bundled organisms have them
    import json
    import shutil

    shutil.copytree(tiny_organism, tmp_path / "org")
    manifest = json.loads((tmp_path / "org" / "organism.json").read_text())
    manifest.pop("probes", None)
    (tmp_path / "org" / "organism.json").write_text(json.dumps(manifest))
    with pytest.raises(GraspError, match="has no `probes` in its organism.json"):
        require_probe_files(load_organism(tmp_path / "org"))
