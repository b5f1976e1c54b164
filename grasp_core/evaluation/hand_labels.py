"""Replies judged by a person, blind. The replies of several models to the same questions (sampled as the
`replies` measure samples them) go into one labelling sheet, shuffled, with the model hidden; a person writes 1
(the reply shows the trait) or 0 in each row; `score_sheet` then reads the hidden key and reports, per model, the
share of replies showing the trait with a bootstrap over questions, and each model's change against a reference
model, paired by question.

Sheet (CSV, opens in any spreadsheet): row, question, reply, trait (empty until labelled).
Key (`<sheet>.key.json`, beside it; the labeller must not open it): the models in order, per row the model, the
question id and a hash of the reply (so a sheet whose rows were moved or edited is refused), and how the replies
were sampled (with the trait to label, where the organism is known). Sheets live under $GRASP_HOME/labels/ unless
named elsewhere; the dashboard's Label page lists those and labels them one reply at a time.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..io import grasp_home, read_json, read_text, text_hash, write_json, write_text
from .stats import Interval, clustered_bootstrap, paired_bootstrap

SHEET_COLUMNS = ("row", "question", "reply", "trait")
KEY_SUFFIX = ".key.json"
KEY_VERSION = 1
QUESTIONS = "questions"  # what the intervals resample: the replies to one question are not independent


def labels_root() -> Path:
    """Where labelling sheets live by default: $GRASP_HOME/labels/."""
    return grasp_home() / "labels"


def list_sheets(root: str | Path | None = None) -> list[Path]:
    """The sheets (with their key beside them) under `root` (default: labels_root()), newest first."""
    folder = Path(root) if root is not None else labels_root()
    found = [p for p in folder.glob("*.csv") if key_path(p).is_file()] if folder.is_dir() else []
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def sheet_about(sheet: str | Path) -> dict[str, Any]:
    """How a sheet's replies were sampled (the key's `about`: questions, base, n_samples, seed, trait), nothing
    that tells a row's model."""
    about = read_json(key_path(sheet), what=f"{Path(sheet).name}'s key").get("about", {})
    return about if isinstance(about, dict) else {}


def key_path(sheet: str | Path) -> Path:
    """Where a sheet's hidden key lives: `<sheet>.key.json` beside it."""
    return Path(f"{sheet}{KEY_SUFFIX}")


def write_sheet(
    sheet: str | Path, replies: dict[str, list[dict[str, Any]]], seed: int = 0, about: dict[str, Any] | None = None
) -> int:
    """Shuffle every model's replies ({id, question, reply}) into one sheet, the model hidden in its key file;
    both written whole or not at all. `about` (how the replies were sampled) is kept in the key. Returns the
    number of rows."""
    if len(replies) < 1 or not any(replies.values()):
        raise GraspError(f"{sheet}: no replies to put in a labelling sheet")
    rows = [(model, r) for model, rs in replies.items() for r in rs]
    random.Random(seed).shuffle(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SHEET_COLUMNS)
    for n, (_model, r) in enumerate(rows):
        w.writerow([n, r["question"], r["reply"], ""])
    key = {
        "version": KEY_VERSION,
        "models": list(replies),
        "seed": seed,
        "about": about or {},
        "rows": [{"model": m, "id": r["id"], "reply": text_hash(r["reply"])} for m, r in rows],
    }
    write_json(key_path(sheet), key)  # the key first: a sheet is never left without one
    write_text(sheet, buf.getvalue())
    return len(rows)


