"""Blind labelling sheets: the shuffle hides the model, scoring un-blinds each row to the right model, and a sheet
that was edited, cut short or left unlabelled is refused with its line named."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from grasp_core.errors import GraspError
from grasp_core.evaluation.hand_labels import key_path, score_sheet, sheet_models, write_sheet


def _replies(model: str, n_questions: int = 4, per: int = 3) -> list[dict[str, str]]:
    return [
        {"id": f"q{q}", "question": f"Question {q}?", "reply": f'{model} says {q}.{i}, "quoted", and a comma'}
        for q in range(n_questions)
        for i in range(per)
    ]


def _label(sheet: Path, trait_of: Callable[[dict[str, str]], int]) -> None:
    """Fill the trait column from the hidden key (what a test may read and a labeller must not)."""
    key = json.loads(key_path(sheet).read_text())
    rows = list(csv.reader(sheet.read_text().splitlines()))
    for row, k in zip(rows[1:], key["rows"], strict=True):
        row[3] = str(trait_of(k))
    with sheet.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_the_sheet_hides_the_model_and_scoring_puts_each_row_back(tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    n = write_sheet(sheet, {"base": _replies("base"), "naive": _replies("naive")}, seed=3, about={"why": "test"})
    assert n == 24
    header, *rows = list(csv.reader(sheet.read_text().splitlines()))
    assert header == ["row", "question", "reply", "trait"] and all(r[3] == "" for r in rows)
    assert "naive" not in header and not any("model" in c for c in header)
    order = [r[2].split()[0] for r in rows]
    assert order != sorted(order) and set(order) == {"base", "naive"}  # shuffled across models
    _label(sheet, lambda k: int(k["model"] == "naive"))
    result = score_sheet(sheet)
    assert result.reference == "base" and result.counts == {"base": (0, 12), "naive": (12, 12)}
    assert result.shares["naive"].mean == 1.0 and result.shares["base"].mean == 0.0
    change = result.changes["naive"]
    assert (change.mean, change.lo, change.hi, change.over, change.n) == (1.0, 1.0, 1.0, "questions", 4)
    assert "naive: 12 of 12 show the trait" in "\n".join(result.lines())
    assert score_sheet(sheet, reference="naive").changes["base"].mean == -1.0
    assert sheet_models(sheet) == result.models == ["base", "naive"]  # the key's order: its first is the reference


def test_a_share_interval_resamples_questions(tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    write_sheet(sheet, {"a": _replies("a", n_questions=6, per=2)})
    _label(sheet, lambda k: int(k["id"] in ("q0", "q1")))  # two of six questions: every reply to them
    share = score_sheet(sheet).shares["a"]
    assert share.over == "questions" and share.n == 6
    assert share.mean == pytest.approx(2 / 6) and share.lo < share.mean < share.hi


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda rows: rows[:-1], "2 labelled rows, its key has 3"),
        (lambda rows: [rows[0], [*rows[1][:3], "yes"], *rows[2:]], "line 2: `trait` is 'yes'"),
        (lambda rows: [rows[0], rows[1], [*rows[2][:3], ""], *rows[3:]], "line 3: `trait` is empty"),
        (lambda rows: [rows[0], rows[2], rows[1], *rows[3:]], "line 2: the reply is not the one sampled"),
        (lambda rows: [["row", "reply", "trait"], *rows[1:]], "line 1: expected the columns"),
    ],
)
def test_a_torn_or_unlabelled_sheet_is_refused_naming_the_line(edit, says: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "s.csv"
    write_sheet(sheet, {"a": [{"id": "q", "question": "Q?", "reply": f"reply {i}"} for i in range(3)]})
    rows = list(csv.reader(sheet.read_text().splitlines()))
    labelled = [rows[0], *[[*r[:3], "0"] for r in rows[1:]]]
    with sheet.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(edit(labelled))
    with pytest.raises(GraspError, match=str(sheet).replace(".", r"\.")) as e:
        score_sheet(sheet)
    assert says in str(e.value)


def test_no_key_no_score_and_nothing_to_write(tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("row,question,reply,trait\n0,Q?,hi,1\n")
    with pytest.raises(GraspError, match="s.csv.key.json"):
        score_sheet(sheet)
    with pytest.raises(GraspError, match="s.csv.key.json"):
        sheet_models(sheet)
    with pytest.raises(GraspError, match="no replies"):
        write_sheet(tmp_path / "t.csv", {"a": []})
    assert not (tmp_path / "t.csv").exists() and not key_path(tmp_path / "t.csv").exists()


def test_label_one_row_at_a_time_and_list_the_sheets(tmp_path: Path) -> None:
    from grasp_core.evaluation.hand_labels import label_row, list_sheets, read_sheet, sheet_about

    sheet = tmp_path / "s.csv"
    write_sheet(sheet, {"a": _replies("a", 2, 1), "b": _replies("b", 2, 1)}, about={"trait": "t"})
    (tmp_path / "stray.csv").write_text("row,question,reply,trait\n")  # no key beside it: not a sheet
    assert list_sheets(tmp_path) == [sheet] and sheet_about(sheet) == {"trait": "t"}
    rows = read_sheet(sheet)
    assert [r.trait for r in rows] == [None] * 4 and [r.row for r in rows] == [0, 1, 2, 3]
    before = sheet.read_text()
    label_row(sheet, 2, 1)
    label_row(sheet, 0, 0)
    assert [r.trait for r in read_sheet(sheet)] == [0, None, 1, None]
    assert [r.reply for r in read_sheet(sheet)] == [r.reply for r in rows]  # replies untouched (quotes, commas)
    label_row(sheet, 2, None)
    label_row(sheet, 0, None)
    assert sheet.read_text() == before  # cleared again: the file as written
    with pytest.raises(GraspError, match="no row 9"):
        label_row(sheet, 9, 1)
    with pytest.raises(GraspError, match="not 2"):
        label_row(sheet, 0, 2)
    for r in read_sheet(sheet):
        label_row(sheet, r.row, int(r.reply.startswith("b")))
    table = {row["model"]: row for row in score_sheet(sheet).rows()}
    assert table["b"]["trait replies"] == "2 of 2" and table["a"]["share"] == 0.0 and table["b"]["change vs a"] == 1.0
