"""Bad inputs through the CLI, table-driven: exit 2, one line naming the file / line / field, no traceback, and no
run folder left behind (issue: nothing lost, nothing unexplained)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grasp_core.cli import main
from grasp_core.errors import GraspError
from grasp_core.runs.jobs import claim
from grasp_core.runs.registry import create_run
from grasp_core.training.config import TrainConfig

CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


# (name, files to write {name: content}, argv (with {tmp}), environment, what the one line must say)
CASES = [
    ("train data not UTF-8", {"d.jsonl": b'{"messages": [{"role": "user", "content": "h\xffi"}]}\n'},
     ["train", "--data", "{tmp}/d.jsonl"], {}, ["d.jsonl, line 1", "not UTF-8"]),
    ("train data without an assistant turn", {"d.jsonl": json.dumps({"messages": [CHAT["messages"][0]]}) + "\n"},
     ["train", "--data", "{tmp}/d.jsonl"], {}, ["d.jsonl, line 1"]),
    ("train data not JSON", {"d.jsonl": json.dumps(CHAT) + "\n{oops\n"},
     ["train", "--data", "{tmp}/d.jsonl", "--background"], {}, ["d.jsonl, line 2", "malformed JSON"]),
    ("GRASP_MAX_JOBS not a number", {"d.jsonl": json.dumps(CHAT) + "\n"},
     ["train", "--data", "{tmp}/d.jsonl", "--background"], {"GRASP_MAX_JOBS": "abc"}, ["GRASP_MAX_JOBS", "'abc'"]),
    ("sweep seeds: zero", {"s.yaml": "organism: persona\nseeds: zero\nmethods: [{method: lora}]\n"},
     ["sweep", "{tmp}/s.yaml", "--dry-run"], {}, ["s.yaml", "`seeds`"]),
    ("sweep top: two", {"s.yaml": "organism: persona\nmethods: [{method: grasp, top: two}]\n"},
     ["sweep", "{tmp}/s.yaml", "--dry-run"], {}, ["s.yaml", "methods[0]", "`top` must be int"]),
    ("sweep methods: a string", {"s.yaml": "organism: persona\nmethods: lora\n"},
     ["sweep", "{tmp}/s.yaml", "--dry-run"], {}, ["s.yaml", "`methods` must be a list"]),
    ("sweep r: four", {"s.yaml": "organism: persona\ntrain: {r: four}\nmethods: [{method: lora}]\n"},
     ["sweep", "{tmp}/s.yaml", "--dry-run"], {}, ["s.yaml", "`r` must be int"]),
    ("sweep probe r: one", {"s.yaml": "organism: persona\nprobes: {p: {r: one}}\nmethods: [{method: lora}]\n"},
     ["sweep", "{tmp}/s.yaml", "--dry-run"], {}, ["s.yaml", "probe `p`", "`r` must be int"]),
    ("identify --out a folder", {"a/x": ""}, ["identify", "--adapter", "{tmp}/a", "--out", "{tmp}/a"], {},
     ["--out", "not a folder"]),
    ("sweep YAML not UTF-8", {"s.yaml": b"organism: pers\xffona\n"},
     ["sweep", "{tmp}/s.yaml", "--dry-run"], {}, ["s.yaml, line 1", "not UTF-8"]),
]  # fmt: skip


@pytest.mark.parametrize(("files", "argv", "env", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_no_run(files: dict[str, str | bytes], argv: list[str], env: dict[str, str],
                                                 says: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("GRASP_HOME", str(tmp_path / "home"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for name, content in files.items():
        _write(tmp_path / name, content)
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    out = capsys.readouterr()
    err = out.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in out.err + out.out, err
    for part in says:
        assert part in err, (part, err)
    runs = tmp_path / "home" / "runs"
    assert not runs.exists() or not [p for p in runs.iterdir() if p.is_dir()]  # no run folder was created


def test_damaged_run_folders_are_listed_not_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
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


def test_resume_refuses_training_data_that_changed_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
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
