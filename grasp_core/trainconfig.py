"""The fine-tuning step's config: one frozen, validated dataclass, with help texts the CLI builds its flags from."""

from __future__ import annotations

import argparse
import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import GraspError
from .methods import METHODS, PROJECTIONS, SIDES

DTYPES = ("float32", "bfloat16", "float16")
SCHEDULES = ("cosine", "linear")


def _f(default: Any, help: str, **kw: Any) -> Any:
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class TrainConfig:
    """Everything a fine-tuning run needs; `method` picks a registry entry of grasp_core.methods."""

    data: str = field(metadata={"help": "chat JSONL file (messages format); loss on assistant tokens only"})
    base: str = _f("smollm2-135m", "base alias, model folder, .gguf or hub id")
    method: str = _f("lora", f"one of {', '.join(METHODS)}")
    factors: str | None = _f(None, "factors file (.safetensors from `grasp identify`)")
    select: tuple[int, ...] | None = _f(None, "indices of the factors to use", nargs="+", type=int)
    top: int | None = _f(None, "use the first K factors of the file (random: K random directions); default: "
                         "the method's (grasp, random, steer 1; caft 4)", type=int)  # fmt: skip
    projection: str = _f("residual-grad", f"grasp projection: {' | '.join(PROJECTIONS)}")
    side: str = _f("write", f"weights projection side: {' | '.join(SIDES)}")
    strength: float | None = _f(None, "method strength (steer alpha, kl beta); default: the method's", type=float)
    iterate: int | None = _f(None, "rounds: identify the last adapter's new top factors, add them, retrain; "
                             "default: the method's (1)", type=int)  # fmt: skip
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
        # Lists from JSON or argparse become tuples, so the config stays hashable and comparable.
        for name in ("select", "target_modules", "layers"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        method = METHODS.get(self.method)
        if method is not None:  # unset `iterate` / `top` take the method's defaults (an unknown method fails below)
            if self.iterate is None:
                object.__setattr__(self, "iterate", method.default_iterate)
            if self.top is None and self.select is None and self.factors is not None and method.default_top:
                object.__setattr__(self, "top", method.default_top)
        self._validate()

    def _validate(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"`{name}` {why}, got {getattr(self, name)!r}")

        if not isinstance(self.data, str) or not self.data:
            raise bad("data", "must name a chat JSONL file")
        if self.method not in METHODS:
            raise bad("method", f"must be one of {', '.join(METHODS)}")
        if self.projection not in PROJECTIONS:
            raise bad("projection", f"must be one of {', '.join(PROJECTIONS)}")
        if self.side not in SIDES:
            raise bad("side", f"must be one of {', '.join(SIDES)}")
        if self.schedule not in SCHEDULES:
            raise bad("schedule", f"must be one of {', '.join(SCHEDULES)}")
        if self.dtype is not None and self.dtype not in DTYPES:
            raise bad("dtype", f"must be one of {', '.join(DTYPES)} or None")
        if self.select is not None and self.top is not None:
            raise bad("select", "and `top` exclude each other")
        if self.select is not None and (not self.select or any(int(i) < 0 for i in self.select)):
            raise bad("select", "must be a non-empty list of indices >= 0")
        if self.select is not None and self.factors is None:
            raise bad("select", "needs a factors file (`factors`) to select from")
        if self.top is not None and self.top < 1:
            raise bad("top", "must be at least 1")
        method = METHODS[self.method]
        if method.needs_factors:
            if self.method == "random" and self.factors is None and self.top is None:
                raise bad("top", "is needed by method `random` without a factors file (how many directions)")
            if self.method != "random" and self.factors is None:
                raise bad("factors", f"is required by method `{self.method}`")
        if self.iterate is None or self.iterate < 1:
            raise bad("iterate", "must be at least 1")
        if self.iterate > 1 and not method.iterable:
            raise bad("iterate", f"must be 1 for method `{self.method}` (only grasp iterates)")
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
    def rounds(self) -> int:
        """`iterate` after the method default (always set once constructed)."""
        return int(self.iterate or 1)

    @property
    def effective_strength(self) -> float:
        """`strength`, or the method's default when unset."""
        return float(self.strength) if self.strength is not None else METHODS[self.method].strength_default

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a dict: unknown keys warn and are ignored, missing required ones raise GraspError."""
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
            raise GraspError(f"train config: missing required field(s) {', '.join(missing)}")
        try:
            return cls(**{k: v for k, v in d.items() if k in names})
        except ValueError as e:
            raise GraspError(f"train config: {e}") from None

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

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> TrainConfig:
        """The config from parsed flags: flags left unset keep the dataclass defaults."""
        given = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if getattr(ns, f.name, None) is not None}
        return cls.from_dict(given)
