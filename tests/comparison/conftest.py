"""The comparison tests' kit: a tiny llama with the bundled tokenizer, an adapter planted strongly enough to change
its greedy replies, and a real finished registry run trained on it (one set per module)."""

from __future__ import annotations

from typing import Any

import pytest
from lora_fixtures import make_adapter
from train_fixtures import tiny_config, tiny_kit

from grasp_core.model.models import load_base
from grasp_core.runs.worker import run_foreground


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("compare")
    tiny = tiny_kit(root, n_chats=8)
    adapter = make_adapter(load_base(str(tiny["base"])).model, root / "planted", ["q_proj", "o_proj"], alpha=64.0)
    run = run_foreground(tiny_config(tiny), root / "runs")
    assert run.status.state == "done", run.status.error
    return {**tiny, "adapter": adapter, "runs": root / "runs", "run": run.id}
