"""The fine-tuning loop on a tiny random llama: adapter on disk, resume, data parallel and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from run_fixtures import adapter_weights
from train_fixtures import tiny_config, tiny_kit, write_factors

from grasp_core.errors import GraspError
from grasp_core.training.config import TrainConfig
from grasp_core.training.loop import TrainHooks
from grasp_core.training.run import train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_kit(tmp_path_factory.mktemp("tiny"))


def _cfg(tiny: dict[str, Path], **kw) -> TrainConfig:
    return tiny_config(tiny, **{"warmup_ratio": 0.2, **kw})


def test_lora_writes_a_peft_folder_that_loads(tiny, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    seen = []
    res = train(_cfg(tiny, epochs=3), tmp_path, TrainHooks(on_step=lambda s, t, m: seen.append((s, t, m["loss"]))))
    assert res.status == "done" and res.steps == res.total_steps == 18
    assert [s for s, _, _ in seen] == list(range(1, 19))
    assert seen[-1][2] < seen[0][2]  # it learns
    cfg = json.loads((res.adapter / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(tiny["base"].resolve()) and cfg["r"] == 4
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny["base"]), res.adapter)
    assert any(float(v.abs().max()) > 0 for k, v in model.state_dict().items() if "lora_B" in k)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 18 and not (tmp_path / "status.json").exists()


def test_resume_after_stop_matches_an_uninterrupted_run(tiny, tmp_path):
    cfg = _cfg(tiny, epochs=2, grad_accum=2, checkpoint_every=2)
    full = train(cfg, tmp_path / "full")
    calls = iter(range(100))
    stopped = train(cfg, tmp_path / "cut", TrainHooks(should_stop=lambda: next(calls) == 2))
    assert stopped.status == "cancelled" and stopped.steps == 3 and stopped.adapter is None
    assert (tmp_path / "cut" / "checkpoint" / "state.pt").is_file()
    state = torch.load(tmp_path / "cut" / "checkpoint" / "state.pt", weights_only=True)
    assert state["step"] == 3
    resumed = train(cfg, tmp_path / "cut", resume=True)
    assert resumed.status == "done" and resumed.steps == full.steps
    a, b = adapter_weights(full.adapter), adapter_weights(resumed.adapter)
    assert a.keys() == b.keys()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-5
    assert len((tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()) == full.steps


def test_on_eval_is_called_every_eval_every_steps(tiny, tmp_path):
    steps = []
    res = train(
        _cfg(tiny, eval_every=2), tmp_path, TrainHooks(on_eval=lambda step, model: steps.append(step) or {"probe": 1.5})
    )
    assert steps == [2, 4, 6] and res.metrics["eval_probe"] == 1.5


def test_too_long_examples_are_truncated_and_counted(tiny, tmp_path):
    res = train(_cfg(tiny, max_length=42), tmp_path)
    assert res.n_truncated > 0 and res.n_examples > 0 and res.n_examples + res.n_dropped == 24


@pytest.mark.parametrize(
    "content, needle",
    [
        ("", "empty file"),
        (
            '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n{bad\n',
            "line 2: malformed JSON",
        ),
        ('{"messages": [{"role": "user", "content": "hi"}]}\n', "line 1: example has no assistant turn"),
    ],
)
def test_bad_data_names_file_and_line(tiny, tmp_path, content, needle):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    with pytest.raises(GraspError, match=needle) as e:
        train(_cfg(tiny, data=str(bad)), tmp_path / "out")
    assert str(bad) in str(e.value)


def test_factors_file_of_another_model_is_refused(tiny, tmp_path):
    wrong_width = write_factors(tmp_path / "w.safetensors", torch.randn(2, 48), str(tiny["base"]))
    with pytest.raises(GraspError, match="d_model 48 .* d_model 32"):
        train(_cfg(tiny, method="grasp", factors=str(wrong_width)), tmp_path / "a")
    wrong_base = write_factors(tmp_path / "b.safetensors", torch.randn(2, 32), "smollm2-135m")
    with pytest.raises(GraspError, match="made for base 'smollm2-135m'"):
        train(_cfg(tiny, method="grasp", factors=str(wrong_base)), tmp_path / "b")
    ok = write_factors(tmp_path / "ok.safetensors", torch.randn(2, 32), str(tiny["base"]))
    with pytest.raises(GraspError, match="`select` index 5 is out of range.*2 factors"):
        train(_cfg(tiny, method="grasp", factors=str(ok), select=(0, 5)), tmp_path / "c")
