"""The sweep's config: which methods, strengths, naive runs and seeds, expanded into cells.

A sweep YAML (or dict) looks like:

    organism: persona            # a bundled organism's name or a folder with organism.json
    base: smollm2-135m
    seeds: [0, 1, 2]
    train: {r: 4, lora_alpha: 8, lr: 5.0e-4, batch_size: 16, epochs: 2}   # shared TrainConfig fields
    naive_runs:                  # naive LoRA fine-tunes whose factors the methods use (identification)
      naive: {}                  # the naive run itself
      rank1: {r: 1, lora_alpha: 2}
    methods:
      - {method: naive}
      - {method: grasp, top: [1, 2, 4, 8]}                       # a list is a sweep axis
      - {method: grasp, top: 4, projection: weights, weights_side: [write, both]}
      - {method: grasp, top: 4, naive_run: rank1}
      - {method: ablate, top: [1, 4]}                            # inference-time ablation, no training
      - {method: grasp, factors: /path/pick.safetensors, top: [1, 2]}  # a fixed factors file, no naive run

Entry keys are TrainConfig fields, plus `naive_run` (a name under `naive_runs`, default `naive`), `factor_scope`
(global | module), `factor_side` (write | read) and `factor_source` (weights: the naive LoRA's spectra, the default;
shift: the directions of its activation shift on the bundled unrelated prompts; both: the two, their sigma rankings
taken in turn; shift and both one round only), which choose the
factors the cell uses from its naive run, and `select_by` (sigma | evidence | suggested): the first `top` by sigma (the default), or the first `top` of the
evidence ranking of the naive run's global write factors, measured on the organism's probe files only (never on the
reported evals), or (suggested, no `top`) the set that evidence suggests, sized by its cumulative ablations:

      - {method: grasp, top: [1, 2], select_by: [sigma, evidence]}
`executor` (optional) says where the cells run: inline (this process, the default), local (a subprocess each) or
slurm (a SLURM job each, with partition, gpus_per_job, time ...; see sweep/executor.py). It is not part of the
sweep's identity (its folder, its cells), so a sweep started on one executor can be finished on another.
An entry with `factors` (a factors file, e.g. a set saved on the Select page) uses that file instead of its
naive run's factors: `top` / `select` take the file's factors in file order, as `grasp train --factors F --top K`
does, and without either the whole file (the hand-picked order is kept, so `factor_scope` / `factor_side` do not
apply); an `ablate` entry
ablates those factors on its naive run's adapter. `probes` / `probe`, the names of an earlier release, are read
with a warning.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, GraspError
from ..evaluation.organisms import MEASURES
from ..identification.choose import repeated
from ..identification.factors import load_factors
from ..identification.shift_factors import FACTOR_SOURCES
from ..io import read_yaml
from ..training.config import MAX_SEED, RENAMED, TrainConfig, renamed_fields
from ..training.methods import METHODS, OLD_METHOD_NAMES
from .executor import ExecutorConfig

SWEEP_ONLY = ("naive_run", "factor_scope", "factor_side", "factor_source", "select_by")
# Sweep keys of earlier releases, still read (with a warning): old -> current.
SWEEP_RENAMED = {"probes": "naive_runs"}
ENTRY_RENAMED = {"probe": "naive_run"}
SELECT_BY = ("sigma", "evidence", "suggested")  # how a cell picks its factors from its naive run
BY_EVIDENCE = ("evidence", "suggested")  # the rules that read the evidence ranking on the probe files
EVAL_ONLY_METHODS = ("ablate",)  # no training: the naive adapter evaluated with the factors ablated
TUPLE_FIELDS = ("target_modules", "layers", "select")  # their value is a list; a list of lists is an axis
TRAIN_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))


@dataclass(frozen=True)
class Cell:
    """One point of the sweep: a label, the method, the varied settings and the seed."""

    label: str  # e.g. "grasp top=4 projection=weights weights_side=both"; the same across seeds
    method: str
    settings: dict[str, Any]  # TrainConfig overrides of this cell (beyond the shared `train` block)
    seed: int
    naive_run: str = "naive"
    factor_scope: str = "global"
    factor_side: str = "write"
    factor_source: str = "weights"
    select_by: str = "sigma"

    @property
    def curve(self) -> str:
        """The label without the swept strength: cells on one trade-off curve share it."""
        key = _sweep_field(self.method)
        return " ".join(t for t in self.label.split(" ") if not t.startswith(f"{key}="))

    @property
    def strength_value(self) -> float | None:
        """The number a trade-off curve orders this cell by (k for factor methods, alpha/beta otherwise)."""
        value = self.settings.get(_sweep_field(self.method))
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: organism, base, seeds, shared training settings, naive runs and method entries."""

    organism: str
    methods: tuple[dict[str, Any], ...]
    base: str = "smollm2-135m"
    seeds: tuple[int, ...] = (0, 1, 2)
    train: dict[str, Any] = field(default_factory=dict)
    naive_runs: dict[str, dict[str, Any]] = field(default_factory=lambda: {"naive": {}})
    name: str | None = None
    measures: tuple[str, ...] | None = None  # the organism's measures to evaluate (default: all but free-form)
    executor: Any = None  # where the cells run: inline (default), local or slurm (sweep.executor.ExecutorConfig)
    where: str = "sweep config"  # file name, for messages

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "executor", ExecutorConfig.from_value(self.executor or "inline", f"{self.where}: executor")
        )
        if not isinstance(self.methods, list | tuple):
            raise ConfigError(
                f"{self.where}: `methods` must be a list of entries like {{method: naive}}, got {self.methods!r}"
            )
        seeds = [self.seeds] if isinstance(self.seeds, int) else self.seeds
        if not isinstance(seeds, list | tuple) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds
        ):
            raise ConfigError(f"{self.where}: `seeds` must be a list of whole numbers, got {self.seeds!r}")
        object.__setattr__(self, "seeds", tuple(seeds))
        if not isinstance(self.train, dict):
            raise ConfigError(f"{self.where}: `train` must be a mapping of training settings, got {self.train!r}")
        if not self.seeds:
            raise ConfigError(f"{self.where}: `seeds` must list at least one seed")
        twice = repeated(self.seeds)
        if twice:
            raise ConfigError(f"{self.where}: `seeds` lists seed {', '.join(map(str, twice))} twice")
        out_of_range = [s for s in self.seeds if not 0 <= s <= MAX_SEED]
        if out_of_range:
            raise ConfigError(f"{self.where}: `seeds` must lie in 0..{MAX_SEED}, got {out_of_range[0]}")
        if not isinstance(self.naive_runs, dict) or not all(isinstance(v, dict) for v in self.naive_runs.values()):
            raise ConfigError(
                f"{self.where}: `naive_runs` must map names to training settings, like {{rank1: {{r: 1}}}}, "
                f"got {self.naive_runs!r}"
            )
        # Keys and method names of earlier releases under their current names, with a warning (as from_dict reads).
        current = current_names(
            {"methods": self.methods, "train": self.train, "naive_runs": self.naive_runs}, self.where
        )
        object.__setattr__(self, "methods", tuple(current["methods"]))
        object.__setattr__(self, "train", current["train"])
        object.__setattr__(self, "naive_runs", current["naive_runs"])
        if not self.methods:
            raise ConfigError(f"{self.where}: `methods` must list at least one method")
        if self.measures is not None:
            object.__setattr__(self, "measures", tuple(self.measures))
            bad = [m for m in self.measures if m not in MEASURES]
            if bad or not self.measures:
                raise ConfigError(
                    f"{self.where}: `measures` must list some of {', '.join(MEASURES)}, got {bad or '[]'}"
                )
        if "naive" not in self.naive_runs:
            object.__setattr__(self, "naive_runs", {"naive": {}, **self.naive_runs})
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        for key in self.train:
            if key not in names or key in ("method", "data", "base", "seed"):
                raise ConfigError(f"{self.where}: `train` has unknown or reserved field `{key}`")
        for pname, naive in self.naive_runs.items():
            for key in naive:
                if key not in names or key in ("method", "data", "base", "seed", "factors"):
                    raise ConfigError(f"{self.where}: naive run `{pname}` has unknown or reserved field `{key}`")
        for i, entry in enumerate(self.methods):
            where = f"{self.where}: methods[{i}]"
            if not isinstance(entry, dict) or "method" not in entry:
                raise ConfigError(f"{where}: each entry needs a `method`")
            method = entry["method"]
            if method not in METHODS and method not in EVAL_ONLY_METHODS:
                known = ", ".join([*METHODS, *EVAL_ONLY_METHODS])
                raise ConfigError(f"{where}: unknown method {method!r}; known: {known}")
            for key in entry:
                if key != "method" and key not in names and key not in SWEEP_ONLY:
                    raise ConfigError(f"{where}: unknown field `{key}`")
                if entry[key] == []:  # an axis of no values would drop the entry without a word
                    raise ConfigError(f"{where}: `{key}` lists no values")
            naive_run = entry.get("naive_run", "naive")
            for name in naive_run if isinstance(naive_run, list) else [naive_run]:
                if name not in self.naive_runs:
                    raise ConfigError(f"{where}: naive run {name!r} is not defined under `naive_runs`")
            if "factors" in entry:
                _check_factors(entry, where)
            if "select_by" in entry:
                _check_select_by(entry, where)
            if "factor_source" in entry:
                _check_factor_source(entry, where)
        self._check_cells()

    def _check_cells(self) -> None:
        """Every cell's training config built once, with stand-ins for what the sweep fills in later (the data
        file, the naive run's factors), so a wrong type or value in any cell is named before anything trains."""
        for name, naive in self.naive_runs.items():
            try:
                TrainConfig.from_dict(
                    {
                        **self.train,
                        **naive,
                        "method": "naive",
                        "seed": self.seeds[0],
                        "base": self.base,
                        "data": "data.jsonl",
                    }
                )
            except ConfigError as e:
                raise ConfigError(f"{self.where}: naive run `{name}`: {e}") from None
        for i, entry in enumerate(self.methods):
            if entry["method"] in EVAL_ONLY_METHODS:
                continue
            for label, settings, _sweep_only in expand_entry(entry):
                method = METHODS[entry["method"]]
                stand_in = {"factors": "naive-run-factors"} if method.needs_factors else {}
                if method.needs_system_prompt:  # the organism's `inoculation` unless the entry gives one
                    stand_in["system_prompt"] = "the organism's inoculation prompt"
                try:
                    TrainConfig.from_dict(
                        {
                            **self.train,
                            **stand_in,
                            **settings,
                            "method": entry["method"],
                            "seed": self.seeds[0],
                            "base": self.base,
                            "data": "data.jsonl",
                        }
                    )
                except ConfigError as e:
                    raise ConfigError(f"{self.where}: methods[{i}] ({label}): {e}") from None

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "sweep config") -> SweepConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        d = current_names(d, where)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
        if "organism" not in d or "methods" not in d:
            raise ConfigError(f"{where}: needs `organism` and `methods`")
        return cls(**{**d, "where": where})

    @classmethod
    def from_yaml(cls, path: str | Path) -> SweepConfig:
        data = read_yaml(path, what="sweep config")
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        return cls.from_dict(data, where=str(path))

    def to_dict(self) -> dict[str, Any]:
        """The config as YAML would hold it (no `executor` when it runs inline)."""
        d = dataclasses.asdict(self)
        d.pop("where")
        d.pop("executor")
        if self.executor.kind != "inline":
            d["executor"] = self.executor.to_value()
        d["methods"], d["seeds"] = list(self.methods), list(self.seeds)
        if self.measures is not None:
            d["measures"] = list(self.measures)
        return d

    def cells(self) -> list[Cell]:
        """Every cell: each entry's list-valued fields expanded as a grid, times the seeds, seed-major (every
        configuration of seed 0 first), so a sweep stopped part-way has the whole picture for its first seeds."""
        cells = [
            Cell(label=label, method=entry["method"], settings=values, seed=seed, **sweep_only)
            for entry in self.methods
            for label, values, sweep_only in expand_entry(entry)
            for seed in self.seeds
        ]
        return sorted(cells, key=lambda c: self.seeds.index(c.seed))  # stable: YAML order within a seed


