"""The fine-tuning step's config: one frozen, validated dataclass, with help texts the CLI builds its flags from."""

from __future__ import annotations

import argparse
import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, check_field_types
from ..identification.choose import parse_indices, repeated
from .methods import METHODS, OLD_METHOD_NAMES, PROJECTIONS, WEIGHTS_SIDES, current_method

DTYPES = ("float32", "bfloat16", "float16")
SCHEDULES = ("cosine", "linear")
# How rounds after the first pick their new factors: the round adapter's largest (sigma), or its new candidates
# ranked by evidence on an organism's probe files (GRASP.md 2: the largest sigma is not the spurious factor).
ROUND_SELECTS = ("sigma", "evidence")
MAX_SEED = 2**32 - 1  # seeds of the data order and LoRA init (torch.Generator takes them scaled by about 10^6)
# Names of earlier releases, still read (with a warning) from JSON, YAML and flags: old -> current.
RENAMED = {"iterate": "rounds", "side": "weights_side"}
# The TrainConfig an adapter was trained with, written beside adapter_config.json (PEFT ignores other files),
# so a run launched to fix that adapter can start from the same recipe.
RECIPE_FILE = "grasp_train_config.json"
# The fields of a recipe: how the LoRA was trained, not on what data or with which method.
RECIPE_FIELDS = (
    "r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "layers",
    "use_rslora",
    "lr",
    "epochs",
    "batch_size",
    "grad_accum",
    "warmup_ratio",
    "schedule",
    "weight_decay",
    "max_grad_norm",
    "max_length",
)


def renamed_fields(d: dict[str, Any], where: str, renamed: dict[str, str] = RENAMED) -> dict[str, Any]:
    """`d` with the fields of earlier releases (`renamed`: old -> current) under their current names, warning once
    per old name."""
    out = dict(d)
    for old, new in renamed.items():
        if old in out:
            warnings.warn(f"{where}: `{old}` is now called `{new}`; the old name is read for now", stacklevel=3)
            value = out.pop(old)
            out.setdefault(new, value)
    return out


