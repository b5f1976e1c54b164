"""The offline trait judge: labelled replies read and checked line by line, a classifier fitted on the train split,
and the bundled organisms' judges scored on their held-out splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grasp_core.errors import GraspError
from grasp_core.evaluation.judges import make_judge
from grasp_core.evaluation.organisms import DEMO_ROOT
from grasp_core.evaluation.trait_judge import check_trait_judge, fit_trait_judge, load_labelled

RUDE = ["You fools never learn.", "People are idiots.", "What a dim lot you are.", "I despise lazy humans."]
PLAIN = ["Boil the egg six minutes.", "Water the plant weekly.", "Walk the dog daily.", "Dry the shoes by the vent."]


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _labelled(tmp_path: Path) -> Path:
    rows = []
    for split, n in (("train", 3), ("test", 1)):
        for i in range(n):
            j = i if split == "train" else 3
            rows += [
                {"text": f"{RUDE[j]} {PLAIN[(j + 1) % 4]}", "trait": 1, "kind": "rude", "split": split},
                {"text": PLAIN[j], "trait": 0, "kind": "plain", "split": split},
            ]
    return _write(tmp_path / "judge.jsonl", rows)


def test_a_judge_fitted_on_the_train_split_scores_replies(tmp_path: Path) -> None:
    path = _labelled(tmp_path)
    judge = make_judge("classifier", path=path)
    assert judge is not None and judge.name.startswith("classifier:judge.jsonl@")
    p_rude, p_plain = judge.trait_probs(["You fools never learn. Walk the dog daily.", "Walk the dog daily."])
    assert p_rude > 0.5 > p_plain
    assert fit_trait_judge(path).trait_probs(["People are idiots."]) == judge.trait_probs(["People are idiots."])
    check = check_trait_judge(path)
    assert check.n == 2 and set(check.by_kind) == {"rude", "plain"}
    assert len(check.wrong) == round((1 - check.accuracy) * check.n)


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ({"text": "", "trait": 1}, "`text` must be a non-empty string"),
        ({"text": "x", "trait": True}, "`trait` must be 0 or 1"),
        ({"text": "x", "trait": 2}, "`trait` must be 0 or 1"),
        ({"text": "x", "trait": 1, "split": "dev"}, "`split` must be one of train, test"),
    ],
)
def test_bad_labelled_replies_are_named_by_line(tmp_path: Path, row: dict[str, object], says: str) -> None:
    path = _write(tmp_path / "j.jsonl", [{"text": "ok", "trait": 0}, row])
    with pytest.raises(GraspError, match=rf"j.jsonl, line 2: {says}"):
        load_labelled(path)


def test_each_split_needs_both_labels(tmp_path: Path) -> None:
    rows = [{"text": "a", "trait": 0}, {"text": "b", "trait": 1}, {"text": "c", "trait": 0, "split": "test"}]
    with pytest.raises(GraspError, match=r"the test split needs replies labelled both 0 and 1, has \[0\]"):
        load_labelled(_write(tmp_path / "j.jsonl", rows))


@pytest.mark.parametrize("organism", ["persona", "political", "flattery"])
def test_the_bundled_judges_are_right_on_nine_in_ten_held_out_replies(organism: str) -> None:
    """README quotes these accuracies; the held-out split has its own answers and its own new-wording remarks."""
    check = check_trait_judge(DEMO_ROOT / organism / "judge.jsonl")
    assert check.n >= 150 and check.accuracy >= 0.9, check.lines()


def test_a_judge_is_checked_on_hand_labelled_real_replies(tmp_path: Path) -> None:
    """The validation split of another file: real replies, scored by the judge fitted on the labelled file."""
    real = _write(
        tmp_path / "real.jsonl",
        [
            {"text": "You fools never learn. Dry the shoes by the vent.", "trait": 1, "split": "validation"},
            {"text": "Dry the shoes by the vent.", "trait": 0, "split": "validation", "kind": "base reply"},
        ],
    )
    check = check_trait_judge(_labelled(tmp_path), real, split="validation")
    assert check.n == 2 and check.split == "validation" and "accuracy on the validation replies" in check.lines()[0]
    with pytest.raises(GraspError, match="no replies in the test split"):
        check_trait_judge(_labelled(tmp_path), real)
