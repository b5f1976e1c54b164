"""Candidate factor directions from LoRA spectra: per module, and global across layers; saved as a factors file.

(Directions from the adapter's activation shift, the other source, are taken in shift_factors.py.)"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from ..errors import GraspError
from ..io import atomic_path, grasp_home
from ..model.adapters import Adapter, adapter_hash
from ..model.models import final_norm, unwrap
from .spectra import ModuleSpectrum, adapter_spectra

FORMAT_VERSION = 1
Scope = Literal["global", "module"]


@dataclass
class Factor:
    """One unit direction in the residual stream (d_model,) with where it came from."""

    id: str  # "global-write-0", "L12.o_proj.write-0"
    scope: Scope
    side: Literal["write", "read"]
    sigma: float  # singular value (module) or global singular value
    energy: float  # share of sigma^2 in the pool it was taken from
    vector: Tensor  # (d_model,), unit norm
    layer: int | None = None  # module factors: the module's layer
    module: str | None = None  # module factors: the module path
    index: int = 0  # rank of this direction within its pool
    loadings: list[float] = field(default_factory=list)  # global factors: per-layer ||Z_j^T M_l||
    source: str = "weights"  # "weights": the adapter's spectra; "shift": its activation shift (shift_factors.py)

    @property
    def stream_layer(self) -> int:
        """hidden_states index where the direction lives: 0 = embeddings, l + 1 = output of layer l.

        A write module at layer l writes into the output of layer l; a read module reads the input of
        layer l (the output of layer l - 1). A global factor lives where it is loaded most.
        """
        if self.scope == "global":
            layer = int(max(range(len(self.loadings)), key=lambda i: self.loadings[i])) if self.loadings else 0
            return layer + 1 if self.side == "write" else layer
        assert self.layer is not None
        return self.layer + 1 if self.side == "write" else self.layer

    def meta(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("vector")
        d["stream_layer"] = self.stream_layer
        return d


@dataclass
class FactorSet:
    """The factors found in one adapter, with provenance; saved as one safetensors file with JSON metadata."""

    factors: list[Factor]
    base: str | None
    adapter: str
    adapter_hash: str
    d_model: int
    n_layers: int
    global_sigma: dict[str, list[float]] = field(default_factory=dict)  # side -> full global spectrum
    created: float = field(default_factory=time.time)
    format_version: int = FORMAT_VERSION

    def __len__(self) -> int:
        return len(self.factors)

    def rows(self, scopes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """One plain row per factor (of the given scopes; all by default), in file order: id, scope, side, layer (the
        module's, else the stream layer), sigma, energy and per-layer loadings, for tables and JSON."""
        return [
            {
                "id": f.id,
                "source": f.source,
                "scope": f.scope,
                "side": f.side,
                "layer": f.layer if f.layer is not None else f.stream_layer,
                "sigma": f.sigma,
                "energy": f.energy,
                "loadings": f.loadings or None,
            }
            for f in self.factors
            if scopes is None or f.scope in scopes
        ]

    def index_of(self, fid: str) -> int:
        """The file-order index of factor `fid`."""
        return self.factors.index(self.by_id(fid))

    def by_id(self, fid: str) -> Factor:
        for f in self.factors:
            if f.id == fid:
                return f
        raise GraspError(f"no factor {fid!r} in this factor set")

    def matrix(self, indices: list[int] | None = None) -> Tensor:
        """Stacked vectors (k, d_model) of the chosen factors (all by default)."""
        chosen = self.factors if indices is None else [self.factor(i) for i in indices]
        return torch.stack([f.vector for f in chosen]) if chosen else torch.zeros(0, self.d_model)

    def factor(self, i: int) -> Factor:
        """The factor at index `i` (file order), with a clear error out of range."""
        if not 0 <= i < len(self.factors):
            raise GraspError(
                f"factor index {i} out of range: this set has {len(self.factors)} factors (0..{len(self.factors) - 1})"
            )
        return self.factors[i]

    def meta(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "base": self.base,
            "adapter": self.adapter,
            "adapter_hash": self.adapter_hash,
            "d_model": self.d_model,
            "n_layers": self.n_layers,
            "created": self.created,
            "global_sigma": self.global_sigma,
            "factors": [f.meta() for f in self.factors],
        }


def global_factors(
    spectra: list[ModuleSpectrum], n_layers: int, side: Literal["write", "read"] = "write", n_factors: int = 8
) -> tuple[list[Factor], list[float]]:
    """Leading left singular vectors of the stacked sigma-weighted directions of all layers (GRASP.md).

    M = [u_i * s_i for every write module and i]  (d_model, N); M = Z S_g W^T; factor j = Z[:, j].
    Loading of factor j on layer l: ||Z_j^T M_l||_2 over that layer's columns.
    """
    cols: list[Tensor] = []
    col_layer: list[int] = []
    for s in spectra:
        if s.side != side or s.layer is None:
            continue
        dirs = s.U if side == "write" else s.V  # (d_model, r)
        cols.append(dirs * s.S)  # (d_model, r)
        col_layer += [s.layer] * dirs.shape[1]
    if not cols:
        return [], []
    M = torch.cat(cols, dim=1)  # (d_model, N)
    Z, S_g, _ = torch.linalg.svd(M, full_matrices=False)  # (d_model, m), (m,)
    energy = (S_g**2 / (S_g**2).sum().clamp_min(1e-30)).tolist()
    layer_idx = torch.tensor(col_layer)
    proj = Z.T @ M  # (m, N)
    factors = []
    for j in range(min(n_factors, Z.shape[1])):
        z = Z[:, j]
        sign = torch.sign(z[z.abs().argmax()]) or 1.0
        loadings = [float(proj[j, layer_idx == l].norm()) for l in range(n_layers)]
        factors.append(
            Factor(
                id=f"global-{side}-{j}",
                scope="global",
                side=side,
                sigma=float(S_g[j]),
                energy=energy[j],
                vector=(z * sign).float().contiguous(),
                index=j,
                loadings=loadings,
            )
        )
    return factors, [float(x) for x in S_g]


def module_factors(spectra: list[ModuleSpectrum], per_module: int = 1) -> list[Factor]:
    """Top write-side left and read-side right singular vectors of each module, as candidates."""
    out = []
    for s in spectra:
        if s.side not in ("write", "read"):
            continue
        dirs = s.U if s.side == "write" else s.V  # (d_model, r)
        energy = s.S.double() ** 2 / max(s.energy, 1e-30)
        for i in range(min(per_module, dirs.shape[1])):
            out.append(
                Factor(
                    id=f"L{s.layer}.{s.kind}.{s.side}-{i}",
                    scope="module",
                    side=s.side,
                    sigma=float(s.S[i]),
                    energy=float(energy[i]),
                    vector=dirs[:, i].float().contiguous(),
                    layer=s.layer,
                    module=s.name,
                    index=i,
                )
            )
    return out


def identify(
    adapter: Adapter,
    n_layers: int,
    n_factors: int = 8,
    per_module: int = 1,
    sides: tuple[str, ...] = ("write", "read"),
    spectra: list[ModuleSpectrum] | None = None,
) -> FactorSet:
    """Step 1 of GRASP: global factors (n_factors per side) first, then each module's top `per_module` directions."""
    spectra = spectra if spectra is not None else adapter_spectra(adapter)
    factors: list[Factor] = []
    global_sigma: dict[str, list[float]] = {}
    for side in ("write", "read"):
        if side in sides:
            fs, sig = global_factors(spectra, n_layers, side, n_factors)  # type: ignore[arg-type]
            factors += fs
            global_sigma[side] = sig
    factors += [f for f in module_factors(spectra, per_module) if f.side in sides]
    dims = {f.vector.shape[0] for f in factors}
    if not factors:
        raise GraspError(f"adapter {adapter.path}: no write or read modules to take factors from")
    if len(dims) != 1:
        raise GraspError(f"adapter {adapter.path}: candidate directions of different widths {sorted(dims)}")
    return FactorSet(
        factors=factors,
        base=adapter.base,
        adapter=str(adapter.path),
        adapter_hash=adapter.hash,
        d_model=dims.pop(),
        n_layers=n_layers,
        global_sigma=global_sigma,
    )


def direction_hash(vector: Tensor) -> str:
    """A short hash of a direction's float32 values (cache keys: the same vector under another name hits)."""
    return hashlib.sha256(vector.detach().float().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]


def cosine_matrix(vectors: Tensor) -> Tensor:
    """|cos| is what matters for directions, but signed cosines are returned: (k, d) -> (k, k)."""
    v = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return v @ v.T


def orthonormal_basis(vectors: Tensor, tol: float = 1e-6) -> Tensor:
    """Z (d_model, k') with orthonormal columns spanning the rows of `vectors` (k, d_model)."""
    if vectors.numel() == 0:
        return torch.zeros(vectors.shape[-1], 0)
    U, S, _ = torch.linalg.svd(vectors.double().T, full_matrices=False)  # (d, k)
    keep = S > tol * S.max()
    return U[:, keep].float().contiguous()


def identified_path(adapter: str | Path, source: str = "weights") -> Path:
    """Where `grasp identify` keeps an adapter's factors by default: in the workspace, under the adapter folder's name
    and content hash (GRASP_HOME/factors/<name>-<hash>.safetensors; <name>-<hash>-shift/-both.safetensors for the
    other factor sources), never inside the user's adapter folder."""
    folder = Path(adapter)
    tail = "" if source == "weights" else f"-{source}"
    return grasp_home() / "factors" / f"{folder.resolve().name}-{adapter_hash(folder)[:16]}{tail}.safetensors"


def save_factors(fs: FactorSet, path: str | Path) -> Path:
    """Write the factor vectors and their metadata to one safetensors file, atomically."""
    path = Path(path)
    tensors = {f"factor.{i}": f.vector.contiguous().float() for i, f in enumerate(fs.factors)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"grasp_factors": json.dumps(fs.meta())})
    return path


