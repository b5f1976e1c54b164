"""The run tests' tiny base and chats (one set per module), and one training run at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_fixtures import tiny_kit


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_kit(tmp_path_factory.mktemp("tiny"), n_chats=8)


@pytest.fixture(autouse=True)
def one_run_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRASP_MAX_RUNS", "1")  # workers inherit it: they start the next run when they end
