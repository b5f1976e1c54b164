"""Example replies: what a model says to an organism's first unrelated questions, greedy, so every configuration of
a sweep is shown answering the same prompts, chosen by a fixed rule (the first EXAMPLE_PROMPTS lines of the
organism's questions file), never by hand."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..model.adapters import load_model
from ..model.chat import generate_reply
from .organisms import Organism
from .replies import load_reply_questions
from .suite import ablated

EXAMPLE_PROMPTS = 3  # the first questions of the organism's file
EXAMPLE_TOKENS = 48  # new tokens per reply


def example_replies(
    organism: Organism,
    base: str,
    adapter: str | Path | None = None,
    ablate: tuple[str | Path, tuple[int, ...]] | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Greedy replies of base (+ adapter) (+ the factors ablated) to the organism's first EXAMPLE_PROMPTS questions,
    as {id, prompt, reply}; [] where the organism has no questions file."""
    if organism.questions is None:
        return []
    questions = load_reply_questions(organism.questions)[:EXAMPLE_PROMPTS]
    bm = load_model(base, adapter)
    out = []
    for qid, messages in tqdm(questions, desc="example replies", unit="prompt", disable=not progress):
        with ablated(bm.model, ablate[0], base, list(ablate[1])) if ablate is not None else nullcontext():
            reply = generate_reply(bm.model, bm.tokenizer, messages, EXAMPLE_TOKENS)
        out.append({"id": qid, "prompt": messages[-1]["content"], "reply": reply})
    return out
