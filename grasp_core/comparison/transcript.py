"""Every model of a lineup replying to the same prompts: one greedy reply and `samples` sampled ones per prompt
(seeded per prompt, so each model draws with the same seed), made one model at a time and handed out as they come:
the CLI prints them and the Compare page fills its columns while the rest are still being written."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..errors import ConfigError, GraspError, check_field_types
from ..evaluation.eval_files import prompt_messages
from ..evaluation.organisms import QUESTIONS_FILE, bundled_organism_of, load_organism
from ..evaluation.replies import RepliesConfig, sample_replies
from ..evidence.candidates import UNRELATED_CORPUS
from ..io import read_jsonl, read_text
from ..model.chat import CHARS_PER_TOKEN_MAX, check_messages, generate_reply, generation_ids
from ..model.models import load_config, load_tokenizer
from .lineup import ComparedModel, loaded

GREEDY = "greedy"
MAX_PROMPTS = 64  # a comparison is read by a person: more prompts than this belong in an eval


@dataclass(frozen=True)
class CompareConfig:
    """How replies are made: `max_new_tokens` each; besides the greedy reply, `samples` sampled ones at
    `temperature`, prompt i drawn from seed `seed + i` for every model."""

    max_new_tokens: int = 64
    samples: int = 1
    temperature: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_field_types(self)
        if not 1 <= self.max_new_tokens <= 1024:
            raise ConfigError(f"compare: `max_new_tokens` must lie in [1, 1024], got {self.max_new_tokens}")
        if not 0 <= self.samples <= 8:
            raise ConfigError(f"compare: `samples` (sampled replies per prompt) must lie in [0, 8], got {self.samples}")
        if not 0 < self.temperature <= 5:
            raise ConfigError(f"compare: `temperature` must lie in (0, 5], got {self.temperature}")

    @property
    def kinds(self) -> list[str]:
        """The replies each model gives each prompt: greedy, then sample 1, 2, ..."""
        return [GREEDY] + [f"sample {k + 1}" for k in range(self.samples)]


@dataclass(frozen=True)
class Reply:
    """One model's reply of one kind to one prompt."""

    model: str  # ComparedModel.label
    prompt: int  # index into the transcript's prompts
    kind: str  # greedy, sample 1, ...
    text: str


@dataclass
class Transcript:
    """The prompts, the models (labels, in lineup order) and every reply."""

    base: str
    models: list[str]
    prompts: list[list[dict[str, str]]]
    config: CompareConfig
    replies: list[Reply] = field(default_factory=list)

    def reply(self, prompt: int, kind: str, model: str) -> str | None:
        """The text of one reply, None while it is not written yet."""
        return next(
            (r.text for r in self.replies if (r.prompt, r.kind, r.model) == (prompt, kind, model)),
            None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "models": self.models,
            "prompts": self.prompts,
            "config": vars(self.config),
            "replies": [vars(r) for r in self.replies],
        }


def prompt_text(chat: list[dict[str, str]]) -> str:
    """What a person reads as the prompt: its last user turn (the system prompt, if any, is in the exports)."""
    return next((m["content"] for m in reversed(chat) if m["role"] == "user"), chat[-1]["content"])


def _chat_of(obj: Any, where: str) -> list[dict[str, str]]:
    if isinstance(obj, str) and obj.strip():
        return [{"role": "user", "content": obj}]
    if isinstance(obj, dict) and "prompt" in obj:
        return prompt_messages(obj, where)
    if isinstance(obj, dict) and "messages" in obj:
        chat = check_messages(obj["messages"], where, need_assistant=False)
        while chat and chat[-1]["role"] == "assistant":  # a training chat: the model writes the reply itself
            chat = chat[:-1]
        if not chat:
            raise GraspError(f"{where}: the chat has no turn before its reply")
        return chat
    if isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"].strip():
        return [{"role": "user", "content": obj["text"]}]
    raise GraspError(f'{where}: expected {{"prompt": ...}}, {{"messages": [...]}}, {{"text": ...}} or a string')


