"""Chat data: JSONL in the OpenAI `messages` format (or plain text), tokenised with an assistant-token mask."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..errors import GraspError
from ..io import read_jsonl, read_text

ROLES = ("system", "user", "assistant")
# No BPE token of the supported tokenizers spans more characters than this, so a chat of more than max_length * this
# many characters has more than max_length tokens: training cuts it there, evals refuse it, before tokenising.
CHARS_PER_TOKEN_MAX = 64


@dataclass
class Example:
    """One chat: messages, where it came from (file, line), and its tokens with a loss mask."""

    messages: list[dict[str, str]]
    source: str
    input_ids: list[int] | None = None
    labels: list[int] | None = None  # -100 outside assistant turns


def check_messages(messages: Any, where: str, need_assistant: bool = True) -> list[dict[str, str]]:
    """Validate a `messages` list, naming file and line on failure."""
    if not isinstance(messages, list) or not messages:
        raise GraspError(f"{where}: `messages` must be a non-empty list")
    for j, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise GraspError(f"{where}: message {j} needs `role` and `content`")
        if m["role"] not in ROLES:
            raise GraspError(
                f"{where}: message {j} has unknown role {m['role']!r} (expected one of {', '.join(ROLES)})"
            )
        if not isinstance(m["content"], str):
            raise GraspError(f"{where}: message {j} `content` must be a string")
    if need_assistant and not any(m["role"] == "assistant" for m in messages):
        raise GraspError(f"{where}: example has no assistant turn")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def load_chat_jsonl(path: str | Path, need_assistant: bool = True) -> list[Example]:
    """Read chat examples; every bad line is reported with file and line number."""
    rows = read_jsonl(path, nonempty="examples")
    out = []
    for lineno, obj in rows:
        where = f"{path}, line {lineno}"
        if not isinstance(obj, dict) or "messages" not in obj:
            raise GraspError(f"{where}: expected an object with a `messages` list")
        out.append(Example(check_messages(obj["messages"], where, need_assistant), where))
    return out


def load_corpus(path: str | Path) -> list[list[dict[str, str]] | str]:
    """A prompt corpus: JSONL chat lines (`messages`) or JSON strings, or plain text with one prompt a line."""
    path = Path(path)
    if not path.is_file():
        raise GraspError(f"corpus {path}: file not found")
    items: list[list[dict[str, str]] | str] = []
    if path.suffix == ".jsonl":
        for lineno, obj in read_jsonl(path):
            where = f"{path}, line {lineno}"
            if isinstance(obj, str):
                items.append(obj)
            elif isinstance(obj, dict) and "messages" in obj:
                items.append(check_messages(obj["messages"], where, need_assistant=False))
            elif isinstance(obj, dict) and isinstance(obj.get("text"), str):
                items.append(obj["text"])
            else:
                raise GraspError(f'{where}: expected {{"messages": [...]}}, {{"text": ...}} or a string')
    else:
        items = [line.rstrip("\n") for line in read_text(path, "corpus").splitlines() if line.strip()]
    if not items:
        raise GraspError(f"corpus {path}: empty, no prompts in it")
    return items


def _template_ids(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=add_generation_prompt)
    if isinstance(out, dict) or hasattr(out, "keys"):
        out = out["input_ids"]
    return list(out)


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def encode_chat(
    tokenizer: Any, messages: list[dict[str, str]], max_length: int | None = None
) -> tuple[list[int], list[int]]:
    """Token ids and labels of a chat; labels are -100 except on assistant turns (loss on assistant tokens only).

    The chat template is applied to growing prefixes; each assistant turn's tokens are the difference between
    the prefix with a generation prompt and the prefix including that turn.
    """
    if not has_chat_template(tokenizer):
        # Models without a template: plain "role: content" lines, the same masking rule.
        ids: list[int] = []
        labels: list[int] = []
        for m in messages:
            head = tokenizer.encode(f"{m['role']}: ", add_special_tokens=False)
            body = tokenizer.encode(m["content"] + "\n", add_special_tokens=False)
            ids += head + body
            labels += [-100] * len(head) + (body if m["role"] == "assistant" else [-100] * len(body))
    else:
        ids = _template_ids(tokenizer, messages, add_generation_prompt=False)
        labels = [-100] * len(ids)
        for i, m in enumerate(messages):
            if m["role"] != "assistant":
                continue
            start = len(_template_ids(tokenizer, messages[:i], add_generation_prompt=True))
            end = len(_template_ids(tokenizer, messages[: i + 1], add_generation_prompt=False))
            labels[start:end] = ids[start:end]
    if max_length is not None:
        ids, labels = ids[:max_length], labels[:max_length]
    return ids, labels


def plain_chat(messages: list[dict[str, str]], generation_prompt: bool = False) -> str:
    """The chat format of tokenizers without a template: one `role: content` line per message, then
    `assistant: ` when a reply is to follow (the one fallback every path uses)."""
    text = "\n".join(f"{m['role']}: {m['content']}" for m in messages)
    return text + "\nassistant: " if generation_prompt else text


def pad_id(tokenizer: Any) -> int:
    """The id that fills padded positions: the pad token, else end-of-sequence, else 0 (they are masked anyway)."""
    for tid in (tokenizer.pad_token_id, getattr(tokenizer, "eos_token_id", None)):
        if tid is not None:
            return int(tid)
    return 0


def generation_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """Prompt ids ending with the template's generation prompt (plain `role: content` lines without one)."""
    if not has_chat_template(tokenizer):
        return list(tokenizer.encode(plain_chat(messages, generation_prompt=True)))
    return _template_ids(tokenizer, messages, add_generation_prompt=True)


def generate_reply(
    model: Any, tokenizer: Any, messages: list[dict[str, str]], max_new_tokens: int, do_sample: bool = False
) -> str:
    """The model's reply to a chat, greedy unless `do_sample`, as the model stands (hooks and adapter state are the
    caller's; seed torch first for a reproducible sample)."""
    device = next(model.parameters()).device
    ids = generation_ids(tokenizer, messages)
    x = torch.tensor([ids], device=device)  # (1, T)
    with torch.no_grad():
        out = model.generate(
            input_ids=x,
            attention_mask=torch.ones_like(x),
            do_sample=do_sample,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad_id(tokenizer),
        )
    return str(tokenizer.decode(out[0, len(ids) :], skip_special_tokens=True)).strip()


def encode_prompt(tokenizer: Any, item: list[dict[str, str]] | str) -> list[int]:
    """Token ids of a corpus item: a chat (with the template) or plain text."""
    if isinstance(item, str):
        return list(tokenizer.encode(item))
    if has_chat_template(tokenizer):
        return _template_ids(tokenizer, item, add_generation_prompt=False)
    return list(tokenizer.encode(plain_chat(item)))


def pad_batch(seqs: list[list[int]], pad_id: int, labels: list[list[int]] | None = None) -> dict[str, Tensor]:
    """Right-pad token lists into input_ids / attention_mask (and labels with -100)."""
    T = max(len(s) for s in seqs)
    input_ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)  # (B, T)
    attention = torch.zeros((len(seqs), T), dtype=torch.long)  # (B, T)
    for i, s in enumerate(seqs):
        input_ids[i, : len(s)] = torch.tensor(s)
        attention[i, : len(s)] = 1
    batch = {"input_ids": input_ids, "attention_mask": attention}
    if labels is not None:
        lab = torch.full((len(seqs), T), -100, dtype=torch.long)
        for i, s in enumerate(labels):
            lab[i, : len(s)] = torch.tensor(s)
        batch["labels"] = lab
    return batch
