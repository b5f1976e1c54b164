"""Picking factors: the one function that training, ablation, evidence and the CLI use to take factors from a
factors file, the checks that a file fits the model it is used on, and the random control's directions.

File order: `select` (indices) or the first `top`. A sweep may narrow the pool to one scope, side and factor source
first; the pool is then ordered by sigma, largest first, within each factor source.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import GraspError
from ..model.models import d_model, n_layers, portable_base
from .factors import Factor, FactorSet, load_factors, orthonormal_basis


def repeated(indices: Sequence[int]) -> list[int]:
    """The indices named more than once, sorted (an index twice is always a mistake: a factor is used or not)."""
    seen = [int(i) for i in indices]
    return sorted({i for i in seen if seen.count(i) > 1})


def parse_indices(text: str, where: str = "--select") -> tuple[int, ...]:
    """Factor indices written as the CLI, forms and YAML lists take them, comma-separated ("0,2"); one clear line
    naming `where` for anything else, a negative index or an index given twice."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        indices = tuple(int(p) for p in parts if p)
    except ValueError:
        raise GraspError(f"{where} expects comma-separated factor indices such as 0,2, got {text!r}") from None
    if not indices or any(i < 0 for i in indices):
        raise GraspError(f"{where} expects factor indices >= 0 such as 0,2, got {text!r}")
    twice = repeated(indices)
    if twice:
        raise GraspError(f"{where}: index {', '.join(map(str, twice))} given twice in {text!r}")
    return indices


def pick_indices(
    fs: FactorSet,
    select: Sequence[int] | None = None,
    top: int | None = None,
    scope: str | None = None,
    side: str | None = None,
    source: str = "the factors file",
    factor_source: str | None = None,
) -> tuple[int, ...]:
    """Indices (file order) of the factors to use: `select` as given, else the first `top` of the pool (every
    factor, or those of `scope` / `side` / `factor_source` by sigma), else the whole pool. `source` names the file
    in messages. Sigma ranks within one factor source only (a weights sigma and a shift sigma are in other units):
    a pool of both sources takes their rankings in turn, weights first."""
    n = len(fs)
    if select is not None and top is not None:
        raise GraspError("`select` and `top` exclude each other: give one")
    if select is not None:
        bad = [i for i in select if not 0 <= int(i) < n]
        if bad:
            raise GraspError(f"`select` index {bad[0]} is out of range: {source} has {n} factors (0..{n - 1})")
        twice = repeated(select)
        if twice:
            raise GraspError(f"`select` names index {', '.join(map(str, twice))} twice ({source})")
        return tuple(int(i) for i in select)
    pool = [
        i
        for i, f in enumerate(fs.factors)
        if (scope is None or f.scope == scope)
        and (side is None or f.side == side)
        and (factor_source is None or f.source == factor_source)
    ]
    if scope is not None or side is not None or factor_source is not None:
        pool = by_sigma_in_turn(fs, pool)
    if top is None:
        return tuple(pool)
    if top < 1:
        raise GraspError(f"`top` must be at least 1, got {top}")
    if top > len(pool):
        which = " ".join(x for x in (factor_source, scope, side) if x)
        raise GraspError(
            f"`top` {top} asks for more {which + ' ' if which else ''}factors than {source} has ({len(pool)}): "
            f"give `top` {len(pool)} or less, or `select` the ones to use"
        )
    return tuple(pool[:top])


def by_sigma_in_turn(fs: FactorSet, pool: Sequence[int]) -> list[int]:
    """`pool` (indices) ranked by sigma within each factor source, the sources' rankings taken in turn (weights
    first, then by name): one source's order is its sigma order."""
    order = sorted({fs.factors[i].source for i in pool}, key=lambda s: (s != "weights", s))
    ranked = [sorted((i for i in pool if fs.factors[i].source == s), key=lambda i: -fs.factors[i].sigma) for s in order]
    return [i for turn in itertools.zip_longest(*ranked) for i in turn if i is not None]


def pick(fs: FactorSet, select: Sequence[int] | None = None, top: int | None = None, **pool: Any) -> list[Factor]:
    """The factors `pick_indices` names, in that order."""
    return [fs.factors[i] for i in pick_indices(fs, select, top, **pool)]


def check_fits(fs: FactorSet, model: Any, base: str, source: str | Path) -> None:
    """Refuse a factors file made for another model (or config): its width, its base and every module factor's
    layer."""
    width = d_model(model)
    if fs.d_model != width:
        raise GraspError(
            f"factors file {source} has d_model {fs.d_model} but base {base} has d_model {width}: "
            "they come from different models"
        )
    if fs.base and portable_base(fs.base) != portable_base(base):
        raise GraspError(f"factors file {source} was made for base {fs.base!r}, but the model is base {base!r}")
    L = n_layers(model)
    for f in fs.factors:
        if f.layer is not None and not 0 <= f.layer < L:
            raise GraspError(f"factors file {source}: factor {f.id} is at layer {f.layer}, the base has {L}")


def load_picked(
    path: str | Path, model: Any, base: str, select: Sequence[int] | None = None, top: int | None = None
) -> list[Factor]:
    """Read a factors file, check it fits `model` (of base `base`), and pick from it."""
    fs = load_factors(path)
    check_fits(fs, model, base, path)
    picked = pick(fs, select, top, source=f"factors file {path}")
    rank = basis(picked, fs.d_model).shape[1]
    if rank < len(picked):  # GRASP would project out fewer directions than asked, silently
        raise GraspError(
            f"factors file {path}: the {len(picked)} factors picked ({', '.join(f.id for f in picked)}) span only "
            f"{rank} directions (some are parallel or combinations of others); pick independent ones"
        )
    return picked


def basis(factors: Sequence[Factor], width: int) -> torch.Tensor:
    """Z (d_model, k): an orthonormal basis of the factors' span; (d_model, 0) for none."""
    vectors = torch.stack([f.vector for f in factors]) if factors else torch.zeros(0, width)  # (k, d_model)
    return orthonormal_basis(vectors)


def random_factors(d_model: int, k: int, seed: int) -> list[Factor]:
    """k random orthonormal directions as global write factors, seeded: the `random` control's Z."""
    g = torch.Generator().manual_seed(seed + 7919)
    Q, _ = torch.linalg.qr(torch.randn(d_model, k, generator=g, dtype=torch.float64))  # (d_model, k)
    return [
        Factor(
            id=f"random-{j}",
            scope="global",
            side="write",
            source="random",
            sigma=0.0,
            energy=0.0,
            vector=Q[:, j].float().contiguous(),
            index=j,
        )
        for j in range(k)
    ]
