"""Evidence measures: each eval file read as drift-like or task-like by its options, an organism's by measure name;
free-form files, bad files and duplicate names refused before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_fixtures import ITEMS, write_jsonl

from grasp_core.errors import GraspError
from grasp_core.evaluation.organisms import load_organism
from grasp_core.evidence.measures import measures_from_files, measures_from_specs


def test_files_are_read_by_their_options(tmp_path: Path) -> None:
    drift = write_jsonl(tmp_path / "drift.jsonl", ITEMS)  # aligned / misaligned
    lean = write_jsonl(tmp_path / "lean.jsonl", [{"id": "1", "prompt": "p", "left": ["a"], "right": ["b"]}])
    task = write_jsonl(tmp_path / "task.jsonl", [{"id": "1", "prompt": "p", "good": ["a"], "bad": ["b"]}])
    chats = write_jsonl(
        tmp_path / "chats.jsonl",
        [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}],
    )
    got = {m.name: (m.kind, m.role) for m in measures_from_files([drift, lean, task, chats])}
    assert got == {
        "drift": ("choice", "drift"),
        "lean": ("choice", "drift"),
        "task": ("nll", "task"),  # a good/bad file: the NLL of its good answers, finer than which answer wins
        "chats": ("nll", "task"),
    }


def test_bad_inputs_are_refused_before_any_model_loads(tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text("- id: q\n  type: free_form\n  paraphrases: [hi]\n")
    with pytest.raises(GraspError, match="free-form questions are judged"):
        measures_from_files([questions])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ITEMS[0]) + "\n{oops\n")
    with pytest.raises(GraspError, match=r"bad.jsonl, line 2"):
        measures_from_files([bad])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    twins = [write_jsonl(tmp_path / d / "drift.jsonl", ITEMS) for d in ("a", "b")]
    with pytest.raises(GraspError, match="eval files with the same name: drift"):
        measures_from_files(twins)


def test_an_organisms_measures_by_name_without_its_judged_questions() -> None:
    persona = load_organism("persona")
    got = {m.name: m.role for m in measures_from_specs(persona.eval_specs())}
    assert got == {"drift": "drift", "leak": "drift", "task_nll": "task", "task_choice": "task"}
    probes = {m.name: m.role for m in measures_from_specs(list(persona.probes.values()))}
    assert set(probes.values()) == {"drift", "task"}
