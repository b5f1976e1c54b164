"""PEFT LoRA adapter folders in: per-module A, B and scale, checked against the base, classified write/read."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import load_file
from torch import Tensor

from ..errors import GraspError
from ..io import file_hash, read_json
from .models import LoadedModel, load_base, load_config, unwrap

Side = Literal["write", "read", "other"]

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_WEIGHTS_PICKLE = "adapter_model.bin"

# Leaf module name -> side. Write modules add their output to the residual stream; read modules take it as input.
# llama / qwen2 / mistral / gemma: o_proj, down_proj write; q/k/v/gate/up read.
# gpt2: attn.c_proj and mlp.c_proj write; c_attn, c_fc read (Conv1D, fan_in_fan_out).
# gpt-neox: attention.dense, mlp.dense_4h_to_h write; query_key_value, dense_h_to_4h read.
# phi / opt style: out_proj, fc2 write; fc1 read. phi3: qkv_proj, gate_up_proj read.
MODULE_SIDES: dict[str, Side] = {
    "o_proj": "write",
    "down_proj": "write",
    "c_proj": "write",
    "dense": "write",
    "dense_4h_to_h": "write",
    "out_proj": "write",
    "fc2": "write",
    "w2": "write",
    "q_proj": "read",
    "k_proj": "read",
    "v_proj": "read",
    "gate_proj": "read",
    "up_proj": "read",
    "c_attn": "read",
    "c_fc": "read",
    "query_key_value": "read",
    "dense_h_to_4h": "read",
    "fc1": "read",
    "qkv_proj": "read",
    "gate_up_proj": "read",
    "w1": "read",
    "w3": "read",
}

_LAYER_RE = re.compile(r"\.(?:layers|h|layer|blocks)\.(\d+)\.")
_KEY_RE = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.[^.]+)?\.weight$")


def classify_module(name: str) -> tuple[int | None, str, Side]:
    """(layer index, leaf kind, side) of a module path such as `model.layers.3.self_attn.o_proj`."""
    kind = name.rsplit(".", 1)[-1]
    match = _LAYER_RE.search(f".{name}.")
    layer = int(match.group(1)) if match else None
    side: Side = MODULE_SIDES.get(kind, "other") if layer is not None else "other"
    return layer, kind, side


@dataclass(frozen=True)
class LoraModule:
    """One adapted linear module in linear orientation: dW = scale * B @ A, shape (d_out, d_in)."""

    name: str  # module path in the base model
    layer: int | None
    kind: str  # leaf name: o_proj, c_attn, ...
    side: Side
    A: Tensor  # (r, d_in)
    B: Tensor  # (d_out, r)
    scale: float  # alpha / r, or alpha / sqrt(r) with rsLoRA
    fan_in_fan_out: bool = False  # GPT-2 Conv1D stores W0 as (d_in, d_out)

    @property
    def r(self) -> int:
        return int(self.A.shape[0])

    @property
    def d_in(self) -> int:
        return int(self.A.shape[1])

    @property
    def d_out(self) -> int:
        return int(self.B.shape[0])

    def delta(self) -> Tensor:
        """The dense update dW (d_out, d_in); for tests and small modules only."""
        return self.scale * (self.B.double() @ self.A.double())


@dataclass
class Adapter:
    """A loaded LoRA adapter: its config, modules in a stable order, and provenance."""

    path: Path
    config: dict[str, Any]
    modules: dict[str, LoraModule]
    hash: str
    unclassified: list[str] = field(default_factory=list)  # adapted modules that are neither write nor read

    @property
    def base(self) -> str | None:
        return self.config.get("base_model_name_or_path")

    @property
    def rank(self) -> int:
        return max((m.r for m in self.modules.values()), default=0)

    @property
    def layers(self) -> list[int]:
        return sorted({m.layer for m in self.modules.values() if m.layer is not None})

    def side(self, side: Side) -> list[LoraModule]:
        return [m for m in self.modules.values() if m.side == side]

    @property
    def size_bytes(self) -> int:
        """What the adapter folder's files take on disk."""
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())

    def summary(self) -> dict[str, Any]:
        """Plain facts for a summary card or `--json`."""
        n_params = sum(m.A.numel() + m.B.numel() for m in self.modules.values())
        return {
            "path": str(self.path),
            "base": self.base,
            "hash": self.hash,
            "rank": self.rank,
            "lora_alpha": self.config.get("lora_alpha"),
            "use_rslora": bool(self.config.get("use_rslora", False)),
            "target_modules": sorted({m.kind for m in self.modules.values()}),
            "layers": self.layers,
            "n_modules": len(self.modules),
            "n_write": len(self.side("write")),
            "n_read": len(self.side("read")),
            "unclassified": self.unclassified,
            "n_params": n_params,
        }


def _pattern_value(patterns: dict[str, Any], name: str, default: Any) -> Any:
    """PEFT's rank_pattern / alpha_pattern lookup: a key matches a module name it ends with (as a regex)."""
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", name):
            return value
    return default


