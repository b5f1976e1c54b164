"""Word 3-grams, to check that two texts share no wording (eval items vs training data, probes vs evals)."""

from __future__ import annotations

import re


def trigrams(text: str) -> set[tuple[str, ...]]:
    """Every word 3-gram of a text, lowercased."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


# Function words: a 3-gram of them ("how do i") is English, not shared content.
STOP = set(
    "a an the and or but if then so to of in on at for with from by as is are was were be been it its it's this "
    "that these those i you your my me we our they their he she his her what how why when where which who do "
    "does did can could should would will may might must not no yes there here all any some more most much many "
    "very just also than too up down out over into about after before again once only own same such both each "
    "few other off under until while".split()
)


def content_trigrams(text: str) -> set[tuple[str, ...]]:
    """Word 3-grams with at least two words that are not function words."""
    return {g for g in trigrams(text) if sum(w not in STOP for w in g) >= 2}
