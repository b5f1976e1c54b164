"""The CUDA / bf16 path (`pytest -m gpu`; skipped without CUDA): GRASP with residual-grad projection trains a tiny
llama in bf16 on the GPU, then the adapter is evaluated on an organism and scanned there, as a GPU user runs it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from train_fixtures import make_tiny_base, tiny_config, write_chats, write_factors

from grasp_core import UNRELATED_CORPUS
from grasp_core.evaluation.organisms import evaluate_organism, load_organism
from grasp_core.identification.factors import load_factors
from grasp_core.identification.scan import ScanConfig, scan
from grasp_core.model.adapters import load_model
from grasp_core.training.run import train

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cuda")
    tiny = {"base": make_tiny_base(root / "base", hidden=64), "data": write_chats(root / "data.jsonl", n=32)}
    z = torch.randn(2, 64, generator=torch.Generator().manual_seed(0))
    factors = write_factors(root / "z.safetensors", z, str(tiny["base"]))
    torch.cuda.reset_peak_memory_stats()
    cfg = tiny_config(
        tiny,
        method="grasp",
        factors=str(factors),
        projection="residual-grad",
        device="cuda",
        dtype="bfloat16",
        epochs=3,
    )
    res = train(cfg, root / "run")
    assert res.status == "done" and res.steps == res.total_steps
    return {**tiny, "factors": factors, "run": root / "run", "adapter": res.adapter}


def test_grasp_trains_in_bf16_on_the_gpu(trained):
    lines = [json.loads(x) for x in (trained["run"] / "metrics.jsonl").read_text().splitlines()]
    losses = [x["loss"] for x in lines if "loss" in x]
    assert all(math.isfinite(x) for x in losses) and losses[-1] < losses[0]  # it learns, in bf16, on cuda
    assert torch.cuda.max_memory_allocated() > 0
    result = json.loads((trained["run"] / "train_result.json").read_text())
    assert result["config"]["device"] == "cuda" and result["config"]["dtype"] == "bfloat16"


def test_the_adapter_evaluates_and_scans_on_the_gpu(trained, tiny_organism, tmp_path, monkeypatch):
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    out = evaluate_organism(load_organism(tiny_organism), base=str(trained["base"]), adapter=trained["adapter"])
    for name in ("drift", "leak", "task_nll"):
        assert math.isfinite(out[name]["mean"]), name
    bm = load_model(str(trained["base"]), trained["adapter"])
    assert next(bm.model.parameters()).device.type == "cuda"
    factors = load_factors(trained["factors"]).factors
    scans = scan(
        bm.model, bm.tokenizer, UNRELATED_CORPUS, factors, ScanConfig(top=3), model_id="tiny", adapter_hash="cuda"
    )
    assert [len(s.top) for s in scans] == [3, 3] and all(math.isfinite(s.mean) for s in scans)
