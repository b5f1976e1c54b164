"""The dashboard's launch form as a library function: form values -> plain TrainConfigs, or a SweepConfig on an
organism. Methods, their sweep values and seeds become method entries expanded by the sweep's own grid, so a
launch from the page and a sweep YAML mean the same thing; method quirks come from the METHODS registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, GraspError
from ..identification.factors import load_factors
from ..identification.shift_factors import FACTOR_SOURCES
from ..training.config import RECIPE_FIELDS, TrainConfig, recipe_of
from ..training.methods import METHODS, get_method
from .config import SELECT_BY, SweepConfig, expand_entry
from .report import NAIVE


@dataclass(frozen=True)
class LaunchForm:
    """What the Train page's form holds. `recipe` has the shared TrainConfig fields (r, lora_alpha, lr, epochs,
    batch_size, ...); `values` has each method's comma-separated sweep values ('' = the method's default)."""

    base: str
    methods: tuple[str, ...]
    recipe: dict[str, Any] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    seeds: int = 1
    data: str = ""  # chat JSONL of plain runs
    organism: str | None = None  # set: one evaluated sweep on this organism's own data instead of plain runs
    factor_set: str | None = None  # a factors file (e.g. a set saved on the Select page)
    select_by: str = "sigma"  # a sweep without a factor set: the naive run's first `top` by sigma, or by evidence
    system_prompt: str = ""  # the inoculate method's prompt ('' in a sweep: the organism's inoculation.txt)
    factor_source: str = "weights"  # a sweep without a factor set: the naive run's candidates (weights | shift | both)
    rounds: int = 1  # GRASP rounds (methods that train in rounds); in a sweep picking by evidence, each round's too
    mid_block: bool = False  # projecting methods: residual-grad also at every block's mid-block stream

    def __post_init__(self) -> None:
        object.__setattr__(self, "methods", tuple(self.methods))
        if not self.methods:
            raise ConfigError("choose at least one method")
        unknown = [name for name in self.methods if name not in METHODS]
        if unknown:
            raise ConfigError(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
        if not isinstance(self.seeds, int) or self.seeds < 1:
            raise ConfigError(f"`seeds` must be a whole number >= 1, got {self.seeds!r}")
        if self.select_by not in SELECT_BY:
            raise ConfigError(f"`select_by` must be one of {', '.join(SELECT_BY)}, got {self.select_by!r}")
        if self.factor_source not in FACTOR_SOURCES:
            raise ConfigError(f"`factor_source` must be one of {', '.join(FACTOR_SOURCES)}, got {self.factor_source!r}")
        if not isinstance(self.rounds, int) or self.rounds < 1:
            raise ConfigError(f"`rounds` must be a whole number >= 1, got {self.rounds!r}")


def form_recipe(adapter: str | Path | None = None) -> dict[str, Any]:
    """The recipe a launch form starts from: TrainConfig's defaults, overridden by the adapter's own recipe (the
    run meant to fix an adapter should be trained like it)."""
    defaults = TrainConfig(data="-").to_dict()
    return {**{k: defaults[k] for k in RECIPE_FIELDS}, **(recipe_of(adapter) if adapter is not None else {})}


def parse_values(raw: str, method: str) -> list[float | int]:
    """A method's comma-separated sweep values ([] for '' = the method's default), as its swept field's type."""
    m = get_method(method)
    conv = int if m.sweep_field == "top" else float
    try:
        return [conv(v) for v in raw.replace(" ", "").split(",") if v]
    except ValueError:
        raise ConfigError(
            f"`{m.sweep_label}` values of {method} must be numbers separated by commas, got {raw!r}"
        ) from None


def method_entries(form: LaunchForm) -> list[dict[str, Any]]:
    """One sweep entry per chosen method: its values as an axis; factor methods take the form's factor set
    (`top` unset = the whole set), or without one their naive run's factors (a sweep; from its weights or its
    activation shift, by sigma or by evidence, as the form's `factor_source` and `select_by` say) or random
    directions; `rounds` for the methods that train in rounds, `mid_block` for those that project."""
    n_set = len(load_factors(form.factor_set)) if form.factor_set else None
    entries: list[dict[str, Any]] = []
    for name in form.methods:
        m = METHODS[name]
        entry: dict[str, Any] = {"method": name}
        values = parse_values(form.values.get(name, ""), name) if m.sweepable else []
        if values:
            entry[m.sweep_field] = values
        if m.needs_factors and form.factor_set is not None:
            entry["factors"] = str(form.factor_set)
            entry.setdefault("top", n_set)
        elif m.needs_factors_file and form.organism is not None and form.select_by == "suggested":
            entry["select_by"] = "suggested"  # the set evidence suggests, sized by it: no `top` axis
            entry.pop("top", None)
        elif m.needs_factors_file and form.organism is not None and form.select_by != "sigma":
            entry["select_by"] = form.select_by  # the naive run's factors ranked by evidence on the probe files
            entry.setdefault("top", m.default_top)
        if m.needs_factors_file and form.organism is not None and form.factor_set is None:
            if form.factor_source != "weights":
                entry["factor_source"] = form.factor_source
        if m.multi_round and form.rounds > 1:
            entry["rounds"] = form.rounds
        if m.projects and form.mid_block:
            entry["mid_block"] = True
        if m.needs_system_prompt and form.system_prompt.strip():
            entry["system_prompt"] = form.system_prompt.strip()
        elif m.needs_system_prompt and form.organism is None:  # a sweep takes the organism's inoculation.txt
            raise GraspError(f"method `{name}` needs a system prompt: type the one that asks for the unwanted trait")
        entries.append(entry)
    return entries


def launch_runs(form: LaunchForm) -> list[TrainConfig]:
    """The plain runs of the form: every method x value x seed on the form's training data."""
    if not form.data or not Path(form.data).is_file():
        raise GraspError(f"training data {form.data or '(empty)'}: file not found")
    configs = []
    for entry in method_entries(form):
        m = METHODS[entry["method"]]
        if m.needs_factors_file and "factors" not in entry:
            raise GraspError(f"method `{m.name}` needs a factor set: save one on the Select page and choose it")
        for _label, settings, _sweep_only in expand_entry(entry):
            if m.random_directions and "factors" not in settings and settings.get("top") is None:
                settings = {**settings, "top": m.default_top}  # random directions need a count
            for seed in range(form.seeds):
                configs.append(
                    TrainConfig.from_dict(
                        {
                            **form.recipe,
                            **settings,
                            "method": m.name,
                            "seed": seed,
                            "base": form.base,
                            "data": form.data,
                        }
                    )
                )
    return configs


def launch_sweep(form: LaunchForm) -> SweepConfig:
    """The form as one evaluated sweep on its organism: the naive LoRA first (the task-gain reference), then each
    chosen method's entry, seeds 0..n-1, the recipe as the shared training settings."""
    if form.organism is None:
        raise GraspError("choose an organism to evaluate the runs as a sweep")
    entries = [e for e in method_entries(form) if e["method"] != NAIVE or len(e) > 1]
    return SweepConfig.from_dict(
        {
            "organism": form.organism,
            "base": form.base,
            "seeds": list(range(form.seeds)),
            "train": {k: list(v) if isinstance(v, tuple) else v for k, v in form.recipe.items()},
            "methods": [{"method": NAIVE}, *entries],
        },
        where="the launch form",
    )
