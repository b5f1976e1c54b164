"""Which models a comparison puts side by side: the base, an adapter folder or a finished registry run, each at an
amplification scale (`NAME@s`). Every name is resolved and every adapter checked against the base before anything
loads; the models are then loaded one at a time (`loaded`), so comparing four costs the memory of one."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import GraspError
from ..model.adapters import ADAPTER_CONFIG, load_adapter, load_model
from ..model.amplification import amplified, check_scale
from ..model.models import LoadedModel, load_config, portable_base
from ..runs.registry import STATUS_FILE, get_run, validate_run_id

BASE = "base"  # the name of the base model in a lineup
MAX_MODELS = 8  # more columns than a page can show side by side


@dataclass(frozen=True)
class ComparedModel:
    """One column of a comparison: the base (adapter None) or an adapter on it, scaled by `scale`."""

    label: str  # what the tables call it: base, the adapter folder's name or the run id, with its scale
    adapter: Path | None = None
    scale: float = 1.0
    run: str | None = None  # the registry run the adapter came from

    @property
    def is_base(self) -> bool:
        return self.adapter is None


def _split_scale(spec: str) -> tuple[str, float | None]:
    """`NAME@s` -> (NAME, s); a name without a numeric @ suffix keeps its @."""
    name, at, tail = spec.rpartition("@")
    if not at:
        return spec, None
    try:
        return name, float(tail)
    except ValueError:
        return spec, None


def parse_model(spec: str, base: str, runs_root: str | Path | None = None) -> ComparedModel:
    """One lineup name: `base`, an adapter folder or a registry run id, optionally `@s` (amplification scale s in
    [-1, 3]; 1 = as trained, 0 = the base, -1 = inverted). GraspError in one line when it is none of these."""
    spec = spec.strip()
    if not spec:
        raise GraspError("a model name in the lineup is empty: give base, an adapter folder or a run id")
    name, scale = _split_scale(spec)
    if scale is not None:
        scale = check_scale(scale)
    if name == BASE:
        if scale is not None:
            raise GraspError(f"model {spec!r}: the base has no adapter to amplify; scale an adapter or a run instead")
        return ComparedModel(BASE)
    suffix = f"@{scale:g}" if scale is not None else ""
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / ADAPTER_CONFIG).is_file():
            raise GraspError(f"model {spec!r}: {folder} is not a PEFT adapter folder ({ADAPTER_CONFIG} is missing)")
        folder = folder.resolve()
        in_run = folder.name == "adapter" and (folder.parent / STATUS_FILE).is_file()
        named = folder.parent.name if in_run else folder.name  # a run folder's adapter/ is named by its run id
        return ComparedModel(named + suffix, folder, 1.0 if scale is None else scale)
    try:
        run = get_run(validate_run_id(name), runs_root)
    except GraspError:
        raise GraspError(
            f"model {spec!r}: not {BASE!r}, an adapter folder or a run id of the registry (`grasp runs` lists them)"
        ) from None
    try:
        adapter = run.finished_adapter()
    except GraspError as e:
        raise GraspError(f"model {spec!r}: {e}") from None
    if portable_base(run.config.base) != portable_base(base):
        raise GraspError(
            f"model {spec!r}: run {run.id} was trained on base {run.config.base}, this comparison's base is {base}"
        )
    return ComparedModel(run.id + suffix, adapter, 1.0 if scale is None else scale, run=run.id)


def lineup(specs: Sequence[str], base: str, runs_root: str | Path | None = None) -> list[ComparedModel]:
    """The models to compare, every name resolved and every adapter checked against the base (shapes, files) before
    any weights load. Refuses an empty lineup, more than MAX_MODELS and a name given twice."""
    specs = [s for s in specs if s.strip()]
    if not specs:
        raise GraspError(f"no models to compare: name at least one ({BASE}, an adapter folder or a run id)")
    if len(specs) > MAX_MODELS:
        raise GraspError(f"{len(specs)} models to compare; at most {MAX_MODELS} side by side")
    models = [parse_model(s, base, runs_root) for s in specs]
    twice = sorted({m.label for m in models if models.count(m) > 1})
    if twice:
        raise GraspError(f"model {twice[0]!r} is named twice in the lineup")
    labels = [m.label for m in models]  # two folders of one name (two organisms' naive-lora): named by their parents
    models = [
        replace(m, label=f"{m.adapter.parent.name}/{m.label}") if m.adapter and labels.count(m.label) > 1 else m
        for m in models
    ]
    config = load_config(base)
    for m in models:
        if m.adapter is not None:
            try:
                load_adapter(m.adapter, base_config=config)
            except GraspError as e:
                raise GraspError(f"model {m.label!r}: {e}") from None
    return models


@contextmanager
def loaded(m: ComparedModel, base: str, device: str | None = None) -> Iterator[LoadedModel]:
    """The model of one column for the block (the adapter's update scaled by m.scale). On exit its weights are
    released (moved to the meta device) even where the caller still holds the LoadedModel, so the next column
    never loads beside it."""
    bm = load_model(base, m.adapter, device=device)
    try:
        if m.adapter is not None and m.scale != 1.0:
            with amplified(bm.model, m.scale):
                yield bm
        else:
            yield bm
    finally:
        bm.model.to("meta")
        gc.collect()
