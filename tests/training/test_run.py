"""The fine-tuning entry: `train()` runs one pass or GRASP's rounds, and `main` (what torchrun launches) reads a
config file, prints the result as JSON, and refuses a bad config with one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_fixtures import tiny_config, tiny_kit

from grasp_core.training.run import main


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_kit(tmp_path_factory.mktemp("tinyrun"))


def test_main_trains_from_a_config_file_and_prints_the_result(tiny, tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(tiny_config(tiny, warmup_ratio=0.0).to_dict()))
    assert main([str(cfg), str(tmp_path / "out")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "done" and result["steps"] == result["total_steps"] > 0
    assert Path(result["adapter"], "adapter_model.safetensors").is_file()


@pytest.mark.parametrize(
    ("content", "says"),
    [("{oops", "malformed JSON"), ('{"method": "naive"}', "missing required field"), ('{"data": "d", "r": 0}', "`r`")],
)
def test_main_refuses_a_bad_config_in_one_line(tmp_path, capsys, content, says):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(content)
    assert main([str(cfg), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and says in err and "\n" not in err
    assert not (tmp_path / "out").exists()  # nothing written before the config is valid