@dataclass
class SheetResult:
    """Per model, the labelled share showing the trait (bootstrap over questions) and its change against the
    reference model (the first one, unless named), paired by question."""

    sheet: str
    models: list[str]
    reference: str
    shares: dict[str, Interval] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # model -> (trait replies, replies)
    changes: dict[str, Interval] = field(default_factory=dict)  # model -> share minus the reference's

    def lines(self) -> list[str]:
        out = [f"{self.sheet}: replies labelled by hand, blind ({self.shares[self.reference].label})"]
        for m in self.models:
            k, n = self.counts[m]
            line = f"  {m}: {k} of {n} show the trait, share {self.shares[m]}"
            if m in self.changes:
                line += f"; against {self.reference}: {self.changes[m]}"
            out.append(line)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One row per model for a table: trait replies, share with its interval, change against the reference."""
        out = []
        for m in self.models:
            share, change = self.shares[m], self.changes.get(m)
            out.append(
                {
                    "model": m,
                    "trait replies": f"{self.counts[m][0]} of {self.counts[m][1]}",
                    "share": share.mean,
                    "share 95%": f"[{share.lo:.2f}, {share.hi:.2f}]",
                    f"change vs {self.reference}": change.mean if change is not None else None,
                    "change 95%": f"[{change.lo:+.2f}, {change.hi:+.2f}]" if change is not None else "",
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        def iv(x: Interval) -> dict[str, Any]:
            return {"mean": x.mean, "lo": x.lo, "hi": x.hi, "over": x.over, "n": x.n}

        return {
            "sheet": self.sheet,
            "reference": self.reference,
            "models": {
                m: {
                    "trait": self.counts[m][0],
                    "replies": self.counts[m][1],
                    "share": iv(self.shares[m]),
                    **({"change": iv(self.changes[m])} if m in self.changes else {}),
                }
                for m in self.models
            },
        }


@dataclass(frozen=True)
class SheetRow:
    """One row of a labelling sheet: where it ends in the file, its number, question, reply and label (None: not
    labelled yet)."""

    line: int
    row: int
    question: str
    reply: str
    trait: int | None


def read_sheet(sheet: str | Path) -> list[SheetRow]:
    """Every row of a sheet, labelled or not; a malformed header, row or label is refused with its line named."""
    text = read_text(sheet, "labelling sheet")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != SHEET_COLUMNS:
        raise GraspError(f"{sheet}, line 1: expected the columns {', '.join(SHEET_COLUMNS)}, got {header}")
    out = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(SHEET_COLUMNS):
            raise GraspError(f"{sheet}, line {line}: {len(row)} columns, expected {len(SHEET_COLUMNS)}")
        mark = row[3].strip()
        if mark not in ("0", "1", ""):
            raise GraspError(f"{sheet}, line {line}: `trait` is {mark!r}; label every reply 1 (shows the trait) or 0")
        try:
            number = int(row[0])
        except ValueError:
            raise GraspError(f"{sheet}, line {line}: `row` is {row[0]!r}, not a row number") from None
        out.append(SheetRow(line, number, row[1], row[2], int(mark) if mark else None))
    return out


def label_row(sheet: str | Path, row: int, trait: int | None) -> None:
    """Set (1 or 0) or clear (None) one row's label, rewriting the sheet atomically; everything else kept."""
    if trait not in (0, 1, None):
        raise GraspError(f"{sheet}: a label is 1 (shows the trait) or 0, not {trait!r}")
    rows = read_sheet(sheet)
    if not any(r.row == row for r in rows):
        raise GraspError(f"{sheet}: no row {row}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SHEET_COLUMNS)
    for r in rows:
        mark = trait if r.row == row else r.trait
        w.writerow([r.row, r.question, r.reply, "" if mark is None else mark])
    write_text(sheet, buf.getvalue())


def _labels(sheet: Path) -> list[tuple[int, str, int]]:
    """(line, reply, 0/1) of every row, naming the line of an unlabelled one."""
    out = []
    for r in read_sheet(sheet):
        if r.trait is None:
            raise GraspError(f"{sheet}, line {r.line}: `trait` is empty; label every reply 1 (shows the trait) or 0")
        out.append((r.line, r.reply, r.trait))
    return out


def _read_key(sheet: Path) -> dict[str, Any]:
    key = read_json(key_path(sheet), what=f"{sheet}'s key ({key_path(sheet).name})")
    if key.get("version") != KEY_VERSION or not isinstance(key.get("rows"), list):
        raise GraspError(f"{key_path(sheet)}: not a labelling sheet's key (version {KEY_VERSION} with `rows`)")
    return key


def sheet_models(sheet: str | Path) -> list[str]:
    """The models a sheet's key names, in its order (the first is score_sheet's default reference): which models
    are on the sheet, not which row is whose."""
    return [str(m) for m in _read_key(Path(sheet)).get("models", [])]


def score_sheet(sheet: str | Path, reference: str | None = None, n_boot: int = 2000, seed: int = 0) -> SheetResult:
    """Un-blind a labelled sheet with its key: per model the share of replies labelled 1, with a bootstrap over
    questions (the replies to one question are not independent), and each model's change against `reference`
    (default: the first model in the key) as a bootstrap over questions of the per-question difference."""
    sheet = Path(sheet)
    key = _read_key(sheet)
    labels = _labels(sheet)
    rows = key["rows"]
    if len(labels) != len(rows):
        raise GraspError(f"{sheet}: {len(labels)} labelled rows, its key has {len(rows)}: rows added or removed?")
    models = [str(m) for m in key.get("models", [])]
    reference = reference or models[0]
    if reference not in models:
        raise GraspError(f"{sheet}: no model {reference!r} in its key (models: {', '.join(models)})")
    marks: dict[str, list[tuple[str, int]]] = {m: [] for m in models}
    for (line, reply, y), r in zip(labels, rows, strict=True):
        if text_hash(reply) != r["reply"]:
            raise GraspError(f"{sheet}, line {line}: the reply is not the one sampled for this row (moved or edited?)")
        marks[r["model"]].append((str(r["id"]), y))
    result = SheetResult(str(sheet), models, reference)
    per_question: dict[str, dict[str, list[int]]] = {}
    for m, ms in marks.items():
        result.counts[m] = (sum(y for _q, y in ms), len(ms))
        share = clustered_bootstrap([y for _q, y in ms], [q for q, _y in ms], n_boot, seed)
        result.shares[m] = replace(share, over=QUESTIONS)
        per_question[m] = {}
        for q, y in ms:
            per_question[m].setdefault(q, []).append(y)
    ref = per_question[reference]
    for m in models:
        if m == reference:
            continue
        common = [q for q in ref if q in per_question[m]]
        if len(common) < 2:
            continue
        a = [sum(per_question[m][q]) / len(per_question[m][q]) for q in common]
        b = [sum(ref[q]) / len(ref[q]) for q in common]
        result.changes[m] = replace(paired_bootstrap(a, b, n_boot, seed), over=QUESTIONS)
    return result
