"""The `grasp` command line: one sub-command per step, each a thin layer over grasp_core functions."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import GraspError

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {}


def command(name: str, help: str, args: Callable[[argparse.ArgumentParser], None]) -> Callable[[Handler], Handler]:
    """Register the decorated handler as sub-command `name`; `args` adds its arguments to the parser."""

    def deco(handler: Handler) -> Handler:
        COMMANDS[name] = (help, args, handler)
        return handler

    return deco


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


# ---------------------------------------------------------------- prepare


def _prepare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default="smollm2-135m", help="bundled alias to prepare")


@command("prepare", "Fetch and convert the bundled base model into the cache (run once by `make app`).", _prepare_args)
def run_prepare(ns: argparse.Namespace) -> int:
    from .models import prepare_bundled

    print(prepare_bundled(ns.base))
    return 0


# ---------------------------------------------------------------- identify


def _identify_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default=None, help="base alias, folder, .gguf or hub id (default: the adapter's own)")
    p.add_argument("--adapter", required=True, help="PEFT LoRA adapter folder")
    p.add_argument("--top-k", type=int, default=8, help="global factors kept per side (default 8)")
    p.add_argument("--per-module", type=int, default=1, help="directions kept per module (default 1)")
    p.add_argument("--out", default=None, help="factors file to write (.safetensors); default: <adapter>/factors.safetensors")
    p.add_argument("--logit-lens", type=int, default=0, metavar="N", help="show N promoted/suppressed tokens per global factor")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def resolve_adapter_base(adapter_dir: str, base: str | None) -> str:
    """The base to use for an adapter: the explicit one, else the adapter's base_model_name_or_path."""
    from .io import read_json

    if base:
        return base
    cfg = read_json(Path(adapter_dir) / "adapter_config.json", what="adapter_config.json")
    found = cfg.get("base_model_name_or_path")
    if not found:
        raise GraspError(f"{adapter_dir}/adapter_config.json names no base_model_name_or_path: pass --base")
    return str(found)


@command("identify", "Find candidate factor directions in a LoRA adapter (spectra, global and per-module factors).", _identify_args)
def run_identify(ns: argparse.Namespace) -> int:
    from .adapters import load_adapter
    from .factors import identify, logit_lens, save_factors
    from .models import load_base, load_config, n_layers
    from .spectra import adapter_spectra, spectra_table

    if ns.top_k < 1:
        raise GraspError(f"--top-k must be at least 1, got {ns.top_k}")
    base = resolve_adapter_base(ns.adapter, ns.base)
    config = load_config(base)
    adapter = load_adapter(ns.adapter, base_config=config)
    bm = load_base(base) if ns.logit_lens else None
    spectra = adapter_spectra(adapter, bm.model if bm else None)
    fs = identify(adapter, n_layers(config), top_k=ns.top_k, per_module=ns.per_module, spectra=spectra)
    fs.base = base
    out = Path(ns.out) if ns.out else Path(ns.adapter) / "factors.safetensors"
    save_factors(fs, out)
    lens = {}
    if bm is not None:
        for f in fs.factors:
            if f.scope == "global":
                lens[f.id] = logit_lens(bm.model, bm.tokenizer, f.vector, ns.logit_lens)
    if ns.json:
        _print_json({"adapter": adapter.summary(), "factors_file": str(out), "spectra": spectra_table(spectra),
                     "factors": fs.meta()["factors"], "logit_lens": lens})
        return 0
    s = adapter.summary()
    print(f"adapter {s['path']}  base {base}  rank {s['rank']}  modules {s['n_modules']} "
          f"({s['n_write']} write, {s['n_read']} read)")
    if adapter.unclassified:
        print(f"unclassified modules (neither write nor read, not used for factors): {', '.join(adapter.unclassified)}")
    print(f"{'#':>3} {'id':<28} {'sigma':>9} {'energy':>7} {'stream layer':>12}")
    for i, f in enumerate(fs.factors):
        if f.scope == "global" or i < 40:
            print(f"{i:>3} {f.id:<28} {f.sigma:>9.4f} {f.energy:>7.3f} {f.stream_layer:>12}")
            if f.id in lens:
                print("      promotes: " + " ".join(repr(t) for t, _ in lens[f.id]["promoted"]))
                print("      suppresses: " + " ".join(repr(t) for t, _ in lens[f.id]["suppressed"]))
    print(f"wrote {len(fs)} factors to {out}")
    return 0


# ---------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grasp",
        description="GRASP: find spurious factors in a LoRA fine-tune and fine-tune again without them.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_args, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    if not ns.command:
        parser.print_help()
        return 2
    try:
        return int(COMMANDS[ns.command][2](ns) or 0)
    except GraspError as e:
        if ns.debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