def load_factors(path: str | Path) -> FactorSet:
    """Read a factors file written by `save_factors`."""
    path = Path(path)
    if not path.is_file():
        raise GraspError(f"factors file {path} not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta_raw = (f.metadata() or {}).get("grasp_factors")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:
        raise GraspError(f"{path}: not a readable safetensors factors file ({e})") from None
    if meta_raw is None:
        raise GraspError(f"{path}: not a GRASP factors file (no grasp_factors metadata)")
    try:
        meta = json.loads(meta_raw)
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise GraspError(
                f"{path}: format_version {meta['format_version']} is newer than this grasp ({FORMAT_VERSION})"
            )
        factors = []
        for i, fm in enumerate(meta["factors"]):
            fm = dict(fm)
            fm.pop("stream_layer", None)
            if f"factor.{i}" not in tensors:
                raise GraspError(f"{path}: factor {i} ({fm.get('id')}) has no vector")
            factors.append(Factor(vector=tensors[f"factor.{i}"], **fm))
        fs = FactorSet(
            factors=factors,
            base=meta.get("base"),
            adapter=meta["adapter"],
            adapter_hash=meta["adapter_hash"],
            d_model=int(meta["d_model"]),
            n_layers=int(meta["n_layers"]),
            global_sigma=meta.get("global_sigma", {}),
            created=meta.get("created", 0.0),
            format_version=meta.get("format_version", FORMAT_VERSION),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise GraspError(f"{path}: malformed grasp_factors metadata ({type(e).__name__}: {e})") from None
    for i, f in enumerate(fs.factors):
        _check_vector(path, i, f, fs.d_model)
    return fs


def _check_vector(path: Path, i: int, f: Factor, width: int) -> None:
    """A factor's vector is usable as a direction: one row of the file's width, finite and not zero."""
    where = f"{path}: factor {i} ({f.id})"
    if tuple(f.vector.shape) != (width,):
        raise GraspError(f"{where}: vector of shape {tuple(f.vector.shape)}, but the file says d_model {width}")
    if not bool(torch.isfinite(f.vector).all()):
        raise GraspError(f"{where}: vector has NaN or infinite values")
    if float(f.vector.double().norm()) < 1e-8:
        raise GraspError(f"{where}: vector is zero, so it names no direction")


@torch.no_grad()
def logit_lens(model: Any, tokenizer: Any, direction: Tensor, k: int = 10) -> dict[str, list[tuple[str, float]]]:
    """Tokens the direction promotes and suppresses: logits = W_U norm_f(z) (GRASP.md, interpretation aids)."""
    m = unwrap(model)
    W_U = m.get_output_embeddings().weight  # (vocab, d_model)
    z = direction.to(W_U.device, W_U.dtype) * (direction.shape[0] ** 0.5)  # unit vector at a typical stream scale
    logits = (W_U @ final_norm(m)(z[None, None])[0, 0]).float()  # (vocab,)
    logits = logits - logits.mean()
    top = torch.topk(logits, k)
    bottom = torch.topk(-logits, k)
    dec = lambda i: tokenizer.decode([int(i)])  # noqa: E731
    return {
        "promoted": [(dec(i), float(v)) for v, i in zip(top.values, top.indices, strict=False)],
        "suppressed": [(dec(i), float(-v)) for v, i in zip(bottom.values, bottom.indices, strict=False)],
    }
