"""`grasp demo`: the naive LoRA and its factors built, the demo sweep run and reported, on a reduced organism."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grasp_core import DEMO_ROOT

DEMO = DEMO_ROOT / "persona"
TINY_TRAIN = {"r": 2, "lora_alpha": 4, "lr": 1e-3, "batch_size": 4, "epochs": 1, "max_length": 96}


@pytest.mark.slow
def test_demo_pipeline_on_a_reduced_organism(tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path) -> None:
    """`grasp demo` end to end (build the naive LoRA + factors, the demo sweep, the report) as the CLI runs it, on
    the persona organism cut down and a tiny base."""
    import shutil

    organism = tmp_path / "org"
    shutil.copytree(tiny_organism, organism)
    demo = yaml.safe_load((DEMO / "sweep-demo.yaml").read_text())
    (organism / "sweep-demo.yaml").write_text(
        yaml.safe_dump({**demo, "base": str(tiny_llama_dir), "train": TINY_TRAIN}, sort_keys=False)
    )
    env = {**os.environ, "GRASP_HOME": str(tmp_path / "home")}
    res = subprocess.run(
        [sys.executable, "-m", "grasp_core", "demo", "--organism", str(organism)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert (organism / "naive-lora" / "adapter_config.json").is_file()
    assert (organism / "naive-lora" / "factors.safetensors").is_file()
    report = Path(res.stdout.split("report: ")[1].split()[0])
    text = report.read_text()
    assert "grasp top=4" in text and "random top=4" in text and "ablate top=4" in text and "Targets (" in text
    assert "building the naive LoRA" in res.stderr and "[4/4]" in res.stderr  # progress on stderr
