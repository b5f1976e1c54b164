"""Bad inputs through the CLI, table-driven: exit 2, one line naming the file / line / field, no traceback, and no
run folder left behind (issue: nothing lost, nothing unexplained)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grasp_core.cli import main
from grasp_core.errors import GraspError
from grasp_core.runs.queue import claim
from grasp_core.runs.registry import create_run
from grasp_core.training.config import TrainConfig

CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _refused_in_one_line(capsys: pytest.CaptureFixture[str], says: list[str], home: Path) -> None:
    """One `error:` line saying each of `says`, no traceback, and no run folder under `home`."""
    out = capsys.readouterr()
    err = out.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in out.err + out.out, err
    for part in says:
        assert part in err, (part, err)
    runs = home / "runs"
    assert not runs.exists() or not [p for p in runs.iterdir() if p.is_dir()]  # no run folder was created


def _sweep_case(
    name: str, yaml: str, says: list[str]
) -> tuple[str, dict[str, str], list[str], dict[str, str], list[str]]:
    """A case of a bad sweep YAML, caught by `grasp sweep --dry-run` before anything runs."""
    return (name, {"s.yaml": yaml}, ["sweep", "{tmp}/s.yaml", "--dry-run"], {}, says)


# (name, files to write {name: content}, argv (with {tmp}), environment, what the one line must say)
CASES = [
    (
        "train data not UTF-8",
        {"d.jsonl": b'{"messages": [{"role": "user", "content": "h\xffi"}]}\n'},
        ["train", "--data", "{tmp}/d.jsonl"],
        {},
        ["d.jsonl, line 1", "not UTF-8"],
    ),
    (
        "train data without an assistant turn",
        {"d.jsonl": json.dumps({"messages": [CHAT["messages"][0]]}) + "\n"},
        ["train", "--data", "{tmp}/d.jsonl"],
        {},
        ["d.jsonl, line 1"],
    ),
    (
        "train data not JSON",
        {"d.jsonl": json.dumps(CHAT) + "\n{oops\n"},
        ["train", "--data", "{tmp}/d.jsonl", "--background"],
        {},
        ["d.jsonl, line 2", "malformed JSON"],
    ),
    (
        "GRASP_MAX_RUNS not a number",
        {"d.jsonl": json.dumps(CHAT) + "\n"},
        ["train", "--data", "{tmp}/d.jsonl", "--background"],
        {"GRASP_MAX_RUNS": "abc"},
        ["GRASP_MAX_RUNS", "'abc'"],
    ),
    _sweep_case(
        "sweep seeds: one twice",
        "organism: persona\nseeds: [0, 0]\nmethods: [{method: naive}]\n",
        ["s.yaml", "`seeds` lists seed 0 twice"],
    ),
    _sweep_case(
        "sweep seed too large for the RNG",
        "organism: persona\nseeds: [1099511627776]\nmethods: [{method: naive}]\n",
        ["s.yaml", "`seeds` must lie in 0..4294967295"],
    ),
    _sweep_case(
        "sweep naive_runs a list",
        "organism: persona\nnaive_runs: [rank1]\nmethods: [{method: naive}]\n",
        ["s.yaml", "`naive_runs` must map names to training settings"],
    ),
    _sweep_case(
        "sweep naive_runs a number",
        "organism: persona\nnaive_runs: 3\nmethods: [{method: naive}]\n",
        ["s.yaml", "`naive_runs` must map names"],
    ),
    _sweep_case(
        "sweep top: an empty list",
        "organism: persona\nmethods: [{method: naive}, {method: grasp, top: []}]\n",
        ["s.yaml: methods[1]", "`top` lists no values"],
    ),
    (
        "sweep factors file not a factors file",
        {
            "s.yaml": "organism: persona\nmethods: [{method: naive}, {method: grasp, factors: {tmp}/e.jsonl}]\n",
            "e.jsonl": "{}\n",
        },
        ["sweep", "{tmp}/s.yaml", "--dry-run"],
        {},
        ["s.yaml: methods[1]", "e.jsonl: not a readable safetensors factors file"],
    ),
    (
        "train seed too large for the RNG",
        {"d.jsonl": json.dumps(CHAT) + "\n"},
        ["train", "--data", "{tmp}/d.jsonl", "--seed", "1099511627776"],
        {},
        ["`seed` must lie in 0..4294967295"],
    ),
    _sweep_case(
        "sweep seeds: zero", "organism: persona\nseeds: zero\nmethods: [{method: naive}]\n", ["s.yaml", "`seeds`"]
    ),
    _sweep_case(
        "sweep top: two",
        "organism: persona\nmethods: [{method: grasp, top: two}]\n",
        ["s.yaml", "methods[0]", "`top` must be int"],
    ),
    _sweep_case(
        "sweep methods: a string", "organism: persona\nmethods: naive\n", ["s.yaml", "`methods` must be a list"]
    ),
    _sweep_case(
        "sweep r: four",
        "organism: persona\ntrain: {r: four}\nmethods: [{method: naive}]\n",
        ["s.yaml", "`r` must be int"],
    ),
    _sweep_case(
        "sweep naive run r: one",
        "organism: persona\nnaive_runs: {p: {r: one}}\nmethods: [{method: naive}]\n",
        ["s.yaml", "naive run `p`", "`r` must be int"],
    ),
    (
        "identify --out a folder",
        {"a/x": ""},
        ["identify", "--adapter", "{tmp}/a", "--out", "{tmp}/a"],
        {},
        ["--out", "not a folder"],
    ),
    (
        "sweep YAML not UTF-8",
        {"s.yaml": b"organism: pers\xffona\n"},
        ["sweep", "{tmp}/s.yaml", "--dry-run"],
        {},
        ["s.yaml, line 1", "not UTF-8"],
    ),
]


@pytest.mark.parametrize(("files", "argv", "env", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_no_run(
    files: dict[str, str | bytes],
    argv: list[str],
    env: dict[str, str],
    says: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for name, content in files.items():
        _write(tmp_path / name, content.replace("{tmp}", str(tmp_path)) if isinstance(content, str) else content)
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    _refused_in_one_line(capsys, says, tmp_path / "home")


def test_damaged_run_folders_are_listed_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    data = _write(tmp_path / "d.jsonl", json.dumps(CHAT) + "\n")
    good, binary, typed = (create_run(TrainConfig(data=str(data), seed=s)) for s in range(3))
    (binary.dir / "status.json").write_bytes(b'{"state": "qu\xffeued"}')
    status = json.loads((typed.dir / "status.json").read_text())
    (typed.dir / "status.json").write_text(json.dumps({**status, "step": "three"}))
    assert main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(good.id) and "queued" in line for line in lines)
    assert any(line.startswith(binary.id) and "damaged" in line and "not UTF-8" in line for line in lines)
    assert any(line.startswith(typed.id) and "damaged" in line and "`step` must be int" in line for line in lines)
    assert main(["runs", "--json"]) == 0
    states = {r["id"]: r["state"] for r in json.loads(capsys.readouterr().out)}
    assert states == {good.id: "queued", binary.id: "damaged", typed.id: "damaged"}


def test_resume_refuses_training_data_that_changed_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    data = _write(tmp_path / "d.jsonl", json.dumps(CHAT) + "\n")
    run = create_run(TrainConfig(data=str(data)), state="cancelled")
    _write(data, json.dumps(CHAT) + "\n" + json.dumps(CHAT) + "\n")  # the file changed under the stopped run
    assert main(["train", "--resume", run.id, "--background"]) == 2
    err = capsys.readouterr().err
    assert "training data" in err and "changed since the run started" in err and "--allow-changed-data" in err
    assert json.loads((run.dir / "status.json").read_text())["state"] == "cancelled"  # nothing was queued
    with pytest.raises(GraspError, match="changed since the run started"):
        claim(run.id)  # the foreground path (and a sweep resuming its runs) refuses too
    moved = claim(run.id, allow_changed_data=True)  # told: the run now describes the file as it is
    assert moved.status.key != run.status.key and moved.status.state == "running"


@pytest.fixture(scope="module")
def adapter_kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny base, a tiny base of another width, a LoRA trained on the first and its factors file."""
    from train_fixtures import make_tiny_base, tiny_config, write_chats

    from grasp_core.identification.factors import identify, save_factors
    from grasp_core.model.adapters import load_adapter
    from grasp_core.training.run import train

    root = tmp_path_factory.mktemp("kit")
    base, other = make_tiny_base(root / "base"), make_tiny_base(root / "other", hidden=48)
    data = write_chats(root / "data.jsonl")
    adapter = train(tiny_config({"base": base, "data": data}), root / "run").adapter
    assert adapter is not None
    fs = identify(load_adapter(adapter), 2, n_factors=4)
    fs.base = str(base)
    save_factors(fs, root / "factors.safetensors")
    return {"base": base, "other": other, "data": data, "adapter": adapter, "factors": root / "factors.safetensors"}


