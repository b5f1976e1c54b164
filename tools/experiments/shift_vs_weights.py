"""How the candidates from an adapter's activation shift relate to those from its weights: for each bundled organism's
naive LoRA, `grasp identify --source both` (in this process), then for each shift factor its largest |cos| with any
global write factor of the weights (and which), and where it lives; then, between organisms, |cos| of their shift-j
(the same j), and the same for their weights' global-write-j: a direction every fine-tune of this recipe moves,
whatever its trait, is shared.

    .venv/bin/python tools/experiments/shift_vs_weights.py [--organisms persona political flattery]
"""

from __future__ import annotations

import argparse

import torch

from grasp_core import DEFAULT_BASE, DEMO_ROOT, UNRELATED_CORPUS, identify_from, load_corpus, load_model, n_layers
from grasp_core.model.adapters import load_adapter


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--organisms", nargs="+", default=["persona", "political", "flattery"])
    p.add_argument("--n-factors", type=int, default=8)
    args = p.parse_args()
    corpus = load_corpus(UNRELATED_CORPUS)
    leading: dict[str, dict[str, torch.Tensor]] = {"shift": {}, "weights": {}}
    for organism in args.organisms:
        folder = DEMO_ROOT / organism / "naive-lora"
        bm = load_model(DEFAULT_BASE, folder)
        adapter = load_adapter(folder, bm.model.config)
        fs = identify_from(
            "both", adapter, n_layers(bm.model.config), args.n_factors, 1, None, (bm.model, bm.tokenizer, corpus), False
        )
        weights = [f for f in fs.factors if f.source == "weights" and f.scope == "global" and f.side == "write"]
        W = torch.stack([f.vector for f in weights])  # (n, d_model)
        print(f"== {organism}: shift factor, sigma, energy, stream layer, max |cos| with a weights write factor")
        for f in fs.factors:
            if f.source != "shift" or f.scope != "global":
                continue
            cos = (W @ f.vector).abs()
            j = int(cos.argmax())
            print(
                f"  {f.id:<9} {f.sigma:9.1f} {f.energy:6.3f} {f.stream_layer:>3}  {float(cos[j]):.2f} ({weights[j].id})"
            )
        leading["shift"][organism] = torch.stack(
            [f.vector for f in fs.factors if f.source == "shift" and f.scope == "global"]
        )
        leading["weights"][organism] = W[: args.n_factors]
        means = [f for f in fs.factors if f.id.endswith(".shift-mean")]
        best = [float((W @ f.vector).abs().max()) for f in means]
        print(
            f"  per-layer mean shifts: {len(means)}; max |cos| with a weights write factor {min(best):.2f}-{max(best):.2f}"
        )
    for source, first in (("shift", "shift-j"), ("weights", "global-write-j")):
        names = list(leading[source])
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                x, y = leading[source][a], leading[source][b]
                k = min(len(x), len(y))
                same = (x[:k] * y[:k]).sum(1).abs()  # (k,) |cos| of direction j with direction j
                print(f"{a} vs {b}: |cos| of {first}, j = 0..{k - 1}: " + " ".join(f"{float(c):.2f}" for c in same))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