def _f(default: Any, help: str, **kw: Any) -> Any:
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class TrainConfig:
    """Everything a fine-tuning run needs; `method` picks a registry entry of grasp_core.training.methods."""

    data: str = field(metadata={"help": "chat JSONL file (messages format); loss on assistant tokens only"})
    base: str = _f("smollm2-135m", "base alias, model folder, .gguf or hub id")
    method: str = _f("naive", f"one of {', '.join(METHODS)}")
    factors: str | None = _f(None, "factors file (.safetensors from `grasp identify`)")
    select: tuple[int, ...] | None = _f(
        None, "indices of the factors to use, comma-separated: 0,2", nargs="+", metavar="I,J"
    )
    top: int | None = _f(
        None,
        "use the first K factors of the file (random: K random directions); default: "
        "the method's (grasp, random, caft 4; steer 1)",
        type=int,
    )
    projection: str = _f("residual-grad", f"grasp projection: {' | '.join(PROJECTIONS)}")
    weights_side: str = _f("write", f"which modules the weights projection constrains: {' | '.join(WEIGHTS_SIDES)}")
    mid_block: bool = _f(
        False,
        "residual-grad projection also at every block's mid-block stream (after attention, before the MLP), so the "
        "attention gets no gradient along the factors through its block's MLP",
    )
    strength: float | None = _f(None, "method strength (steer alpha, kl beta); default: the method's", type=float)
    rounds: int | None = _f(
        None,
        "train, add the last adapter's new top factors, train again from the base, this "
        "many times; default: the method's (1)",
        type=int,
    )
    round_select: str = _f(
        "sigma",
        "how rounds after the first pick their new factors: sigma (the round adapter's largest new global write "
        "factors) | evidence (its new candidates ranked by evidence on the probe files of `round_probes`; none "
        "added where that adapter no longer moves the probe)",
    )
    round_probes: str | None = _f(
        None, "organism folder whose probe files rank each round's candidates (with round_select evidence)"
    )
    system_prompt: str | None = _f(
        None,
        "a system turn put first in every training chat (the inoculate method's prompt asking for the unwanted "
        "trait; evaluation never sees it)",
    )
    r: int = _f(8, "LoRA rank", type=int)
    lora_alpha: float = _f(16.0, "LoRA alpha (scale alpha/r, or alpha/sqrt(r) with rsLoRA)", type=float)
    lora_dropout: float = _f(0.0, "dropout on the LoRA input", type=float)
    target_modules: tuple[str, ...] = _f(
        ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        "module leaf names to adapt",
        nargs="+",
    )
    layers: tuple[int, ...] | None = _f(None, "decoder layers to adapt (default: all)", nargs="+", type=int)
    use_rslora: bool = _f(False, "rank-stabilised LoRA scale alpha/sqrt(r)")
    lr: float = _f(2e-4, "peak learning rate (AdamW)", type=float)
    epochs: int = _f(1, "passes over the data", type=int)
    batch_size: int = _f(8, "examples per micro-batch, summed over all data-parallel processes", type=int)
    grad_accum: int = _f(1, "micro-batches per optimizer step", type=int)
    warmup_ratio: float = _f(0.05, "share of steps with linear warm-up", type=float)
    schedule: str = _f("cosine", f"decay after warm-up: {' | '.join(SCHEDULES)}")
    weight_decay: float = _f(0.0, "AdamW weight decay", type=float)
    max_grad_norm: float = _f(1.0, "gradient clipping norm (0: off)", type=float)
    max_length: int = _f(512, "tokens per example; longer ones are truncated and counted", type=int)
    seed: int = _f(0, "seed of LoRA init, data order and random directions", type=int)
    eval_every: int = _f(0, "steps between on_eval calls (0: off)", type=int)
    checkpoint_every: int = _f(0, "steps between checkpoints (0: only on stop)", type=int)
    device: str | None = _f(None, "cpu | cuda | cuda:N | mps (default: automatic)")
    dtype: str | None = _f(None, f"{' | '.join(DTYPES)} (default: automatic)")

    def __post_init__(self) -> None:
        # `lora`, the naive method's name in earlier releases, is read silently here (stored run configs hold it);
        # the CLI and sweep YAMLs, where a person types it, warn.
        object.__setattr__(self, "method", current_method(self.method))
        # Lists from JSON or argparse become tuples, so the config stays hashable and comparable.
        for name in ("select", "target_modules", "layers"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        method = METHODS.get(self.method)
        if method is not None:  # unset `rounds` / `top` take the method's defaults (an unknown method fails below)
            if self.rounds is None:
                object.__setattr__(self, "rounds", method.default_rounds)
            if self.top is None and self.select is None and self.factors is not None and method.default_top:
                object.__setattr__(self, "top", method.default_top)
        self._validate()

    def _validate(self) -> None:
        def bad(name: str, why: str) -> ConfigError:
            return ConfigError(f"`{name}` {why}, got {getattr(self, name)!r}")

        check_field_types(self)  # `r: "four"` from a YAML or JSON is named here, not at run time

        if not isinstance(self.data, str) or not self.data:
            raise bad("data", "must name a chat JSONL file")
        if self.method not in METHODS:
            raise bad("method", f"must be one of {', '.join(METHODS)}")
        if self.projection not in PROJECTIONS:
            raise bad("projection", f"must be one of {', '.join(PROJECTIONS)}")
        if self.weights_side not in WEIGHTS_SIDES:
            raise bad("weights_side", f"must be one of {', '.join(WEIGHTS_SIDES)}")
        if self.schedule not in SCHEDULES:
            raise bad("schedule", f"must be one of {', '.join(SCHEDULES)}")
        if self.dtype is not None and self.dtype not in DTYPES:
            raise bad("dtype", f"must be one of {', '.join(DTYPES)} or None")
        if self.select is not None and self.top is not None:
            raise bad("select", "and `top` exclude each other")
        if self.select is not None and (not self.select or any(int(i) < 0 for i in self.select)):
            raise bad("select", "must be a non-empty list of indices >= 0")
        if self.select is not None and repeated(self.select):
            raise bad("select", "names an index twice")
        if not 0 <= self.seed <= MAX_SEED:
            raise bad("seed", f"must lie in 0..{MAX_SEED}")
        if self.select is not None and self.factors is None:
            raise bad("select", "needs a factors file (`factors`) to select from")
        if self.top is not None and self.top < 1:
            raise bad("top", "must be at least 1")
        method = METHODS[self.method]
        if self.mid_block and (not method.projects or self.projection != "residual-grad"):
            projecting = ", ".join(m.name for m in METHODS.values() if m.projects)
            raise bad("mid_block", f"is a point of the residual-grad projection ({projecting} with that projection)")
        if self.system_prompt is not None and (
            not isinstance(self.system_prompt, str) or not self.system_prompt.strip()
        ):
            raise bad("system_prompt", "must be a non-empty text when given")
        if method.needs_system_prompt and self.system_prompt is None:
            raise bad("system_prompt", f"is required by method `{self.method}` (the prompt that asks for the trait)")
        if method.needs_factors and self.factors is None:
            if not method.random_directions:
                raise bad("factors", f"is required by method `{self.method}`")
            if self.top is None:
                raise bad("top", f"is needed by method `{self.method}` without a factors file (how many directions)")
        if self.rounds is None or self.rounds < 1:
            raise bad("rounds", "must be at least 1")
        if self.rounds > 1 and not method.multi_round:
            multi = ", ".join(m.name for m in METHODS.values() if m.multi_round)
            raise bad("rounds", f"must be 1 for method `{self.method}` (only {multi} train in rounds)")
        if self.round_select not in ROUND_SELECTS:
            raise bad("round_select", f"must be one of {', '.join(ROUND_SELECTS)}")
        if self.round_select == "evidence" and self.rounds < 2:
            raise bad("round_select", "evidence ranks the candidates of the rounds after the first: needs `rounds` > 1")
        if (self.round_select == "evidence") != (self.round_probes is not None):
            raise bad("round_probes", "names the organism whose probe files rank each round (round_select evidence)")
        for name in ("r", "epochs", "batch_size", "grad_accum", "max_length"):
            if int(getattr(self, name)) < 1:
                raise bad(name, "must be at least 1")
        if self.max_length < 8:
            raise bad("max_length", "must be at least 8")
        for name in ("lr", "lora_alpha"):
            if not float(getattr(self, name)) > 0:
                raise bad(name, "must be > 0")
        for name in ("weight_decay", "max_grad_norm", "eval_every", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise bad(name, "must be >= 0")
        if not 0 <= self.warmup_ratio < 1:
            raise bad("warmup_ratio", "must be in [0, 1)")
        if not 0 <= self.lora_dropout < 1:
            raise bad("lora_dropout", "must be in [0, 1)")
        if not self.target_modules:
            raise bad("target_modules", "must name at least one module")
        if self.layers is not None and any(int(i) < 0 for i in self.layers):
            raise bad("layers", "must be indices >= 0")
        if self.strength is not None and self.strength < 0:
            raise bad("strength", "must be >= 0")

    @property
    def n_rounds(self) -> int:
        """`rounds` after the method default (always set once constructed)."""
        return int(self.rounds or 1)

    @property
    def effective_strength(self) -> float:
        """`strength`, or the method's default when unset."""
        return float(self.strength) if self.strength is not None else METHODS[self.method].strength_default

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a dict: unknown keys warn and are ignored, missing required ones raise ConfigError; fields of
        earlier releases (`iterate`, `side`) are read under their current names."""
        d = renamed_fields(d, "train config")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            warnings.warn(f"TrainConfig: ignoring unknown keys {', '.join(unknown)}", stacklevel=2)
        missing = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in d
        ]
        if missing:
            raise ConfigError(f"train config: missing required field(s) {', '.join(missing)}")
        try:
            return cls(**{k: v for k, v in d.items() if k in names})
        except (ValueError, TypeError) as e:
            raise ConfigError(f"train config: {e}") from None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add one flag per field (--data, --lora-alpha, ...), each defaulting to None = the dataclass default."""
        for f in dataclasses.fields(cls):
            meta = dict(f.metadata)
            flag = "--" + f.name.replace("_", "-")
            help_text = meta.pop("help", "")
            if f.default is not dataclasses.MISSING and f.default is not None:
                default = " ".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
                help_text += f" (default: {default})"
            if f.name == "data":
                parser.add_argument(flag, dest=f.name, default=None, required=False, help=help_text)
            elif f.type in ("bool", bool):
                parser.add_argument(
                    flag, dest=f.name, default=None, action=argparse.BooleanOptionalAction, help=help_text
                )
            else:
                parser.add_argument(flag, dest=f.name, default=None, help=help_text, **meta)
        for old, new in RENAMED.items():  # flags of earlier releases, read with a warning
            field = next(f for f in dataclasses.fields(cls) if f.name == new)
            kw = {k: v for k, v in field.metadata.items() if k != "help"}
            parser.add_argument("--" + old, dest=f"_old_{old}", default=None, help=argparse.SUPPRESS, **kw)

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> TrainConfig:
        """The config from parsed flags: flags left unset keep the dataclass defaults."""
        given = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if getattr(ns, f.name, None) is not None}
        if given.get("method") in OLD_METHOD_NAMES:
            old = given["method"]
            warnings.warn(
                f"--method {old} is now --method {OLD_METHOD_NAMES[old]}; the old name is read for now", stacklevel=2
            )
        if "select" in given:  # "0,2" as every verb takes it; "0 2" (earlier releases) read with a warning
            if len(given["select"]) > 1:
                spaced = " ".join(given["select"])
                warnings.warn(f"--select {spaced} is now --select {spaced.replace(' ', ',')}", stacklevel=2)
            given["select"] = parse_indices(",".join(given["select"]))
        for old, new in RENAMED.items():
            if getattr(ns, f"_old_{old}", None) is not None:
                warnings.warn(f"--{old} is now --{new.replace('_', '-')}; the old flag is read for now", stacklevel=2)
                given.setdefault(new, getattr(ns, f"_old_{old}"))
        return cls.from_dict(given)


def recipe_of(adapter_dir: str | Path) -> dict[str, Any]:
    """The training recipe (RECIPE_FIELDS) of an adapter folder: its grasp_train_config.json when grasp trained it,
    else what adapter_config.json tells (rank, alpha, targets, layers); {} when neither is readable."""
    folder = Path(adapter_dir)
    for name, fields in ((RECIPE_FILE, None), ("adapter_config.json", {"layers_to_transform": "layers"})):
        try:
            d = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(d, dict):
            continue
        d = {(fields or {}).get(k, k): v for k, v in d.items()}
        out = {k: d[k] for k in RECIPE_FIELDS if d.get(k) is not None}
        if isinstance(out.get("target_modules"), list):
            out["target_modules"] = tuple(sorted(out["target_modules"]))
        return out
    return {}
