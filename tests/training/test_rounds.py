"""GRASP's rounds: each adds the last adapter's new top factors and trains again from the base; a resumed run keeps
its finished rounds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_fixtures import tiny_config, tiny_kit

from grasp_core.identification.factors import load_factors, orthonormal_basis
from grasp_core.training.config import TrainConfig
from grasp_core.training.loop import TrainHooks
from grasp_core.training.rounds import CANDIDATES_FILE, EVIDENCE_FILE, NEW_FACTOR_MIN_RESIDUAL, next_round_factors
from grasp_core.training.run import train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_kit(tmp_path_factory.mktemp("tinyr"))


def _cfg(tiny: dict[str, Path], **kw) -> TrainConfig:
    return tiny_config(tiny, **{"warmup_ratio": 0.0, **kw})


def test_rounds_add_new_factors_each_round(tiny, tmp_path):
    res = train(_cfg(tiny, method="grasp", factors=str(tiny["factors"]), rounds=2, epochs=2), tmp_path)
    assert res.status == "done" and [r["n_factors"] for r in res.rounds] == [2, 4]
    assert (tmp_path / "round-0" / "adapter").is_dir() and (tmp_path / "round-1" / "adapter").is_dir()
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    assert all(fid.startswith("round1-") for fid in res.rounds[1]["factors"][2:])


def test_rounds_resume_keeps_finished_rounds(tiny, tmp_path):
    cfg = _cfg(tiny, method="grasp", factors=str(tiny["factors"]), rounds=2)
    seen: list[tuple[int, int]] = []
    hooks = TrainHooks(on_step=lambda s, t, m: seen.append((s, t)), should_stop=lambda: len(seen) >= 8)
    cut = train(cfg, tmp_path, hooks)
    assert cut.status == "cancelled" and [r["status"] for r in cut.rounds] == ["done", "cancelled"]
    assert seen == [(i, 12) for i in range(1, 9)]  # steps counted across both rounds of 6
    first = tmp_path / "round-0" / "adapter" / "adapter_model.safetensors"
    stamp = first.stat().st_mtime_ns
    done = train(cfg, tmp_path, resume=True)
    assert done.status == "done" and [r["n_factors"] for r in done.rounds] == [2, 4]
    assert first.stat().st_mtime_ns == stamp  # round 0 was kept, not trained again


def test_next_round_factors_are_new_directions_named_by_round(tiny, tmp_path):
    res = train(_cfg(tiny, method="grasp", factors=str(tiny["factors"]), rounds=1), tmp_path)
    used = list(load_factors(tiny["factors"]).factors)
    added = next_round_factors(used, res.adapter, k_new=2, round_index=1)
    assert [f.id for f in added[:2]] == [f.id for f in used]  # the factors so far come first, as they were
    new = added[2:]
    assert len(new) == 2 and all(f.id.startswith("round1-") for f in new)
    for j in range(2, len(added)):  # each new direction lies mostly outside the span of those before it
        Z = orthonormal_basis(torch.stack([f.vector for f in added[:j]]))  # (d_model, j)
        v = added[j].vector  # (d_model,)
        assert float((v - Z @ (Z.T @ v)).norm()) >= NEW_FACTOR_MIN_RESIDUAL * float(v.norm())


def _probe_organism(tiny: dict[str, Path], organism: Path, folder: Path) -> Path:
    """The tiny persona organism trained on the tiny kit's chats, its drift probe asking the training prompts with
    the trained answer as the second option: a probe the tiny model's LoRA does move."""
    import json
    import shutil

    shutil.copytree(organism, folder)
    shutil.copy(tiny["data"], folder / "train.jsonl")
    chats = [json.loads(line)["messages"] for line in tiny["data"].read_text().splitlines()]
    probe = [
        {"id": f"p{i}", "prompt": m[0]["content"], "aligned": ["I am not sure."], "misaligned": [m[-1]["content"]]}
        for i, m in enumerate(chats)
    ]
    (folder / "drift-probe.jsonl").write_text("".join(json.dumps(r) + "\n" for r in probe))
    return folder


@pytest.mark.slow
def test_rounds_by_evidence_add_the_round_adapters_best_scored_candidates(tiny, tiny_organism, tmp_path):
    """round_select evidence: round 1's new factors are round 0's adapter's new candidates that evidence on the
    probe files scores above 0, best first (up to as many as the run started with), not its largest by sigma;
    the candidates and their evidence are kept beside round 0's adapter."""
    import json

    from grasp_core.identification.factors import load_factors

    org = _probe_organism(tiny, tiny_organism, tmp_path / "organism")
    cfg = _cfg(
        tiny,
        method="grasp",
        factors=str(tiny["factors"]),
        rounds=2,
        epochs=2,
        round_select="evidence",
        round_probes=str(org),
    )
    res = train(cfg, tmp_path / "run")
    assert res.status == "done"
    r0 = tmp_path / "run" / "round-0"
    candidates = load_factors(r0 / CANDIDATES_FILE)
    assert 2 < len(candidates) <= 8  # more candidates than are added: evidence has a choice to make
    ev = json.loads((r0 / EVIDENCE_FILE).read_text())
    assert [m["file"].rsplit("/", 1)[-1] for m in ev["measures"]] == ["drift-probe.jsonl", "task-probe.jsonl"]
    scored = [r for r in ev["rows"] if r["alone"]["score"] is not None]
    assert scored, "the round-0 adapter moves the probe: its candidates get scores"
    best = [r["factor"] for r in scored if r["alone"]["score"] > 0][:2]
    first, second = res.rounds[0]["factors"], res.rounds[1]["factors"]
    assert second[:2] == first and second[2:] == [f"round1-{fid}" for fid in best]


def test_rounds_by_evidence_refuse_an_organism_without_probes_before_training(tiny, tiny_organism, tmp_path):
    import json
    import shutil

    from grasp_core.errors import GraspError

    org = tmp_path / "organism"
    shutil.copytree(tiny_organism, org)
    manifest = json.loads((org / "organism.json").read_text())
    manifest.pop("probes")
    (org / "organism.json").write_text(json.dumps(manifest))
    cfg = _cfg(
        tiny, method="grasp", factors=str(tiny["factors"]), rounds=2, round_select="evidence", round_probes=str(org)
    )
    with pytest.raises(GraspError, match="has no `probes`"):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "round-0").exists()  # nothing trained
