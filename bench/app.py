"""Dashboard latency on the bundled base: app start to the first spectra (cold, then with the model cached) and
page switch times after warm-up, measured with streamlit's AppTest (script time, no browser rendering).

Uses the `persona` demo adapter when its naive-lora is built (grasp_core.DEMO_ROOT), else a random rank-8 LoRA planted on
every attention and MLP module of the bundled SmolLM2-135M (same shapes a real fine-tune has).

    .venv/bin/python bench/app.py [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app" / "main.py")
PAGES = ["spectra", "factors", "select", "train", "results", "load"]
TARGETS = {"first_spectra_cached_s": 5.0, "page_switch_s": 1.0}


def _adapter(tmp: Path) -> str:
    from grasp_core import DEMO_ROOT

    demo = DEMO_ROOT / "persona" / "naive-lora"
    if (demo / "adapter_config.json").is_file():
        return str(demo)
    import torch
    from peft import LoraConfig, get_peft_model

    from grasp_core.model.models import load_base

    bm = load_base("smollm2-135m", device="cpu", dtype=torch.float32)
    mods = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(bm.model, LoraConfig(r=8, lora_alpha=16, target_modules=mods, task_type="CAUSAL_LM"))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
    model.save_pretrained(tmp / "planted")
    return str(tmp / "planted")


def _timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="page-switch rounds after warm-up")
    ap.add_argument("--json", default=None, help="write the figures here too")
    args = ap.parse_args()

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GRASP_APP_BASE"] = "smollm2-135m"
        os.environ["GRASP_APP_ADAPTER"] = _adapter(Path(tmp))
        st.cache_resource.clear()
        st.cache_data.clear()

        at = AppTest.from_file(APP, default_timeout=600)
        t_load = _timed(at.run)  # Load page: reads config + adapter, summary card
        at.switch_page("../pages/spectra.py")
        t_spectra_cold = _timed(at.run)  # loads the model (base + adapter), SVDs, figures
        assert not at.exception, at.exception

        # First spectra with only the model cached: spectra, factors and tables recomputed from scratch.
        sys.path.insert(0, str(REPO / "app"))
        import uicache

        for cached in (uicache.spectra, uicache.candidates, uicache.spectra_rows):
            cached.clear()
        at2 = AppTest.from_file(APP, default_timeout=600)
        at2.switch_page("../pages/spectra.py")
        t_spectra_cached = _timed(at2.run)

        for page in PAGES:  # warm-up: every page once
            at2.switch_page(f"../pages/{page}.py")
            at2.run()
        switch: dict[str, list[float]] = {p: [] for p in PAGES}
        for _ in range(args.repeats):
            for page in PAGES:
                at2.switch_page(f"../pages/{page}.py")
                switch[page].append(_timed(at2.run))
                assert not at2.exception, (page, at2.exception)

    res = {
        "adapter": os.environ["GRASP_APP_ADAPTER"],
        "app_start_load_page_s": round(t_load, 3),
        "first_spectra_cold_s": round(t_spectra_cold, 3),
        "first_spectra_cached_s": round(t_spectra_cached, 3),
        "page_switch_s": {p: round(statistics.median(v), 3) for p, v in switch.items()},
        "page_switch_max_s": round(max(max(v) for v in switch.values()), 3),
    }
    res["meets_targets"] = (
        res["first_spectra_cached_s"] < TARGETS["first_spectra_cached_s"]
        and res["page_switch_max_s"] < TARGETS["page_switch_s"]
    )
    print(json.dumps(res, indent=2))
    if args.json:
        from grasp_core.io import write_json

        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