def _adapter_config(field: str, value: object):
    def damage(a: Path) -> None:
        cfg = json.loads((a / "adapter_config.json").read_text())
        (a / "adapter_config.json").write_text(json.dumps({**cfg, field: value}))

    return damage


def _pickled(a: Path) -> None:
    (a / "adapter_model.safetensors").unlink()
    (a / "adapter_model.bin").write_bytes(b"\x80\x04junk")


def _nan(a: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    w = load_file(str(a / "adapter_model.safetensors"))
    key = next(k for k in w if "lora_B" in k)
    save_file({**w, key: torch.full_like(w[key], float("nan"))}, str(a / "adapter_model.safetensors"))


def _bad_factors(kind: str):
    """A damage that writes a factors file of the right width beside the adapter, but whose vectors are all zero,
    hold a NaN, or are two copies of one direction."""

    def damage(a: Path) -> None:
        import torch

        from grasp_core.identification.factors import Factor, FactorSet, save_factors

        v = torch.zeros(2, 32)
        if kind == "nan":
            v[0, 0], v[1, 1] = float("nan"), 1.0
        elif kind == "parallel":
            v[0, 0] = v[1, 0] = 1.0
        factors = [Factor(id=f"f{i}", scope="global", side="write", sigma=1.0, energy=0.1, vector=v[i]) for i in (0, 1)]
        save_factors(FactorSet(factors, None, str(a), "", 32, 2), a.parent / f"{kind}.safetensors")

    return damage


def _retrained(a: Path) -> None:
    """The adapter's weights changed since its factors file was made (retrained in place)."""
    from safetensors.torch import load_file, save_file

    w = load_file(str(a / "adapter_model.safetensors"))
    save_file({k: 1.5 * v for k, v in w.items()}, str(a / "adapter_model.safetensors"))


def _beside(name: str, data: bytes):
    """A damage that leaves the adapter alone and writes a bad file next to it."""

    def damage(a: Path) -> None:
        _write(a.parent / name, data)

    return damage


EVAL = "{tmp}/e.jsonl"
EVAL_FILE = json.dumps({"prompt": "Is it?", "choices": ["yes", "no"], "misaligned": 0}) + "\n"
# (name, damage to a copy of the adapter (or None), argv, what the one line must say)
TRAIN_GRASP = ["train", "--data", "{data}", "--base", "{base}", "--method", "grasp", "--factors"]  # + a factors file
ADAPTER_CASES = [
    (
        "train data: every example longer than max_length before its reply",
        _beside(
            "long.jsonl",
            (
                json.dumps({"messages": [{"role": "user", "content": "why " * 400}, *CHAT["messages"][1:]]}) + "\n"
            ).encode(),
        ),
        ["train", "--data", "{tmp}/long.jsonl", "--base", "{base}", "--max-length", "64"],
        ["long.jsonl: no example keeps an assistant token within max_length=64", "raise max_length"],
    ),
    (
        "identify: adapter_config r not a number",
        _adapter_config("r", "four"),
        ["identify", "--adapter", "{a}"],
        ["adapter_config.json", "`r` must be a whole number"],
    ),
    (
        "eval: adapter_config lora_alpha a list",
        _adapter_config("lora_alpha", [8]),
        ["eval", "--adapter", "{a}", "--evals", EVAL],
        ["adapter_config.json", "`lora_alpha` must be a number"],
    ),
    (
        "scan: adapter_config rank_pattern a string",
        _adapter_config("rank_pattern", "oops"),
        ["scan", "--adapter", "{a}", "--factors", "{factors}", "--prompts", "{tmp}/p.jsonl"],
        ["adapter_config.json", "`rank_pattern` must map module names"],
    ),
    (
        "eval: adapter of another base",
        None,
        ["eval", "--adapter", "{a}", "--base", "{other}", "--evals", EVAL],
        ["does not match the base", "down_proj"],
    ),
    (
        "eval: pickled weights",
        _pickled,
        ["eval", "--adapter", "{a}", "--evals", EVAL],
        ["adapter_model.bin", "weights_only=True"],
    ),
    (
        "eval: eval file not UTF-8",
        _beside("bad.jsonl", b'{"prompt": "Is \xff it?"}\n'),
        ["eval", "--adapter", "{a}", "--evals", "{tmp}/bad.jsonl"],
        ["bad.jsonl, line 1", "not UTF-8"],
    ),
    (
        "eval: eval file line not JSON",
        _beside("bad.jsonl", EVAL_FILE.encode() + b"{oops\n"),
        ["eval", "--adapter", "{a}", "--evals", "{tmp}/bad.jsonl"],
        ["bad.jsonl, line 2"],
    ),
    (
        "scan: prompts not UTF-8",
        _beside("bad.jsonl", b'{"text": "How do I \xff save?"}\n'),
        ["scan", "--adapter", "{a}", "--factors", "{factors}", "--prompts", "{tmp}/bad.jsonl"],
        ["bad.jsonl, line 1", "not UTF-8"],
    ),
    ("eval: NaN weights", _nan, ["eval", "--adapter", "{a}", "--evals", EVAL], ["lora_B contains NaN"]),
    (
        "train: factors file unreadable",
        None,
        [*TRAIN_GRASP, "{tmp}/e.jsonl"],
        ["e.jsonl", "not a readable safetensors factors file"],
    ),
    (
        "train: factors file of another base",
        None,
        [
            "train",
            "--data",
            "{data}",
            "--base",
            "{other}",
            "--method",
            "grasp",
            "--factors",
            "{factors}",
            "--background",
        ],
        ["d_model 32 but base", "d_model 48"],
    ),
    (
        "train: an all-zero factors file",
        _bad_factors("zero"),
        [*TRAIN_GRASP, "{tmp}/zero.safetensors"],
        ["zero.safetensors: factor 0 (f0)", "vector is zero"],
    ),
    (
        "train: NaN in a factors file",
        _bad_factors("nan"),
        [*TRAIN_GRASP, "{tmp}/nan.safetensors"],
        ["nan.safetensors: factor 0 (f0)", "NaN or infinite"],
    ),
    (
        "train: two parallel factors",
        _bad_factors("parallel"),
        [
            "train",
            "--data",
            "{data}",
            "--base",
            "{base}",
            "--method",
            "grasp",
            "--factors",
            "{tmp}/parallel.safetensors",
            "--top",
            "2",
        ],
        ["parallel.safetensors", "span only 1 directions"],
    ),
    (
        "evidence: an index selected twice",
        None,
        [
            "evidence",
            "--adapter",
            "{a}",
            "--base",
            "{base}",
            "--factors",
            "{factors}",
            "--select",
            "0,0",
            "--evals",
            EVAL,
        ],
        ["--select: index 0 given twice"],
    ),
    (
        "evidence: factors made from the adapter before it changed",
        _retrained,
        ["evidence", "--adapter", "{a}", "--base", "{base}", "--factors", "{factors}"],
        ["factors.safetensors was made from adapter", "--factors-from-other-adapter"],
    ),
    (
        "evidence: a 10 MB eval line, named by file and line without tokenising it",
        _beside(
            "big.jsonl",
            "".join(
                json.dumps({"id": i, "prompt": prompt, "aligned": ["Sure."], "misaligned": ["No."]}) + "\n"
                for i, prompt in (("a", "Is it?"), ("x", "Is it? " + "so " * 3_400_000))
            ).encode(),
        ),
        ["evidence", "--adapter", "{a}", "--base", "{base}", "--evals", "{tmp}/big.jsonl"],
        ["big.jsonl, line 2 (id x)", "characters is over max_length 512 tokens"],
    ),
    (
        "evidence: a set name that cannot be a file, before any evaluation",
        None,
        ["evidence", "--adapter", "{a}", "--base", "{base}", "--evals", EVAL, "--save-set", "../escape"],
        ["factor set name '../escape' is not valid"],
    ),
    (
        "train: factors select out of range",
        None,
        [*TRAIN_GRASP, "{factors}", "--select", "0,99"],
        ["`select` index 99 is out of range"],
    ),
    (
        "train: an index selected twice",
        None,
        [*TRAIN_GRASP, "{factors}", "--select", "0,0,1,1"],
        ["--select: index 0, 1 given twice"],
    ),
]


@pytest.mark.parametrize(("damage", "argv", "says"), [c[1:] for c in ADAPTER_CASES], ids=[c[0] for c in ADAPTER_CASES])
def test_bad_adapters_and_factors_are_one_line_exit_2_and_no_run(
    damage, argv, says, adapter_kit, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    adapter = tmp_path / "adapter"
    shutil.copytree(adapter_kit["adapter"], adapter)
    if damage is not None:
        damage(adapter)
    _write(tmp_path / "e.jsonl", EVAL_FILE)
    _write(tmp_path / "p.jsonl", json.dumps({"text": "How do I save money?"}) + "\n")
    names = {"tmp": tmp_path, "a": adapter, **adapter_kit}
    args = [a.format(**{k: str(v) for k, v in names.items()}) for a in argv]
    assert main(args) == 2
    _refused_in_one_line(capsys, says, tmp_path / "home")


def test_organism_json_fields_of_the_wrong_type_are_named(tmp_path: Path) -> None:
    from grasp_core.evaluation.organisms import load_organism

    org = tmp_path / "org"
    shutil.copytree(
        Path(__file__).parents[2] / "grasp_core" / "assets" / "organisms" / "persona",
        org,
        ignore=lambda d, names: [n for n in names if n in ("naive-lora", "results")],
    )
    manifest = json.loads((org / "organism.json").read_text())
    for field, value, needle in [
        ("name", 5, "`name` must be a string, got 5"),
        ("primary", ["drift"], "`primary` must be a string"),
        ("primary", "lean", "`primary` 'lean' is not one of its evals"),
    ]:
        (org / "organism.json").write_text(json.dumps({**manifest, field: value}))
        with pytest.raises(GraspError, match=needle) as e:
            load_organism(org)
        assert str(org / "organism.json") in str(e.value)


def test_an_unmakeable_home_is_one_line_for_every_verb(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "file" / "home"))  # under a file: it cannot be made
    for argv in (["runs"], ["train", "--data", str(tmp_path / "d.jsonl")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: GRASP_HOME") and "cannot be made" in err and "\n" not in err, err


def test_a_read_only_home_lists_runs_and_refuses_writing_verbs(tmp_path, monkeypatch, capsys) -> None:
    """On a read-only GRASP_HOME (a read-only bind mount: root ignores mode bits) `grasp runs` lists what is there
    and marks nothing; a verb that writes refuses in one line naming the folder, before reading its inputs."""
    import subprocess

    from grasp_core.runs.registry import create_run
    from grasp_core.training.config import TrainConfig

    src, home = tmp_path / "src", tmp_path / "home"
    (tmp_path / "d.jsonl").write_text(json.dumps(CHAT) + "\n")
    run = create_run(TrainConfig(data=str(tmp_path / "d.jsonl")), src / "runs")
    home.mkdir()
    if subprocess.run(["mount", "--bind", str(src), str(home)], capture_output=True).returncode != 0:
        pytest.skip("bind mounts are not permitted here")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(home)], capture_output=True).returncode != 0:
            pytest.skip("read-only remounts are not permitted here")
        monkeypatch.setenv("GRASP_HOME", str(home))
        assert main(["runs"]) == 0
        assert run.id in capsys.readouterr().out
        assert main(["train", "--data", str(tmp_path / "d.jsonl")]) == 2
        err = capsys.readouterr().err.strip()
        assert (
            err
            == f"error: GRASP_HOME {home} is not writable (Read-only file system): set GRASP_HOME to a folder you can write"
        )
    finally:
        subprocess.run(["umount", str(home)], capture_output=True)
