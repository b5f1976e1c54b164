"""Low-rank spectra of a synthetic 7B-shaped adapter against dense SVDs of a few of its modules.

    .venv/bin/python bench/spectra.py [--r 32] [--layers 32] [--dense 2] [--repeats 2]

The adapter has the Llama-2-7B layout (d_model 4096, d_ff 11008, q/k/v/o/gate/up/down in every layer); its
LoraModule objects are built directly from random A, B, so no 7B model is loaded. Targets: the whole adapter in
under 2 s on a 2-core CPU, and at least 50x faster per module than a dense SVD of dW.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from grasp_core.identification.spectra import adapter_spectra
from grasp_core.model.adapters import Adapter, LoraModule, classify_module

D_MODEL, D_FF = 4096, 11008
# leaf -> (d_out, d_in, path inside the layer)
SHAPES = {
    "q_proj": (D_MODEL, D_MODEL, "self_attn"),
    "k_proj": (D_MODEL, D_MODEL, "self_attn"),
    "v_proj": (D_MODEL, D_MODEL, "self_attn"),
    "o_proj": (D_MODEL, D_MODEL, "self_attn"),
    "gate_proj": (D_FF, D_MODEL, "mlp"),
    "up_proj": (D_FF, D_MODEL, "mlp"),
    "down_proj": (D_MODEL, D_FF, "mlp"),
}


def synthetic_adapter(layers: int, r: int, seed: int = 0) -> Adapter:
    """A 7B-shaped LoRA adapter of random float32 factors (the dtype PEFT saves them in)."""
    gen = torch.Generator().manual_seed(seed)
    modules = {}
    for l in range(layers):
        for kind, (d_out, d_in, part) in SHAPES.items():
            name = f"model.layers.{l}.{part}.{kind}"
            _, _, side = classify_module(name)
            A = torch.randn(r, d_in, generator=gen) / d_in**0.5  # (r, d_in)
            B = torch.randn(d_out, r, generator=gen) / d_out**0.5  # (d_out, r)
            modules[name] = LoraModule(name, l, kind, side, A, B, 2.0)
    return Adapter(path=Path("synthetic-7b"), config={"r": r, "lora_alpha": 2 * r}, modules=modules, hash="synthetic")


def _timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)  # the least disturbed run on a shared machine


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=32)
    p.add_argument("--r", type=int, default=32)
    p.add_argument("--dense", type=int, default=2, help="modules to SVD densely (o_proj, then down_proj, ...)")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()

    adapter = synthetic_adapter(args.layers, args.r)
    n = len(adapter.modules)
    print(
        f"synthetic adapter: {args.layers} layers x {len(SHAPES)} modules = {n}, r {args.r}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    t_all = _timed(lambda: adapter_spectra(adapter), args.repeats)
    print(f"low-rank spectra, whole adapter: {t_all:.3f} s ({1000 * t_all / n:.2f} ms per module on average)")

    order = ["o_proj", "down_proj", "gate_proj", "q_proj"]
    print(f"{'module':<32} {'shape':>13} {'low-rank ms':>12} {'dense s':>9} {'ratio':>8}")
    ratios = []
    for kind in order[: args.dense]:
        m = next(m for m in adapter.modules.values() if m.kind == kind)
        single = Adapter(adapter.path, adapter.config, {m.name: m}, adapter.hash)
        t_low = _timed(lambda single=single: adapter_spectra(single), max(args.repeats, 5))

        def dense(m: LoraModule = m) -> None:
            dW = m.scale * (m.B @ m.A)  # (d_out, d_in): formed only here, for the comparison
            torch.linalg.svd(dW, full_matrices=False)

        t_dense = _timed(dense, 1)
        ratios.append(t_dense / t_low)
        print(
            f"{m.name:<32} {str((m.d_out, m.d_in)):>13} {1000 * t_low:>12.2f} {t_dense:>9.2f} {t_dense / t_low:>7.0f}x"
        )
    if ratios:
        print(
            f"per-module speed-up over dense SVD (float32): min {min(ratios):.0f}x, "
            f"median {statistics.median(ratios):.0f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
