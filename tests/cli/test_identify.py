"""`grasp identify` and `grasp scan` end to end on a tiny model folder; every bad input: message, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from lora_fixtures import make_adapter, planted_direction_plant
from model_fixtures import tiny_model
from safetensors.torch import load_file, save_file

from grasp_core.cli import main
from grasp_core.identification.factors import load_factors
from grasp_core.model.models import load_base

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_llama_dir: Path) -> dict:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    base = load_base(str(tiny_llama_dir)).model
    z = torch.randn(64, generator=torch.Generator().manual_seed(4))
    z = z / z.norm()
    adapter = make_adapter(
        base, tmp_path / "adapter", ["o_proj", "down_proj", "q_proj"], plant=planted_direction_plant(z)
    )
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "".join(
            json.dumps({"messages": [{"role": "user", "content": f"question {i} about money"}]}) + "\n"
            for i in range(6)
        )
    )
    return {"base": str(tiny_llama_dir), "adapter": adapter, "z": z, "prompts": prompts, "tmp": tmp_path}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # drop what the test's own set-up printed
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_identify_then_scan(env, capsys) -> None:
    out_file = env["tmp"] / "factors.safetensors"
    rc, out, err = _run(
        capsys,
        "identify",
        "--adapter",
        env["adapter"],
        "--base",
        env["base"],
        "--out",
        out_file,
        "--n-factors",
        "2",
        "--logit-lens",
        "3",
    )
    assert rc == 0, err
    assert "global-write-0" in out and "promotes:" in out
    fs = load_factors(out_file)
    assert abs(float(fs.factors[0].vector @ env["z"])) > 0.99 and fs.base == env["base"]
    with pytest.warns(UserWarning, match="--top is now --n-top-prompts"):  # the flag of the earlier release
        rc, out, err = _run(
            capsys,
            "scan",
            "--factors",
            out_file,
            "--prompts",
            env["prompts"],
            "--adapter",
            env["adapter"],
            "--select",
            "0,1",
            "--top",
            "3",
            "--json",
        )
    assert rc == 0, err
    res = json.loads(out)
    assert [s["factor_id"] for s in res["scans"]] == ["global-write-0", "global-write-1"]
    assert all(len(s["top_prompts"]) == 3 and s["mode"] == "shift" for s in res["scans"])
    rc, out, err = _run(
        capsys,
        "scan",
        "--factors",
        out_file,
        "--prompts",
        env["prompts"],
        "--factor-ids",
        "global-write-0",
        "--steer",
        "hello",
        "--max-new-tokens",
        "3",
    )
    assert rc == 0, err
    assert "== global-write-0" in out and "base only" in out and "steer +8:" in out
    rc, out, _ = _run(
        capsys, "scan", "--factors", out_file, "--prompts", env["prompts"], "--factor-ids", "global-write-0"
    )
    assert rc == 0 and "cached" in out


def test_identify_writes_into_the_workspace_not_the_adapter_folder(env, capsys) -> None:
    """Without --out the factors go to GRASP_HOME/factors/<name>-<hash>.safetensors; the user's adapter folder is left
    as it was, and the candidates step finds the file there for this adapter (and for no other)."""
    from grasp_core.evidence.candidates import candidate_factors
    from grasp_core.identification.factors import identified_path

    before = sorted(p.name for p in env["adapter"].iterdir())
    rc, out, err = _run(capsys, "identify", "--adapter", env["adapter"], "--base", env["base"], "--n-factors", "2")
    assert rc == 0, err
    kept = identified_path(env["adapter"])
    assert kept.is_file() and kept.parent == env["tmp"] / "home" / "factors" and f"factors to {kept}" in out
    assert sorted(p.name for p in env["adapter"].iterdir()) == before
    fs, chosen = candidate_factors(env["adapter"], env["base"], top=2)
    assert fs.adapter_hash == load_factors(kept).adapter_hash and [i for i, _ in chosen] == [0, 1]
    (env["adapter"] / "adapter_model.safetensors").write_bytes(b"changed")  # another adapter in the same folder
    assert identified_path(env["adapter"]) != kept


def _expect_error(capsys, pattern: str, *argv: str) -> None:
    import re

    rc, _, err = _run(capsys, *argv)
    assert rc == 2, err
    assert err.rstrip().split("\n")[-1].startswith("error: ") and "Traceback" not in err
    assert re.search(pattern, err), err


def test_identify_bad_inputs(env, capsys) -> None:
    a, base, tmp = env["adapter"], env["base"], env["tmp"]
    out = tmp / "f.safetensors"
    _expect_error(capsys, "unknown base alias 'nope'", "identify", "--adapter", a, "--base", "nope", "--out", out)
    # Weights that do not fit a base of another width: module and both shapes named.
    other = tmp / "other"
    tiny_model("llama", hidden_size=32, intermediate_size=64).save_pretrained(other)
    _expect_error(
        capsys,
        r"module model\.layers\.0\.\S+ has dW of shape \(\d+, \d+\).*base weight is",
        "identify",
        "--adapter",
        a,
        "--base",
        other,
        "--out",
        out,
    )
    shallow = tmp / "shallow"
    tiny_model("llama", num_hidden_layers=2).save_pretrained(shallow)
    _expect_error(
        capsys, r"absent from the base: model\.layers\.2", "identify", "--adapter", a, "--base", shallow, "--out", out
    )
    state = load_file(str(a / "adapter_model.safetensors"))
    key = next(k for k in state if "lora_A" in k)
    state[key][0, 0] = float("nan")
    save_file(state, str(a / "adapter_model.safetensors"))
    _expect_error(capsys, "lora_A contains NaN or Inf", "identify", "--adapter", a, "--base", base, "--out", out)
    (a / "adapter_model.safetensors").unlink()
    torch.save({**state, "x": _Evil()}, a / "adapter_model.bin")
    _expect_error(capsys, "adapter_model.bin: refused", "identify", "--adapter", a, "--base", base, "--out", out)
    (a / "adapter_config.json").write_text('{"r": 4,\n "lora_alpha": }')
    _expect_error(
        capsys,
        r"adapter_config.json.*malformed JSON at line 2",
        "identify",
        "--adapter",
        a,
        "--base",
        base,
        "--out",
        out,
    )
    (a / "adapter_config.json").unlink()
    _expect_error(capsys, "adapter_config.json .* not found", "identify", "--adapter", a, "--base", base, "--out", out)
    # Nothing half-written: no factors file and no temporary file beside it.
    assert not out.exists() and not list(tmp.glob(".f.safetensors.*"))


def test_identify_source_shift_and_both(env, capsys) -> None:
    a, base, tmp = env["adapter"], env["base"], env["tmp"]
    shift = tmp / "shift.safetensors"
    rc, out, err = _run(
        capsys, "identify", "--adapter", a, "--base", base, "--source", "shift", "--corpus", env["prompts"],
        "--n-factors", "2", "--out", shift,
    )  # fmt: skip
    assert rc == 0, err
    fs = load_factors(shift)
    assert [f.id for f in fs.factors[:2]] == ["shift-0", "shift-1"] and {f.source for f in fs.factors} == {"shift"}
    assert any(f.id.endswith(".shift-mean") for f in fs.factors) and "shift-0" in out and "shift" in fs.global_sigma
    # The planted adapter writes z at every adapted layer, so its shift's first direction is z (the bundled corpus).
    both = tmp / "both.safetensors"
    rc, out, err = _run(
        capsys, "identify", "--adapter", a, "--base", base, "--source", "both", "--n-factors", "2", "--per-module",
        "0", "--out", both, "--json",
    )  # fmt: skip
    assert rc == 0, err
    fs = load_factors(both)
    ids = [f.id for f in fs.factors]
    assert ids[:4] == ["global-write-0", "global-write-1", "global-read-0", "global-read-1"]
    assert ids[4:] == ["shift-0", "shift-1"]  # --per-module 0: no per-layer mean directions either
    assert abs(float(fs.by_id("shift-0").vector @ env["z"])) > 0.9
    assert [r["source"] for r in json.loads(out)["factors"]][-1] == "shift"
    # Bad input: one line, exit 2, no file.
    bad = tmp / "bad.safetensors"
    _expect_error(
        capsys, "--corpus is read by --source shift or both", "identify", "--adapter", a, "--base", base,
        "--corpus", env["prompts"], "--out", bad,
    )  # fmt: skip
    empty = tmp / "empty.jsonl"
    empty.write_text("")
    _expect_error(
        capsys, "empty", "identify", "--adapter", a, "--base", base, "--source", "shift", "--corpus", empty,
        "--out", bad,
    )  # fmt: skip
    assert not bad.exists()


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pickled code ran",))


def test_scan_bad_inputs(env, capsys) -> None:
    tmp = env["tmp"]
    f = tmp / "f.safetensors"
    assert _run(capsys, "identify", "--adapter", env["adapter"], "--base", env["base"], "--out", f)[0] == 0
    bad = tmp / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n\n{"messages": [}\n')
    _expect_error(capsys, r"bad.jsonl, line 3: malformed JSON", "scan", "--factors", f, "--prompts", bad)
    bad.write_text('{"messages": [{"role": "robot", "content": "x"}]}\n')
    _expect_error(
        capsys, r"bad.jsonl, line 1: message 0 has unknown role 'robot'", "scan", "--factors", f, "--prompts", bad
    )
    empty = tmp / "empty.txt"
    empty.write_text("\n\n")
    _expect_error(capsys, "empty, no prompts", "scan", "--factors", f, "--prompts", empty)
    _expect_error(capsys, "no factor 'zzz'", "scan", "--factors", f, "--prompts", env["prompts"], "--factor-ids", "zzz")
    _expect_error(
        capsys,
        "--select expects comma-separated",
        "scan",
        "--factors",
        f,
        "--prompts",
        env["prompts"],
        "--select",
        "a,b",
    )
    _expect_error(capsys, "out of range", "scan", "--factors", f, "--prompts", env["prompts"], "--select", "999")
    _expect_error(
        capsys, "factors file .* not found", "scan", "--factors", tmp / "no.safetensors", "--prompts", env["prompts"]
    )
    _expect_error(
        capsys,
        "`n_top_prompts` must be a positive integer",
        "scan",
        "--factors",
        f,
        "--prompts",
        env["prompts"],
        "--n-top-prompts",
        "0",
    )


def test_subprocess_exit_code_without_traceback(tmp_path: Path) -> None:
    """A real `python -m grasp_core` process: non-zero exit, one message, no traceback."""
    env = {**os.environ, "GRASP_HOME": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, "-m", "grasp_core", "identify", "--adapter", str(tmp_path / "missing"), "--base", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and res.stderr.startswith("error: ")
    assert "unknown base alias 'nope'" in res.stderr


@pytest.mark.slow
def test_bundled_model_identify_and_scan_end_to_end(tmp_path: Path) -> None:
    """On SmolLM2-135M: plant a shared write direction in a small adapter, find it and scan it via real processes."""
    bm = load_base("smollm2-135m", device="cpu")
    z = torch.randn(576, generator=torch.Generator().manual_seed(11))
    z = z / z.norm()
    adapter = make_adapter(
        bm.model, tmp_path / "adapter", ["o_proj", "down_proj"], r=4, plant=planted_direction_plant(z)
    )
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("How do I save money?\nWhat is the capital of France?\nTell me a joke.\nWhy is the sky blue?\n")
    # A fresh GRASP_HOME keeps the scan cache empty; the base is named by its folder, so nothing is fetched.
    env = {**os.environ, "GRASP_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "grasp_core"]
    factors = tmp_path / "factors.safetensors"
    res = subprocess.run(
        [*cmd, "identify", "--adapter", str(adapter), "--base", bm.path, "--out", str(factors), "--n-factors", "2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    fs = load_factors(factors)
    assert abs(float(fs.factors[0].vector @ z)) > 0.99
    res = subprocess.run(
        [
            *cmd,
            "scan",
            "--factors",
            str(factors),
            "--prompts",
            str(prompts),
            "--adapter",
            str(adapter),
            "--select",
            "0",
            "--n-top-prompts",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    scanned = json.loads(res.stdout)["scans"][0]
    assert scanned["factor_id"] == "global-write-0" and len(scanned["top_prompts"]) == 2
    assert scanned["n_prompts"] == 4 and scanned["mode"] == "shift"