def current_names(d: dict[str, Any], where: str) -> dict[str, Any]:
    """A sweep config dict with the keys of earlier releases (top level, `train`, naive runs, method entries) under
    their current names, warning once per old name; every reader of a sweep.json or YAML goes through it."""
    d = renamed_fields(d, where, SWEEP_RENAMED)
    if isinstance(d.get("methods"), list | tuple):
        d["methods"] = [_current_entry(e, f"{where}: methods[{i}]") for i, e in enumerate(d["methods"])]
    if isinstance(d.get("train"), dict):
        d["train"] = renamed_fields(d["train"], f"{where}: train")
    if isinstance(d.get("naive_runs"), dict):
        d["naive_runs"] = {
            k: renamed_fields(v, f"{where}: naive run `{k}`") if isinstance(v, dict) else v
            for k, v in d["naive_runs"].items()
        }
    return d


def _current_entry(entry: Any, where: str) -> Any:
    """A method entry with the keys and method names of earlier releases under their current names (warned)."""
    if not isinstance(entry, dict):
        return entry
    entry = renamed_fields(entry, where, {**RENAMED, **ENTRY_RENAMED})
    if entry.get("method") in OLD_METHOD_NAMES:
        old = entry["method"]
        warnings.warn(
            f"{where}: method `{old}` is now `{OLD_METHOD_NAMES[old]}`; the old name is read for now", stacklevel=3
        )
        entry["method"] = OLD_METHOD_NAMES[old]
    return entry