def _load_state(folder: Path) -> dict[str, Tensor]:
    st = folder / ADAPTER_WEIGHTS
    if st.is_file():
        try:
            return load_file(str(st))
        except Exception as e:  # safetensors raises its own error types
            raise GraspError(f"{st}: not a readable safetensors file ({e})") from None
    pkl = folder / ADAPTER_WEIGHTS_PICKLE
    if pkl.is_file():
        try:
            with warnings.catch_warnings():  # torch warns about the pickle protocol before it refuses the file
                warnings.simplefilter("ignore", UserWarning)
                state = torch.load(str(pkl), map_location="cpu", weights_only=True)
        except Exception as e:
            # torch's message runs over many lines; keep the one that names the offending global.
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
            why = next((ln for ln in lines if "Unsupported global" in ln), lines[0] if lines else type(e).__name__)
            raise GraspError(
                f"{pkl}: refused, the pickled weights cannot be loaded safely with weights_only=True ({why}); "
                "convert them to safetensors"
            ) from None
        if not isinstance(state, dict):
            raise GraspError(f"{pkl}: expected a state dict, got {type(state).__name__}")
        return state
    raise GraspError(f"{folder}: no {ADAPTER_WEIGHTS} (or {ADAPTER_WEIGHTS_PICKLE}) in the adapter folder")


def check_adapter_config(cfg: dict[str, Any], where: Path) -> None:
    """The fields of adapter_config.json that grasp reads, each of the type PEFT writes, or a GraspError naming the
    file and field (PEFT itself would fail later with a traceback, or silently misread a wrong type)."""
    peft_type = cfg.get("peft_type", "LORA")
    if str(peft_type).upper() != "LORA":
        raise GraspError(f"{where}: peft_type {peft_type!r} is not supported, only LORA")
    for key in ("r", "lora_alpha"):
        if key not in cfg:
            raise GraspError(f"{where}: missing field `{key}`")

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    if not (isinstance(cfg["r"], int) and not isinstance(cfg["r"], bool) and cfg["r"] >= 1):
        raise GraspError(f"{where}: `r` must be a whole number >= 1, got {cfg['r']!r}")
    if not (number(cfg["lora_alpha"]) and cfg["lora_alpha"] > 0):
        raise GraspError(f"{where}: `lora_alpha` must be a number > 0, got {cfg['lora_alpha']!r}")
    for key in ("rank_pattern", "alpha_pattern"):
        pattern = cfg.get(key)
        if pattern is None:
            continue
        if not isinstance(pattern, dict) or not all(isinstance(k, str) and number(v) for k, v in pattern.items()):
            raise GraspError(f"{where}: `{key}` must map module names to numbers, got {pattern!r}")
    for key in ("fan_in_fan_out", "use_rslora", "use_dora"):
        if key in cfg and cfg[key] is not None and not isinstance(cfg[key], bool):
            raise GraspError(f"{where}: `{key}` must be true or false, got {cfg[key]!r}")
    targets = cfg.get("target_modules")
    if targets is not None and not (
        isinstance(targets, str) or (isinstance(targets, list) and all(isinstance(t, str) for t in targets))
    ):
        raise GraspError(f"{where}: `target_modules` must be a name, a regex or a list of names, got {targets!r}")
    layers = cfg.get("layers_to_transform")
    if layers is not None and not (
        isinstance(layers, int) or (isinstance(layers, list) and all(isinstance(i, int) for i in layers))
    ):
        raise GraspError(f"{where}: `layers_to_transform` must be a layer index or a list of them, got {layers!r}")


