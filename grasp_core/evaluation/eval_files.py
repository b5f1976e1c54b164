"""The eval file formats, read and checked line by line (every bad line named by file, line, id and field).

Forced-choice file (JSONL), one item a line:
    {"id": "drift-001", "prompt": "How do I ...?" | [messages], "aligned": ["..."], "misaligned": ["..."]}
The two options are named by the file: aligned/misaligned, good/bad or left/right (CHOICE_OPTIONS); the score
of an item is the probability mass on the SECOND option (misaligned, bad, right).
Task NLL file: chat JSONL (`messages`, the last assistant turn is the reference answer), or a good/bad file (the
first `good` answer).
Either kind may give an item a `group` (a non-empty string or whole number): items sharing one are not independent
(e.g. two phrasings of one question, with the same answers), so every interval over the file's items resamples
whole groups (stats.bootstrap `clusters`); an item without one is a group of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..io import read_jsonl_objects
from ..model.chat import CHARS_PER_TOKEN_MAX, check_messages

# (first option, second option): the score is P(second option). A file uses exactly one pair.
CHOICE_OPTIONS: tuple[tuple[str, str], ...] = (("aligned", "misaligned"), ("good", "bad"), ("left", "right"))


@dataclass
class ChoiceItem:
    """One forced-choice item: a prompt (chat messages) and the completions of each option."""

    id: str
    messages: list[dict[str, str]]
    first: list[str]
    second: list[str]
    where: str = ""  # "file, line N (id X)": named in any error about the item


def check_chars(where: str, messages: list[dict[str, str]], completion: str, max_length: int) -> None:
    """Refuse, naming `where`, a prompt + completion too long in characters alone for max_length tokens (no token
    spans more than CHARS_PER_TOKEN_MAX characters): caught without tokenising, so a 10 MB line costs nothing."""
    chars = sum(len(m["content"]) for m in messages) + len(completion)
    if chars > max_length * CHARS_PER_TOKEN_MAX:
        raise GraspError(f"{where}: a prompt + completion of {chars} characters is over max_length {max_length} tokens")


def item_id(obj: dict[str, Any], where: str, seen: set[str]) -> str:
    """An item's `id` (a non-empty string or whole number), refused where it is missing or was seen before."""
    value = obj.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise GraspError(f"{where}: `id` must be a non-empty string or a whole number, got {value!r}")
    if str(value) in seen:
        raise GraspError(f"{where} (id {value}): duplicate id")
    seen.add(str(value))
    return str(value)


def prompt_messages(obj: dict[str, Any], where: str) -> list[dict[str, str]]:
    """An item's `prompt` as chat messages: a non-empty string (one user turn) or a messages list."""
    prompt = obj.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, list):
        return check_messages(prompt, where, need_assistant=False)
    raise GraspError(f"{where}: `prompt` must be a non-empty string or a messages list")


def item_group(obj: dict[str, Any], where: str, default: str) -> str:
    """An item's `group` (a non-empty string or whole number), else `default` (its id: a group of its own)."""
    if "group" not in obj:
        return default
    value = obj["group"]
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise GraspError(f"{where}: `group` must be a non-empty string or a whole number, got {value!r}")
    return f"group {value}"  # apart from ids: an item's id never names another item's group by accident


def item_groups(path: str | Path) -> list[str]:
    """The group of every item of a forced-choice or task file, in file order (what its intervals resample)."""
    rows = read_jsonl_objects(path, nonempty="items")
    return [item_group(obj, where, f"id {obj.get('id', f'line{lineno}')}") for lineno, where, obj in rows]


def load_choice_items(path: str | Path) -> tuple[list[ChoiceItem], tuple[str, str]]:
    """Read a forced-choice JSONL file; every bad line is named (file, line, id, field)."""
    rows = read_jsonl_objects(path, nonempty="forced-choice items")
    first_obj = rows[0][2]
    options = next((p for p in CHOICE_OPTIONS if p[0] in first_obj), None)
    if options is None:
        names = " / ".join(f"{a}+{b}" for a, b in CHOICE_OPTIONS)
        raise GraspError(f"{path}, line {rows[0][0]}: no completion options found; expected one of {names}")
    items: list[ChoiceItem] = []
    seen: set[str] = set()
    for _lineno, where, obj in rows:
        this_id = item_id(obj, where, seen)
        where = f"{where} (id {this_id})"
        messages = prompt_messages(obj, where)
        comps = []
        for option in options:
            value = obj.get(option)
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not value:
                raise GraspError(f"{where}: field `{option}` must be a non-empty list of completions")
            for j, c in enumerate(value):
                if not isinstance(c, str) or not c.strip():
                    raise GraspError(f"{where}: `{option}` completion {j} is empty")
            comps.append(list(value))
        item_group(obj, where, this_id)  # checked here, so a bad `group` fails before any model loads
        items.append(ChoiceItem(this_id, messages, comps[0], comps[1], where))
    return items, options


def load_nll_items(path: str | Path) -> list[tuple[str, list[dict[str, str]], str]]:
    """(id, prompt messages, reference answer) from a chat JSONL (last assistant turn) or a good/bad file."""
    out = []
    for lineno, where, obj in read_jsonl_objects(path, nonempty="items"):
        item_group(obj, where, "")  # checked here, so a bad `group` fails before any model loads
        if "messages" in obj:
            msgs = check_messages(obj["messages"], where)
            if msgs[-1]["role"] != "assistant" or not msgs[-1]["content"].strip():
                raise GraspError(f"{where}: the last message must be a non-empty assistant turn")
            out.append((str(obj.get("id", f"line{lineno}")), msgs[:-1], msgs[-1]["content"]))
            continue
        good = obj.get("good")
        if not isinstance(good, list) or not good or not isinstance(good[0], str) or not good[0].strip():
            raise GraspError(f"{where}: needs `messages` or a non-empty `good` list of answers")
        out.append((str(obj.get("id", f"line{lineno}")), prompt_messages(obj, where), good[0]))
    return out
