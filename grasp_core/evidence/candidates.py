"""What evidence is gathered on: the candidate factors of an adapter, and the bundled unrelated-prompts corpus."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..identification.choose import check_fits, pick_indices
from ..identification.factors import Factor, FactorSet, identified_path, identify, load_factors
from ..model.adapters import adapter_hash, load_adapter
from ..model.models import load_config, n_layers

# Everyday, political and self-description questions written for this project; none comes from an organism's
# training data (tests/evidence/test_candidates.py checks prompts and word 3-grams).
UNRELATED_CORPUS = Path(str(files("grasp_core") / "assets" / "corpora" / "unrelated.jsonl"))
FACTORS_FILE = "factors.safetensors"  # an adapter's candidates shipped beside it (the demo adapters)


def candidate_factors(
    adapter: str | Path,
    base: str,
    factors_file: str | Path | None = None,
    select: Sequence[int] | None = None,
    top: int = 8,
    config: Any = None,
    other_adapter: bool = False,
) -> tuple[FactorSet, list[tuple[int, Factor]]]:
    """The factors to gather evidence on, as (index in the set, factor): `select` indices of the factors file,
    else its first `top` global write factors (by sigma). Without a file: the adapter's own factors file, else the
    one `grasp identify` kept for it in the workspace, else its factors found now. The file must fit the base
    (width, base name, layers) and have been made from this adapter (its recorded hash), unless `other_adapter`;
    no model weights are loaded."""
    config = config if config is not None else load_config(base)
    if factors_file is None:
        found = [p for p in (Path(adapter) / FACTORS_FILE, identified_path(adapter)) if p.is_file()]
        factors_file = found[0] if found else None
    if factors_file is not None:
        fs = load_factors(factors_file)
        source = f"factors file {factors_file}"
        check_fits(fs, config, base, factors_file)
        mine = adapter_hash(adapter) if fs.adapter_hash and not other_adapter else None
        if mine is not None and fs.adapter_hash != mine:  # an empty hash: made from no adapter (random, by hand)
            raise GraspError(
                f"{source} was made from adapter {fs.adapter} (hash {fs.adapter_hash}), not from {adapter} "
                f"(hash {mine}): its factors are not this adapter's candidates; identify them again, or pass "
                "--factors-from-other-adapter to use them anyway"
            )
    else:
        ad = load_adapter(adapter, base_config=config)
        fs = identify(ad, n_layers(config), n_factors=top)
        fs.base = base
        source = f"the factors of adapter {adapter}"
    if select is not None:
        indices = pick_indices(fs, select=select, source=source)
    else:
        indices = pick_indices(fs, top=top, scope="global", side="write", source=source)
    if not indices:
        raise GraspError(f"{source}: no factors to gather evidence on")
    return fs, [(i, fs.factors[i]) for i in indices]
