"""Side-by-side greedy generations for one factor: adapted (optionally amplified); adapted with the factor ablated;
base; base steered by the adapter's own shift along the factor (shift.steering_offsets: multiple = 1 adds what the
fine-tune added)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import GraspError
from ..identification.factors import Factor
from ..model.adapters import adapter_off
from ..model.amplification import amplified, check_scale
from ..model.chat import generate_reply, load_corpus
from ..model.interventions import ablate
from ..model.models import LoadedModel
from .candidates import UNRELATED_CORPUS
from .shift import adapter_shift, steer_by_offsets, steering_offsets


@dataclass
class SideBySide:
    """One prompt's four replies."""

    prompt: str
    adapted: str  # base + scale * adapter
    ablated: str  # base + scale * adapter, span(z) ablated at every layer
    base: str  # adapter off
    steered: str  # adapter off, multiple * c_l * z added at every stream index l
    multiple: float
    scale: float = 1.0  # the adapter's amplification in `adapted` and `ablated` (1 = as trained)


def side_by_side(
    bm: LoadedModel,
    factor: Factor,
    prompts: Sequence[str] | None = None,
    corpus: str | Path = UNRELATED_CORPUS,
    n_prompts: int = 3,
    multiple: float = 1.0,
    max_new_tokens: int = 40,
    calibration_prompts: int = 32,
    progress: bool = True,
    scale: float = 1.0,
) -> list[SideBySide]:
    """Four greedy replies per prompt (default: the corpus's first `n_prompts`); the steering unit is calibrated on
    the corpus's first `calibration_prompts` prompts (with the adapter as trained). `scale` amplifies the adapter in
    the adapted and ablated replies (model.amplification: 2 exposes what it learned, -1 inverts it)."""
    scale = check_scale(scale)
    if max_new_tokens < 1:
        raise GraspError(f"side_by_side: max_new_tokens must be >= 1, got {max_new_tokens}")
    items = load_corpus(corpus)
    calib = items[:calibration_prompts]
    shift = adapter_shift(bm.model, bm.tokenizer, calib, [factor], progress=False)[0]
    offsets = steering_offsets(bm.model, bm.tokenizer, calib, factor, shift)
    chosen: list[list[dict[str, str]]] = []
    for p in prompts if prompts is not None else items[:n_prompts]:
        chosen.append([{"role": "user", "content": p}] if isinstance(p, str) else list(p))
    if not chosen:
        raise GraspError("side_by_side: no prompts")
    z = factor.vector.float()[:, None]  # (d_model, 1), unit
    out = []
    for messages in tqdm(chosen, desc=f"generate {factor.id}", unit="prompt", disable=not progress):
        reply = {}
        with amplified(bm.model, scale):
            reply["adapted"] = generate_reply(bm.model, bm.tokenizer, messages, max_new_tokens)
            with ablate(bm.model, z):
                reply["ablated"] = generate_reply(bm.model, bm.tokenizer, messages, max_new_tokens)
        with adapter_off(bm.model, "side by side"):
            reply["base"] = generate_reply(bm.model, bm.tokenizer, messages, max_new_tokens)
            with steer_by_offsets(bm.model, factor, offsets, multiple):
                reply["steered"] = generate_reply(bm.model, bm.tokenizer, messages, max_new_tokens)
        out.append(SideBySide(messages[-1]["content"], multiple=multiple, scale=scale, **reply))
    return out