def _entry_rank(key: str) -> tuple[int, int]:
    """Where a method entry's key goes in the canonical order: TrainConfig's fields in their order, then the
    sweep-only ones in theirs, then any other key (a stable sort keeps those in entry order)."""
    if key in TRAIN_FIELDS:
        return (0, TRAIN_FIELDS.index(key))
    return (1, SWEEP_ONLY.index(key)) if key in SWEEP_ONLY else (2, 0)


def expand_entry(entry: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """A method entry's grid: (label, TrainConfig settings, sweep-only settings) for every combination of its
    list-valued fields (the axes), its keys in the canonical order (_entry_rank) whatever order the entry was
    written in, so the YAML and the sweep.json that stores it (keys sorted) give the same cells, labels and keys.
    Shared by sweeps and the dashboard's launch form."""
    entry = {k: entry[k] for k in sorted(entry, key=_entry_rank)}
    axes = {k: v for k, v in entry.items() if k != "method" and _is_axis(k, v)}
    fixed = {k: v for k, v in entry.items() if k != "method" and k not in axes}
    out = []
    for combo in itertools.product(*axes.values()) if axes else [()]:
        values = {**fixed, **dict(zip(axes, combo, strict=True))}
        sweep_only = {k: values.pop(k) for k in SWEEP_ONLY if k in values}
        shown = {**values, **sweep_only}
        label = " ".join([entry["method"], *(f"{k}={_fmt(v, k)}" for k, v in shown.items())])
        out.append((label, values, sweep_only))
    return out


def absolute_sweep(config: SweepConfig) -> SweepConfig:
    """The config with an organism folder, a base folder and fixed factors files made absolute, so a process
    started anywhere finds them (bundled names and hub ids stay as they are)."""

    def absolute(path: Any) -> Any:
        return str(Path(path).expanduser().resolve()) if isinstance(path, str) else path

    d = config.to_dict()
    if (Path(config.organism).expanduser() / "organism.json").is_file():
        d["organism"] = absolute(config.organism)
    if Path(config.base).expanduser().exists():
        d["base"] = absolute(config.base)
    methods = []
    for entry in config.methods:
        entry = dict(entry)
        if "factors" in entry:
            f = entry["factors"]
            entry["factors"] = [absolute(x) for x in f] if isinstance(f, list) else absolute(f)
        methods.append(entry)
    d["methods"] = methods
    return SweepConfig.from_dict(d, where=config.where)


def _sweep_field(method: str) -> str:
    spec = METHODS.get(method)
    return spec.sweep_field if spec is not None else "top"  # ablate: k factors


def _is_axis(key: str, value: Any) -> bool:
    if key in TUPLE_FIELDS:
        return isinstance(value, list) and bool(value) and all(isinstance(v, list) for v in value)
    return isinstance(value, list)


def _check_factors(entry: dict[str, Any], where: str) -> None:
    """A fixed `factors` entry: a method that uses factors, no naive-run-only choosers, every file present."""
    method = entry["method"]
    if method not in EVAL_ONLY_METHODS and not METHODS[method].needs_factors:
        raise ConfigError(f"{where}: `factors` is given, but method `{method}` uses no factors")
    for key in ("factor_scope", "factor_side"):
        if key in entry:
            raise ConfigError(
                f"{where}: `{key}` chooses among a naive run's factors; with a fixed `factors` file, "
                "`top` / `select` take the file's factors in file order (drop one of the two)"
            )
    files = entry["factors"] if isinstance(entry["factors"], list) else [entry["factors"]]
    for f in files:
        if not isinstance(f, str) or not f:
            raise ConfigError(f"{where}: `factors` must name a factors file (.safetensors), got {f!r}")
        if not Path(f).expanduser().is_file():
            raise ConfigError(
                f"{where}: `factors` file {f} not found (give a factors .safetensors from "
                "`grasp identify`, or a set saved on the Select page)"
            )
        try:
            load_factors(Path(f).expanduser())  # its contents too: before anything is evaluated or trained
        except GraspError as e:
            raise ConfigError(f"{where}: {e}") from None


def _factor_chooser(entry: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> list[Any]:
    """The values of an entry's key that chooses among a naive run's factors (one or an axis), each allowed, on a
    method that uses factors."""
    values = entry[key] if isinstance(entry[key], list) else [entry[key]]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ConfigError(f"{where}: `{key}` must be one of {', '.join(allowed)}, got {bad[0]!r}")
    method = entry["method"]
    if method not in EVAL_ONLY_METHODS and not METHODS[method].needs_factors:
        raise ConfigError(f"{where}: `{key}` is given, but method `{method}` uses no factors")
    return values


def _check_factor_source(entry: dict[str, Any], where: str) -> None:
    """`factor_source` says where a naive run's candidates come from: a known source, a method that uses factors,
    no fixed file, one round (later rounds identify in the round's weights)."""
    values = _factor_chooser(entry, "factor_source", FACTOR_SOURCES, where)
    if "factors" in entry:
        raise ConfigError(f"{where}: `factor_source` chooses a naive run's candidates; drop it or the `factors` file")
    rounds = entry.get("rounds", 1)
    if set(values) - {"weights"} and any(int(r) > 1 for r in (rounds if isinstance(rounds, list) else [rounds])):
        raise ConfigError(
            f"{where}: `factor_source: shift` or `both` takes one round's factors (a later round identifies in the round's "
            "weights); use rounds: 1"
        )


def _check_select_by(entry: dict[str, Any], where: str) -> None:
    """`select_by` picks among a naive run's factors: a known rule, a method that uses factors, no fixed file."""
    values = _factor_chooser(entry, "select_by", SELECT_BY, where)
    if "factors" in entry or "select" in entry:
        raise ConfigError(
            f"{where}: `select_by` picks the first `top` of a naive run's factors; it does not apply "
            "with a fixed `factors` file or `select` indices"
        )
    if set(values) & set(BY_EVIDENCE) and entry.get("factor_scope", "global") != "global":
        raise ConfigError(f"{where}: `select_by: evidence` ranks global write factors; drop `factor_scope`")
    if set(values) & set(BY_EVIDENCE) and entry.get("factor_side", "write") != "write":
        raise ConfigError(f"{where}: `select_by: evidence` ranks global write factors; drop `factor_side`")
    if "suggested" in values and "top" in entry:
        raise ConfigError(
            f"{where}: `select_by: suggested` takes the set the evidence suggests, sized by the evidence; give it an "
            "entry of its own without `top`"
        )
    if "top" not in entry and "suggested" not in values:
        raise ConfigError(f"{where}: `select_by` picks the first `top` factors; give `top` (e.g. top: [1, 2])")


def _fmt(v: Any, key: str = "") -> str:
    if key == "factors" and isinstance(v, str):
        return Path(v).stem  # labels stay short: the set's name, not its whole path
    if isinstance(v, list | tuple):
        return ",".join(map(str, v))
    return str(v)
