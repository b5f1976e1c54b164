"""`python -m grasp_core.train CONFIG OUT`, the module torchrun and accelerate launch, as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from train_fixtures import make_tiny_base, tiny_config, write_chats


def test_the_module_entry_trains_and_refuses_bad_input(tmp_path: Path) -> None:
    tiny = {"base": make_tiny_base(tmp_path / "base"), "data": write_chats(tmp_path / "data.jsonl")}
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(tiny_config(tiny, warmup_ratio=0.0).to_dict()))
    ok = subprocess.run(
        [sys.executable, "-m", "grasp_core.train", str(cfg), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout.strip().splitlines()[-1])["status"] == "done"
    assert (tmp_path / "out" / "adapter" / "adapter_config.json").is_file()
    cfg.write_text('{"data": "missing.jsonl"}')
    bad = subprocess.run(
        [sys.executable, "-m", "grasp_core.train", str(cfg), str(tmp_path / "bad")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "missing.jsonl" in bad.stderr and "Traceback" not in bad.stderr
