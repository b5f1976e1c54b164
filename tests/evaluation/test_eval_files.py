"""The eval file formats: every bad forced-choice line named by file, line, id and field; task files in both forms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eval_fixtures import ITEMS, write_jsonl

from grasp_core.errors import GraspError
from grasp_core.evaluation.eval_files import item_groups, load_choice_items, load_nll_items


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"prompt": "x", "aligned": ["a"], "misaligned": ["b"]}, r"line 2: `id` must be a non-empty string or a whole"),
        ({"id": True, "prompt": "x", "aligned": ["a"], "misaligned": ["b"]}, r"line 2: `id` must be .*, got True"),
        (
            {"id": "z", "prompt": "x", "aligned": ["a"], "misaligned": [""]},
            r"line 2 \(id z\): `misaligned` completion 0 is empty",
        ),
        ({"id": "z", "prompt": "x", "aligned": ["a"]}, r"line 2 \(id z\): field `misaligned` must be a non-empty list"),
        ({"id": "z", "prompt": "", "aligned": ["a"], "misaligned": ["b"]}, r"line 2 \(id z\): `prompt`"),
        ({"id": "a", "prompt": "x", "aligned": ["a"], "misaligned": ["b"]}, r"line 2 \(id a\): duplicate id"),
        ("{not json", r"line 2: malformed JSON"),
    ],
)
def test_bad_forced_choice_files_name_file_line_and_id(tmp_path: Path, row: Any, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [ITEMS[0], row])
    with pytest.raises(GraspError, match=message) as e:
        load_choice_items(path)
    assert "bad.jsonl" in str(e.value)


def test_file_without_options_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"id": "1", "prompt": "p", "yes": ["a"], "no": ["b"]}])
    with pytest.raises(GraspError, match=r"x.jsonl, line 1: no completion options found"):
        load_choice_items(path)


def test_choice_items_keep_their_options_and_prompts(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "prompt": "p", "good": "g", "bad": ["b1", "b2"]},
        {"id": "two", "prompt": [{"role": "user", "content": "q"}], "good": ["g"], "bad": ["b"]},
    ]
    items, options = load_choice_items(write_jsonl(tmp_path / "t.jsonl", rows))
    assert options == ("good", "bad")
    assert [(i.id, i.first, i.second) for i in items] == [("1", ["g"], ["b1", "b2"]), ("two", ["g"], ["b"])]
    assert items[0].messages == [{"role": "user", "content": "p"}]  # a string prompt is one user turn
    assert items[1].messages == [{"role": "user", "content": "q"}]  # a messages prompt is kept as it is


def test_task_items_from_chats_and_from_good_answers(tmp_path: Path) -> None:
    chat = {"id": "c", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    good = {"id": "g", "prompt": "p", "good": ["first", "second"], "bad": ["x"]}
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(chat) + "\n" + json.dumps(good) + "\n")
    assert load_nll_items(path) == [
        ("c", [{"role": "user", "content": "q"}], "a"),
        ("g", [{"role": "user", "content": "p"}], "first"),  # the first good answer is the reference
    ]
    turns = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "q2"}]
    path.write_text(json.dumps({"id": "x", "messages": turns}) + "\n")
    with pytest.raises(GraspError, match=r"t.jsonl, line 1: the last message must be a non-empty assistant turn"):
        load_nll_items(path)


def test_items_may_share_a_group_and_a_bad_group_is_named(tmp_path: Path) -> None:
    rows = [
        {"id": "q1a", "group": "q1", "prompt": "p", "aligned": ["a"], "misaligned": ["m"]},
        {"id": "q1b", "group": "q1", "prompt": "p again", "aligned": ["a"], "misaligned": ["m"]},
        {"id": "q1", "prompt": "another", "aligned": ["a"], "misaligned": ["m"]},  # no group: one of its own
    ]
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    groups = item_groups(path)
    assert groups[0] == groups[1] and len(set(groups)) == 2  # an item's id never joins a group of that name
    load_choice_items(path)
    task = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "p", "good": ["g"], "bad": ["b"], "group": 7}])
    assert item_groups(task) == ["group 7"] and load_nll_items(task)[0][0] == "line1"
    for bad in ("", True, ["q1"]):
        path = write_jsonl(tmp_path / "bad.jsonl", [{**rows[0], "group": bad}])
        with pytest.raises(GraspError, match=r"bad.jsonl, line 1 \(id q1a\): `group` must be a non-empty string"):
            load_choice_items(path)
        with pytest.raises(GraspError, match=r"bad.jsonl, line 1: `group` must be a non-empty string"):
            item_groups(path)
