"""Cached measures: read per measure, recomputed only where their eval file changed; old names read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grasp_core.errors import GraspError
from grasp_core.sweep.config import SweepConfig


def test_evaluations_are_cached_per_measure(tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path) -> None:
    from grasp_core.evaluation.organisms import load_organism
    from grasp_core.sweep.eval_cache import EVAL_FILE, evaluate_cached

    shutil.copytree(tiny_organism, tmp_path / "org")  # the shared organism stays as it is: one file is edited
    org = load_organism(tmp_path / "org")
    first = evaluate_cached(tmp_path, org, str(tiny_llama_dir), None, measures=("drift",))
    assert set(first) == {"drift"}
    stored = json.loads((tmp_path / EVAL_FILE).read_text())
    (entry,) = stored.values()
    entry["drift"]["mean"] = -1.0  # a marker: a measure already cached must be read, not recomputed
    (tmp_path / EVAL_FILE).write_text(json.dumps(stored))
    every = evaluate_cached(tmp_path, org, str(tiny_llama_dir), None)
    assert set(every) == {"drift", "leak", "task_nll", "task_choice"} and every["drift"]["mean"] == -1.0
    # Editing one eval file recomputes that measure alone: the others keep their cached values.
    stored = json.loads((tmp_path / EVAL_FILE).read_text())
    (entry,) = stored.values()
    entry["leak"]["mean"] = -2.0
    (tmp_path / EVAL_FILE).write_text(json.dumps(stored))
    drift_file = Path(org.evals["drift"].file)
    drift_file.write_text(drift_file.read_text().splitlines(keepends=True)[0])  # one item left
    again = evaluate_cached(tmp_path, org, str(tiny_llama_dir), None)
    assert again["leak"]["mean"] == -2.0 and len(again["drift"]["scores"]) == 1 and again["drift"]["mean"] != -1.0
    with pytest.raises(GraspError, match="`measures` must list some of"):
        SweepConfig.from_dict({"organism": "x", "methods": [{"method": "naive"}], "measures": ["drfit"]})


def test_a_cache_of_an_earlier_release_is_read_under_current_names(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    """A measure's change from the base was cached as `<m>_shift`; it is read as `<m>_change`, not computed again."""
    from grasp_core.evaluation.organisms import load_organism
    from grasp_core.sweep.eval_cache import EVAL_FILE, evaluate_cached

    org = load_organism(tiny_organism)
    first = evaluate_cached(tmp_path, org, str(tiny_llama_dir), None, measures=("drift",))
    stored = json.loads((tmp_path / EVAL_FILE).read_text())
    (key,) = stored
    stored[key]["drift_shift"] = {"mean": 0.5, "lo": 0.4, "hi": 0.6}  # as an earlier release wrote it
    (tmp_path / EVAL_FILE).write_text(json.dumps(stored))
    again = evaluate_cached(tmp_path, org, str(tiny_llama_dir), None, measures=("drift",))
    assert again["drift"] == first["drift"] and again["drift_change"] == {"mean": 0.5, "lo": 0.4, "hi": 0.6}


def test_example_replies_are_cached_and_redone_when_the_questions_change(
    tmp_path: Path, tiny_organism: Path, tiny_llama_dir: Path
) -> None:
    from grasp_core.evaluation.organisms import load_organism
    from grasp_core.sweep.eval_cache import EXAMPLES_FILE, examples_cached

    shutil.copytree(tiny_organism, tmp_path / "org")
    questions = tmp_path / "org" / "replies.jsonl"
    questions.write_text(json.dumps({"id": "a", "prompt": "Any tips?"}) + "\n")
    org = load_organism(tmp_path / "org")
    (first,) = examples_cached(tmp_path, org, str(tiny_llama_dir), None)
    stored = json.loads((tmp_path / EXAMPLES_FILE).read_text())
    (entry,) = stored.values()
    entry["replies"][0]["reply"] = "MARKER"  # cached: read, not generated again
    (tmp_path / EXAMPLES_FILE).write_text(json.dumps(stored))
    assert examples_cached(tmp_path, org, str(tiny_llama_dir), None)[0]["reply"] == "MARKER"
    questions.write_text(json.dumps({"id": "b", "prompt": "Hi there?"}) + "\n")
    (again,) = examples_cached(tmp_path, org, str(tiny_llama_dir), None)
    assert again["id"] == "b" and again["reply"] != "MARKER" and first["id"] == "a"