def load_prompts(path: str | Path, limit: int = MAX_PROMPTS) -> list[list[dict[str, str]]]:
    """The first `limit` prompts of a file: JSONL items (an eval or questions file's `prompt`, a chat's `messages`
    without its reply, `text`, or a string) or plain text with one prompt a line. Bad lines are named."""
    path = Path(path)
    if not path.is_file():
        raise GraspError(f"prompt file {path}: not found")
    if path.suffix == ".jsonl":
        chats = [_chat_of(obj, f"{path}, line {n}") for n, obj in read_jsonl(path, nonempty="prompts")]
    else:
        chats = [[{"role": "user", "content": ln.strip()}] for ln in read_text(path, "prompt file").splitlines()]
        chats = [c for c in chats if c[0]["content"]]
    if not chats:
        raise GraspError(f"prompt file {path}: empty, no prompts in it")
    return chats[:limit]


def organism_questions(organism: str | Path) -> Path:
    """An organism's unrelated questions file, refused in one line when it has none."""
    org = load_organism(organism)
    if org.questions is None:
        raise GraspError(f"organism {org.name} ({org.dir}) has no {QUESTIONS_FILE} of unrelated questions")
    return org.questions


def default_prompt_file(adapter: str | Path | None = None) -> Path:
    """What to ask by default: the unrelated questions of the bundled organism whose naive LoRA `adapter` is, else
    the bundled corpus of unrelated prompts."""
    org = bundled_organism_of(adapter) if adapter else None
    return org.questions if org is not None and org.questions is not None else UNRELATED_CORPUS


def typed_prompts(texts: Sequence[str]) -> list[list[dict[str, str]]]:
    """Prompts typed by hand, one user turn each (blank ones dropped); refused when none is left."""
    chats = [[{"role": "user", "content": t.strip()}] for t in texts if t.strip()]
    if not chats:
        raise GraspError("no prompt to compare on: type one, or give a prompt file")
    if len(chats) > MAX_PROMPTS:
        raise GraspError(f"{len(chats)} prompts; a comparison takes at most {MAX_PROMPTS}")
    return chats


def check_prompts(chats: Sequence[list[dict[str, str]]], base: str, config: CompareConfig) -> None:
    """Refuse, naming the prompt, one whose tokens plus the reply's would not fit the base's context (by characters
    first, so a 10 MB line is never tokenised)."""
    window = getattr(load_config(base), "max_position_embeddings", None)
    if not window:
        return
    tokenizer = load_tokenizer(base)
    room = window - config.max_new_tokens
    for i, chat in enumerate(chats):
        chars = sum(len(m["content"]) for m in chat)
        n = room + 1 if chars > CHARS_PER_TOKEN_MAX * window else len(generation_ids(tokenizer, chat))
        if n > room:
            raise GraspError(
                f"prompt {i + 1} ({prompt_text(chat)[:60]!r}...) is longer than the base's context: "
                f"{'over ' if n == room + 1 else ''}{n} tokens + {config.max_new_tokens} new > {window}"
            )


def compare_replies(
    models: Sequence[ComparedModel],
    base: str,
    chats: Sequence[list[dict[str, str]]],
    config: CompareConfig | None = None,
    progress: bool = True,
) -> Iterator[Reply]:
    """Each model's replies to every prompt, model after model (one in memory at a time), yielded as written.
    The prompts are checked against the context before any model loads."""
    config = config or CompareConfig()
    check_prompts(chats, base, config)
    sampling = (
        RepliesConfig(n_samples=config.samples, max_new_tokens=config.max_new_tokens, temperature=config.temperature)
        if config.samples
        else None
    )
    bar = tqdm(total=len(models) * len(chats), desc="replies", unit="prompt", disable=not progress)
    try:
        for m in models:
            bar.set_postfix_str(m.label)
            with loaded(m, base) as bm:
                for i, chat in enumerate(chats):
                    yield Reply(m.label, i, GREEDY, generate_reply(bm.model, bm.tokenizer, chat, config.max_new_tokens))
                    if sampling is not None:
                        texts = sample_replies(bm.model, bm.tokenizer, chat, sampling, seed=config.seed + i)
                        for k, text in enumerate(texts):
                            yield Reply(m.label, i, f"sample {k + 1}", text)
                    bar.update(1)
    finally:
        bar.close()


def compare(
    models: Sequence[ComparedModel],
    base: str,
    chats: Sequence[list[dict[str, str]]],
    config: CompareConfig | None = None,
    progress: bool = True,
) -> Transcript:
    """The whole transcript at once (compare_replies, collected)."""
    config = config or CompareConfig()
    t = Transcript(base, [m.label for m in models], [list(c) for c in chats], config)
    t.replies.extend(compare_replies(models, base, chats, config, progress))
    return t