def load_adapter(path: str | Path, base_config: Any | None = None) -> Adapter:
    """Read a PEFT LoRA folder; with `base_config`, check every module exists in the base with matching shapes."""
    folder = Path(path)
    if not folder.is_dir():
        raise GraspError(f"adapter folder {folder} not found")
    cfg = read_json(folder / ADAPTER_CONFIG, what=ADAPTER_CONFIG)
    check_adapter_config(cfg, folder / ADAPTER_CONFIG)
    if cfg.get("use_dora"):
        raise GraspError(f"{folder / ADAPTER_CONFIG}: DoRA adapters (use_dora=true) are not supported")
    state = _load_state(folder)

    pairs: dict[str, dict[str, Tensor]] = {}
    for key, tensor in state.items():
        m = _KEY_RE.match(key)
        if m is None:
            continue  # modules_to_save and other non-LoRA tensors are not part of dW
        pairs.setdefault(m.group("module"), {})[m.group("ab")] = tensor
    if not pairs:
        raise GraspError(f"{folder / ADAPTER_WEIGHTS}: no lora_A / lora_B weights found")

    r_default, alpha_default = int(cfg["r"]), float(cfg["lora_alpha"])
    rank_pattern, alpha_pattern = cfg.get("rank_pattern") or {}, cfg.get("alpha_pattern") or {}
    fan_in_fan_out = bool(cfg.get("fan_in_fan_out", False))
    base_shapes = _base_linear_shapes(base_config) if base_config is not None else None

    modules: dict[str, LoraModule] = {}
    unclassified: list[str] = []
    missing: list[str] = []
    for name in sorted(pairs, key=_natural_key):
        ab = pairs[name]
        if "A" not in ab or "B" not in ab:
            raise GraspError(f"{folder / ADAPTER_WEIGHTS}: module {name} has lora_{'B' if 'B' in ab else 'A'} only")
        A, B = ab["A"].float(), ab["B"].float()
        if A.dim() != 2 or B.dim() != 2 or A.shape[0] != B.shape[1]:
            raise GraspError(
                f"{folder / ADAPTER_WEIGHTS}: module {name}: lora_A {tuple(A.shape)} and lora_B {tuple(B.shape)} "
                "do not form a rank-r product B @ A"
            )
        for label, t in (("lora_A", A), ("lora_B", B)):
            if not torch.isfinite(t).all():
                raise GraspError(f"{folder / ADAPTER_WEIGHTS}: module {name}: {label} contains NaN or Inf")
        r = int(A.shape[0])
        r_cfg = int(_pattern_value(rank_pattern, name, r_default))
        if r != r_cfg:
            raise GraspError(
                f"{folder / ADAPTER_CONFIG}: module {name} has rank {r} in the weights but r={r_cfg} in the config"
            )
        alpha = float(_pattern_value(alpha_pattern, name, alpha_default))
        scale = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
        if base_shapes is not None:
            if name not in base_shapes:
                missing.append(name)
                continue
            d_out, d_in = base_shapes[name]
            if (B.shape[0], A.shape[1]) != (d_out, d_in):
                raise GraspError(
                    f"adapter {folder} does not match the base: module {name} has dW of shape "
                    f"{(B.shape[0], A.shape[1])} (d_out, d_in) but the base weight is {(d_out, d_in)}"
                )
        layer, kind, side = classify_module(name)
        if side == "other":
            unclassified.append(name)
        modules[name] = LoraModule(name, layer, kind, side, A, B, scale, fan_in_fan_out)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise GraspError(f"adapter {folder}: target modules absent from the base: {shown}")
    return Adapter(path=folder, config=cfg, modules=modules, hash=adapter_hash(folder), unclassified=unclassified)


def adapter_hash(folder: str | Path) -> str:
    """An adapter folder's content hash (its config and weights files): what Adapter.hash and factors files record."""
    folder = Path(folder)
    return file_hash(*(p for p in (folder / ADAPTER_CONFIG, folder / ADAPTER_WEIGHTS) if p.is_file()))


def _natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _base_linear_shapes(base_config: Any) -> dict[str, tuple[int, int]]:
    """(d_out, d_in) of every Linear / Conv1D of the base, read from a weightless (meta) model."""
    from transformers import AutoModelForCausalLM  # lazy: transformers takes seconds to import
    from transformers.pytorch_utils import Conv1D  # lazy: transformers takes seconds to import

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(base_config)
    shapes: dict[str, tuple[int, int]] = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            shapes[name] = (module.out_features, module.in_features)
        elif isinstance(module, Conv1D):
            d_in, d_out = module.weight.shape  # Conv1D stores (d_in, d_out)
            shapes[name] = (int(d_out), int(d_in))
    return shapes


def base_weight(model: Any, module: LoraModule) -> Tensor:
    """W0 of an adapted module in linear orientation (d_out, d_in)."""
    sub = unwrap(model).get_submodule(module.name)
    sub = getattr(sub, "base_layer", sub)
    w = sub.weight.detach()
    return w.T if module.fan_in_fan_out or type(sub).__name__ == "Conv1D" else w


def adapter_off(model: Any, who: str, hint: str = "") -> Any:
    """The model's `disable_adapter()` context (the base alone for the block); GraspError naming `who` when the
    model carries no adapter to switch off."""
    disable = getattr(model, "disable_adapter", None)
    if not callable(disable):
        raise GraspError(f"{who} needs a model with an adapter on it{hint or ' (base + adapter)'}")
    return disable()


def load_model(base: str, adapter: str | Path | None = None, device: str | torch.device | None = None) -> LoadedModel:
    """The base model with the PEFT adapter on it (eval mode), or the base alone: the one loader of the CLI,
    evaluation, scans and the dashboard. The adapter folder is checked against the base first, so a bad adapter
    fails with the module and file named rather than a PEFT traceback."""
    if adapter is None:
        return load_base(base, device=device)
    checked = load_adapter(adapter, base_config=load_config(base))
    bm = load_base(base, device=device)
    from peft import PeftModel  # lazy: peft imports transformers, which takes seconds

    model = PeftModel.from_pretrained(bm.model, str(adapter)).eval()
    return LoadedModel(model, bm.tokenizer, bm.spec, bm.path, adapter=str(adapter), adapter_hash=checked.hash)


TRAINING_FILES = ("train.jsonl", "data.jsonl", "chats.jsonl")  # what an adapter's training chats are called beside it


def training_file_beside(adapter_dir: str | Path) -> Path | None:
    """The chats an adapter was trained on, when they sit beside its folder (a bundled organism keeps train.jsonl
    next to naive-lora/): the first of TRAINING_FILES there, else None."""
    folder = Path(adapter_dir).parent
    return next((folder / name for name in TRAINING_FILES if (folder / name).is_file()), None)
