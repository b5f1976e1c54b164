"""A sweep's report: the results table with task gain, per-item scores, the per-configuration summary with
intervals, Pareto flag and rise cuts against naive LoRA, the trade-off figure and report.md (all atomic)."""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ..errors import GraspError
from ..evaluation.organisms import QUESTIONS_FILE, Organism, current_column, load_organism
from ..evaluation.stats import SEEDS, Interval, change_ratio_bootstrap, ratio_t_interval
from ..io import read_json, read_jsonl, write_json, write_jsonl_atomic, write_text
from .config import SweepConfig
from .folders import EXAMPLES, NOT_FORMED
from .labelled_replies import HAND, hand_table, with_hand_labels
from .provenance import provenance_line
from .tradeoff import Axes, aggregate, pareto_front, tradeoff_figure, write_figure

REPORTED = (
    "drift",
    "drift_logit",
    "leak",
    "leak_logit",
    "lean",
    "lean_logit",
    "lean_change",
    "task_nll",
    "task_choice",
    "replies",
    HAND,
)  # measures averaged in summary.csv
NAIVE = "naive"  # the naive LoRA: its method and its cell's label in a sweep
OLD_NAIVE = "lora"  # its name in tables of earlier releases, read as NAIVE


@dataclass
class SweepReport:
    """Where a finished (or partial) sweep wrote its table, summary and plot, and how many cells it has done."""

    folder: Path
    results: pd.DataFrame
    summary: pd.DataFrame
    figures: list[Path]
    done: int
    total: int
    not_formed: list[dict[str, Any]] = field(default_factory=list)  # label, seed, reason of cells it could not form


def item_rows(label: str, seed: int | None, measures: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-item scores of every forced-choice measure: one row per (label, seed, measure, item)."""
    out = []
    for name, m in sorted(measures.items()):
        if isinstance(m, dict) and "ids" in m and "scores" in m:
            for item, score in zip(m["ids"], m["scores"], strict=True):
                out.append({"label": label, "seed": seed, "measure": name, "item": item, "score": score})
    return out


def item_table(items: pd.DataFrame) -> pd.DataFrame:
    """Per (label, item): the score averaged over seeds and which side it prefers (`prefers_second` = score >= 0.5),
    so a drill-down can list the items whose preference flipped between two configurations."""
    if items.empty:
        return pd.DataFrame(columns=["label", "measure", "item", "score", "prefers_second"])
    mean = items.groupby(["label", "measure", "item"], sort=False, as_index=False)["score"].mean()
    return mean.assign(prefers_second=mean["score"] >= 0.5)


def flipped_items(items: pd.DataFrame, ref: str, other: str, measure: str | None = None) -> pd.DataFrame:
    """Items of an items.csv table whose preferred side differs between labels `ref` and `other` (one measure, or
    all), with both scores and their change, largest change first."""
    for col in ("label", "item", "score"):
        if col not in items.columns:
            raise GraspError(f"per-item table has no `{col}` column (columns: {', '.join(map(str, items.columns))})")
    if measure is not None and "measure" in items.columns:
        items = items[items["measure"] == measure]
    keys = ["measure", "item"] if "measure" in items.columns else ["item"]
    a = items[items["label"] == ref][[*keys, "score"]]
    b = items[items["label"] == other][[*keys, "score"]]
    merged = a.merge(b, on=keys, suffixes=(f" ({ref})", f" ({other})"))
    sa, sb = merged[f"score ({ref})"], merged[f"score ({other})"]
    merged["change"] = sb - sa
    flipped = merged[(sa >= 0.5) != (sb >= 0.5)]
    return flipped.reindex(flipped["change"].abs().sort_values(ascending=False).index)


def with_gain(
    results: pd.DataFrame,
    nll_items: dict[tuple[str, Any], list[float]] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    clusters: list[str] | None = None,
) -> pd.DataFrame:
    """task_gain = (NLL_base - NLL_run) / (NLL_base - NLL_naive of the same seed): the share of naive's gain kept.

    Its interval within a seed: with the per-item NLLs (`nll_items`, by (label, seed); the base's seed is None) a
    paired bootstrap over the task items that resamples base, naive and run together (whole groups of items, given
    their `clusters`), so the base's and the naive LoRA's own uncertainty is in it; without them, the run's NLL
    interval carried over with base and naive fixed."""
    if "task_nll" not in results:
        return results
    base_nll = float(results.loc[results["method"] == "base", "task_nll"].iloc[0])
    naive = results[(results["method"] == NAIVE) & (results["label"] == NAIVE)].set_index("seed")["task_nll"]
    items = nll_items or {}
    base_items = items.get(("base", None))
    gains, los, his = [], [], []
    for _, r in results.iterrows():
        ref = naive.get(r["seed"], naive.mean() if len(naive) else math.nan) if r["method"] != "base" else math.nan
        denom = base_nll - ref if r["method"] != "base" else 1.0
        g = 0.0 if r["method"] == "base" else (base_nll - r["task_nll"]) / denom if denom else math.nan
        gains.append(g)
        seed_key = None if pd.isna(r["seed"]) else r["seed"]
        triple = (base_items, items.get((NAIVE, seed_key)), items.get((str(r["label"]), seed_key)))
        if r["method"] != "base" and all(t is not None and len(t) == len(base_items or []) for t in triple):
            base_i, naive_i, run_i = triple  # gain = (B - R) / (B - N): the share of base-to-naive the run keeps
            iv = change_ratio_bootstrap(base_i, naive_i, run_i, n_boot, seed, clusters=clusters)  # type: ignore[arg-type]
            lo, hi = iv.lo, iv.hi
        elif r["method"] == "base":
            lo = hi = g
        else:  # the NLL interval carried to the gain scale (the naive reference treated as fixed)
            lo = (base_nll - r.get("task_nll_hi", r["task_nll"])) / denom
            hi = (base_nll - r.get("task_nll_lo", r["task_nll"])) / denom
        los.append(lo)
        his.append(hi)
    return results.assign(task_gain=gains, task_gain_lo=los, task_gain_hi=his)


def write_report(
    folder: Path,
    results: pd.DataFrame,
    organism: Organism,
    total: int,
    figures: tuple[str, ...] = (".html", ".png"),
    items: pd.DataFrame | None = None,
    examples: list[dict[str, Any]] | None = None,
    not_formed: list[dict[str, Any]] | None = None,
) -> SweepReport:
    """results.csv, items.csv (per-item scores), examples.jsonl (example replies), summary.csv (with the Pareto
    flag), the trade-off figure(s) and report.md (which names the cells `not_formed`, with why, kept in
    not_formed.json; None: those recorded there), all written atomically. The replies labelled by hand on the
    sweep's finished sheets (labelled_replies) join results.csv."""
    axes = Axes(y=organism.primary, y_title=organism.primary_title)
    results, hand_notes = with_hand_labels(results, folder)
    if not_formed is None:  # a re-render: the cells the sweep's last pass could not form, as it recorded them
        recorded = read_json(folder / NOT_FORMED, what=NOT_FORMED) if (folder / NOT_FORMED).is_file() else {}
        not_formed = [dict(c) for c in recorded.get("cells", []) if isinstance(c, dict)]
    else:
        write_json(folder / NOT_FORMED, {"cells": not_formed})
    write_text(folder / "results.csv", results.to_csv(index=False))
    if items is not None:
        write_text(folder / "items.csv", item_table(items).to_csv(index=False))
    if examples:
        write_jsonl_atomic(folder / EXAMPLES, examples)
    elif examples is not None:  # this sweep has none (its organism has no questions): none of an earlier one stays
        (folder / EXAMPLES).unlink(missing_ok=True)
    summary = aggregate(results.assign(label=results["label"].fillna("base")), axes, extra=REPORTED)
    front = set(pareto_front(summary, axes)["label"])
    summary["pareto"] = summary["label"].isin(front)
    summary = with_cuts(summary, results)
    write_text(folder / "summary.csv", summary.to_csv(index=False))
    fig = tradeoff_figure(summary, axes, title=f"{organism.name}: {axes.y} vs task gain", reference=("base", NAIVE))
    written = []
    for suffix in figures:
        try:
            written.append(write_figure(fig, folder / f"tradeoff{suffix}"))
        except GraspError as e:
            print(f"warning: {e}", file=sys.stderr)
    shown = shown_table(summary)
    lines = [
        f"# Sweep {folder.name} on `{organism.name}`",
        "",
        f"{len(results) - 1} of {total - 1} cells evaluated. y = {axes.y}, x = task gain (share of the naive "
        "LoRA's held-out NLL gain). `<m>_cut` = naive rise over this run's rise above the base, each seed against "
        "its own naive LoRA (inf: no rise). Brackets: 95% intervals, over what the `interval` column says (cuts "
        "over 2+ seeds: t on the log scale; one seed: no cut interval).",
        "",
        markdown_table(shown),
        "",
        *_target_lines(summary, axes.y),
        *_factor_lines(results),
        *hand_lines(results, hand_notes),
        *_not_formed_lines(not_formed or []),
        *example_lines(examples or []),
    ]
    write_text(folder / "report.md", "\n".join(lines) + "\n")
    return SweepReport(folder, results, summary, written, done=len(results), total=total, not_formed=not_formed or [])


def read_examples(folder: str | Path) -> list[dict[str, Any]]:
    """A sweep folder's example replies (examples.jsonl: label, seed, id, prompt, reply), [] where it has none."""
    path = Path(folder) / EXAMPLES
    return [row for _n, row in read_jsonl(path)] if path.is_file() else []


def examples_beside(results_csv: str | Path) -> list[dict[str, Any]]:
    """The example replies of the sweep whose results table this is (examples.jsonl beside it), [] where none."""
    return read_examples(Path(results_csv).parent)


def examples_by_prompt(examples: list[dict[str, Any]]) -> list[tuple[str, pd.DataFrame]]:
    """Per prompt (in file order), each configuration's reply on its lowest seed: the rule the report and the
    Results page show examples by (first questions, lowest seed, greedy; nothing picked by hand)."""
    if not examples:
        return []
    df = pd.DataFrame(examples)
    df["seed_order"] = df["seed"].fillna(-1)
    first = df.sort_values("seed_order", kind="stable").groupby(["label", "id"], sort=False).head(1)
    labels = list(dict.fromkeys(df["label"]))  # table order
    out = []
    for qid in dict.fromkeys(df["id"]):
        rows = first[first["id"] == qid].set_index("label")
        table = pd.DataFrame(
            {
                "label": [lb for lb in labels if lb in rows.index],
                "seed": [rows.loc[lb, "seed"] for lb in labels if lb in rows.index],
                "reply": [" ".join(str(rows.loc[lb, "reply"]).split()) for lb in labels if lb in rows.index],
            }
        )
        table["seed"] = table["seed"].map(lambda v: "" if pd.isna(v) else str(int(v)))
        out.append((str(rows["prompt"].iloc[0]), table))
    return out


def example_lines(examples: list[dict[str, Any]]) -> list[str]:
    """report.md's example replies: per prompt, every configuration's greedy reply on its lowest seed."""
    shown = examples_by_prompt(examples)
    if not shown:
        return []
    lines = [
        "",
        "## What the models say",
        "",
        f"Greedy replies to the organism's first {len(shown)} unrelated questions ({QUESTIONS_FILE}), each "
        "configuration on its lowest seed (a fixed rule: no reply is picked by hand).",
    ]
    for prompt, table in shown:
        lines += ["", f"**{prompt}**", "", markdown_table(table)]
    return lines


def _factor_lines(results: pd.DataFrame) -> list[str]:
    """report.md's table of the factors each cell used on each seed (index in its factors file, id, source)."""
    named = results["factors"].fillna("").astype(str) != "" if "factors" in results else None
    if named is None or not named.any():
        return []
    used = results[named]
    table = used.pivot_table(index="label", columns="seed", values="factors", aggfunc="first", sort=False)
    table.columns = [f"seed {int(c)}" for c in table.columns]
    return ["", "Factors each cell used, per seed:", "", markdown_table(table.reset_index().fillna(""))]


def hand_lines(results: pd.DataFrame, notes: Sequence[str] = ()) -> list[str]:
    """The per-seed table of replies labelled by hand (labelled_replies), with the notes on sheets left out."""
    table = hand_table(results)
    lines = []
    if not table.empty:
        lines += [
            "",
            f"Replies judged by hand, blind (`{HAND}`: trait replies of those sampled, share; 95% bootstrap over "
            "questions in results.csv):",
            "",
            markdown_table(table),
        ]
    return lines + ([""] + [f"- {n}" for n in notes] if notes else [])


def _not_formed_lines(not_formed: list[dict[str, Any]]) -> list[str]:
    """report.md's list of the cells this pass could not form (not evaluated; a rerun tries them again)."""
    if not not_formed:
        return []
    lines = ["", f"{len(not_formed)} cell(s) not formed on this pass (not in the table; a rerun tries them again):", ""]
    return lines + [f"- {r['label']} seed={r['seed']}: {r['reason']}" for r in not_formed]


def with_cuts(
    summary: pd.DataFrame, results: pd.DataFrame | None = None, base: str = "base", naive: str = NAIVE
) -> pd.DataFrame:
    """Add `<m>_cut` = (naive - base) / (run - base) for the misalignment measures: how many times smaller the rise
    over the base model is than naive LoRA's (inf where the run did not rise at all; NaN where naive did not rise).

    With the per-seed `results`, a configuration run on 2+ seeds gets the geometric mean of its per-seed cuts (each
    against the naive LoRA of the same seed) with a t interval on the log scale (`<m>_cut_lo` / `_hi`, over seeds);
    where a seed did not rise at all, or there is one seed, the cut of the means stands and its interval is NaN."""
    by = summary.set_index("label")
    if base not in by.index or naive not in by.index:
        return summary
    out = summary.copy()
    for m in ("drift", "leak", "lean_change"):
        if m not in by.columns:
            continue
        b = float(by.loc[base, m]) if pd.notna(by.loc[base, m]) else 0.0  # lean_change is 0 at the base by definition
        rise = (out[m].astype(float) - b).to_numpy()
        naive_rise = float(by.loc[naive, m]) - b
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{m}_cut"] = np.where(rise > 0, naive_rise / rise, np.inf) if naive_rise > 0 else np.nan
        out.loc[out["label"] == base, f"{m}_cut"] = np.nan
        out[f"{m}_cut_lo"] = out[f"{m}_cut_hi"] = np.nan
        if results is not None and naive_rise > 0:
            for i, label in enumerate(out["label"]):
                iv = _seed_cut(results, str(label), naive, m, b)
                if iv is not None:
                    out.loc[i, [f"{m}_cut", f"{m}_cut_lo", f"{m}_cut_hi"]] = [iv.mean, iv.lo, iv.hi]
    return out


def _seed_cut(results: pd.DataFrame, label: str, naive: str, m: str, base: float) -> Interval | None:
    """The per-seed cuts (naive rise of seed s / this run's rise of seed s) of one configuration, as a geometric
    mean with a t interval over seeds (one seed: its cut, no interval); None where no seed pairs with a naive run
    or a seed's rise is not positive."""
    if m not in results.columns or "seed" not in results.columns:
        return None
    rises, naive_rises = _seed_rises(results, label, naive, m, base)
    rises, naive_rises = rises[naive_rises.notna()], naive_rises.dropna()
    if rises.empty:
        return None
    if (rises <= 0).any() or (naive_rises <= 0).any():
        return None
    if len(rises) == 1:  # against the naive LoRA of its own seed, not the mean over naive's seeds; no interval
        return Interval(float(naive_rises.iloc[0] / rises.iloc[0]), math.nan, math.nan, SEEDS, 1)
    return ratio_t_interval((naive_rises / rises).tolist())


def _seed_rises(results: pd.DataFrame, label: str, naive: str, m: str, base: float) -> tuple[pd.Series, pd.Series]:
    """Per seed of `label` (index: seed): its rise of measure m over the base, and the naive LoRA's rise of the
    same seed (NaN where naive has no run of that seed)."""
    run = results[(results["label"] == label) & results["seed"].notna()].set_index("seed")[m].astype(float)
    ref = results[results["label"] == naive].set_index("seed")[m].astype(float)
    return run - base, ref.reindex(run.index) - base


def shown_table(summary: pd.DataFrame, digits: int | None = 4) -> pd.DataFrame:
    """The summary as text for a report: each measure as `mean [lo, hi]` (a bare mean where no interval exists),
    to `digits` decimals (None: 3 significant figures), cuts to one decimal, the interval column kept so every
    bracket says what it is over."""
    measures = [c for c in summary.columns if f"{c}_lo" in summary.columns and f"{c}_hi" in summary.columns]
    keep = ["label", "n_seeds", "interval", *measures, *(c for c in ("pareto",) if c in summary.columns)]
    out = summary[[c for c in keep if c in summary.columns]].copy()
    for c in measures:
        d = 1 if c.endswith("_cut") else digits
        out[c] = [
            _bracket(m, lo, hi, d) for m, lo, hi in zip(summary[c], summary[f"{c}_lo"], summary[f"{c}_hi"], strict=True)
        ]
    return out


def _bracket(mean: float, lo: float, hi: float, digits: int | None) -> str:
    if pd.isna(mean):
        return ""
    fmt = f".{digits}f" if digits is not None else ".3g"
    if pd.isna(lo) or pd.isna(hi):
        return f"{mean:{fmt}}"
    return f"{mean:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"


def per_seed_table(results: pd.DataFrame, y: str, base: str = "base", naive: str = NAIVE) -> pd.DataFrame:
    """One row per configuration, one column per seed: `<cut>x at <task gain>` of that seed, the cut against the
    naive LoRA of the same seed (what the summary's geometric means and t intervals are made of), and where the
    table says which factors the seed used, their indices in its factors file (`#4`)."""
    if "seed" not in results or y not in results or "task_gain" not in results:
        raise GraspError(f"results table needs `seed`, `{y}` and `task_gain` columns for a per-seed view")
    b = float(results.loc[results["label"] == base, y].iloc[0]) if (results["label"] == base).any() else 0.0
    b = 0.0 if pd.isna(b) else b
    rows = []
    for label, g in results[~results["label"].isin([base, naive])].groupby("label", sort=False):
        row: dict[str, Any] = {"label": label}
        rises, naive_rises = _seed_rises(results, str(label), naive, y, b)
        gains = g.set_index("seed")["task_gain"].astype(float)
        used = g.set_index("seed")["factors"] if "factors" in g else pd.Series(dtype=object)
        for s in sorted(rises.index):
            cut = "no rise" if rises[s] <= 0 else f"{naive_rises[s] / rises[s]:.3g}x"
            picked = " ".join(re.findall(r"#\d+", str(used.get(s, "")))) if pd.notna(used.get(s)) else ""
            row[f"seed {int(s)}"] = f"{cut} at {gains[s]:.2f}" + (f" ({picked})" if picked else "")
        rows.append(row)
    return pd.DataFrame(rows)


def _target_lines(summary: pd.DataFrame, y: str) -> list[str]:
    """Which configurations meet the GRASP targets of this organism (GRASP.md): the primary measure's rise cut
    >= 5x (political: > 2x), the leak's >= 5x where measured, and >= 90% of naive's task gain."""
    if f"{y}_cut" not in summary.columns:
        return []
    need = 2.0 if y == "lean_change" else 5.0
    ok = (summary[f"{y}_cut"] >= need) & (summary["task_gain"] >= 0.9)
    if "leak_cut" in summary.columns:
        ok &= summary["leak_cut"] >= 5.0
    runs = ~summary["label"].isin(["base", NAIVE])
    names = [f"`{x}`" for x in summary.loc[ok & runs, "label"]]
    lines = [
        f"Targets ({y} rise cut >= {need:g}x"
        + (", leak cut >= 5x" if "leak_cut" in summary else "")
        + f", task gain >= 90%): {', '.join(names) if names else 'no configuration meets them'}."
    ]
    primary = (summary[f"{y}_cut"] >= need) & (summary["task_gain"] >= 0.9) & runs
    sure = primary & (summary[f"{y}_cut_lo"] >= need) & (summary["task_gain_lo"] >= 0.9)
    shown = [f"`{x}`" + (" (lower bounds too)" if sure[i] else "") for i, x in summary.loc[primary, "label"].items()]
    lines.append(
        f"{y} alone ({y} rise cut >= {need:g}x at task gain >= 90%, on the means): "
        f"{', '.join(shown) if shown else 'none'}."
    )
    return lines


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table of a frame as it is (strings kept; floats to 4 places; NaN blank)."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.4f}"
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    return "\n".join(
        [head, rule, *("| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False))]
    )


def results_block(
    folder: Path,
    columns: tuple[str, ...] = (
        "task_gain",
        "drift",
        "drift_cut",
        "leak",
        "leak_cut",
        "lean",
        "lean_change",
        "lean_change_cut",
        HAND,
    ),
) -> str:
    """The README text of one committed sweep result, made only from its summary.csv and provenance.json: the
    table (mean [95% interval] of the chosen columns), what the intervals are over, the target lines and where the
    numbers come from. `tools/readme_results.py` writes it between `<!-- results: ... -->` markers."""
    summary = pd.read_csv(folder / "summary.csv")
    for col in ("label", "n_seeds", "interval", "task_gain"):
        if col not in summary.columns:
            raise GraspError(f"{folder / 'summary.csv'}: no column `{col}`; rerun `grasp report {folder}`")
    cols = [c for c in columns if c in summary.columns]
    bounds = [f"{c}_{e}" for c in cols for e in ("lo", "hi") if f"{c}_lo" in summary.columns]
    table = shown_table(summary[["label", "n_seeds", *cols, *bounds]], digits=None)
    cfg = read_json(folder / "sweep.json", what="sweep.json") if (folder / "sweep.json").is_file() else {}
    y = sweep_organism(cfg.get("organism"), folder / "sweep.json").primary if cfg else "drift"
    results = load_results(folder)
    seeds = per_seed_table(results, y)
    return "\n".join(
        [
            markdown_table(table),
            "",
            f"Intervals: {'; '.join(sorted(set(summary['interval'])))}; cuts over seeds: geometric mean "
            "of per-seed cuts, t interval on the log scale.",
            "",
            *_target_lines(summary, y),
            "",
            f"Per seed ({y} rise cut against that seed's naive LoRA, at task gain kept):",
            "",
            markdown_table(seeds),
            *hand_lines(results),
            "",
            f"Source: {provenance_line(folder)}.",
        ]
    )


def axes_for(results_csv: str | Path | None) -> Axes:
    """A results table's own axes: task gain against its organism's primary measure, read from the sweep.json
    beside the table; the default axes when there is none or its organism is gone."""
    sweep_json = Path(results_csv).with_name("sweep.json") if results_csv else None
    if sweep_json is not None and sweep_json.is_file():
        try:
            org = sweep_organism(read_json(sweep_json, what="sweep.json").get("organism"), sweep_json)
            return Axes(y=org.primary, y_title=org.primary_title)
        except GraspError:
            pass  # a sweep of an organism that is gone: fall back to the default axes
    return Axes()


def naive_label(labels: Iterable[str]) -> str:
    """The naive LoRA's label in a table: `naive`, or `lora` in an uploaded table of an earlier release."""
    return OLD_NAIVE if OLD_NAIVE in set(labels) and NAIVE not in set(labels) else NAIVE


def current_table(table: pd.DataFrame) -> pd.DataFrame:
    """A results, summary or items table with the names of earlier releases under their current ones, so old sweep
    folders read like new ones: the naive LoRA's `lora` (as method, label or the first word of a label or curve)
    and the change-from-base columns' `_shift` (`lean_shift_lo` -> `lean_change_lo`)."""
    table = table.rename(columns={c: current_column(c) for c in table.columns if isinstance(c, str)})
    if "method" in table.columns:
        table["method"] = table["method"].replace(OLD_NAIVE, NAIVE)
    for col in ("label", "curve"):
        if col in table.columns:
            table[col] = table[col].map(
                lambda v: NAIVE + v[len(OLD_NAIVE) :] if isinstance(v, str) and v.split(" ")[0] == OLD_NAIVE else v
            )
    return table


REQUIRED = ("label", "method", "seed")  # columns every results.csv has (and the measures its organism reports)


def read_table(source: str | Path | IO[bytes], name: str | None = None) -> pd.DataFrame:
    """A results or items CSV (a path, or an uploaded file's bytes named `name`) under current names
    (current_table), or a GraspError naming the file."""
    if isinstance(source, str | Path):
        check_whole(Path(source))
    try:
        return current_table(pd.read_csv(source))
    except (OSError, ValueError) as e:  # pandas' parse and decode errors are ValueErrors
        raise GraspError(f"{name or source}: not a readable CSV ({e})") from None


def items_beside(results_csv: str | Path) -> Path | None:
    """The per-item table (items.csv) of a sweep, found beside its results table; None where there is none."""
    path = Path(results_csv).with_name("items.csv")
    return path if path.is_file() else None


def check_whole(path: Path) -> None:
    """Refuse a CSV the tool wrote that was cut short (a copy, a full disk, a crash): every row ends with a newline
    and has the header's number of fields. A file cut exactly at a row boundary reads as a shorter, whole table."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise GraspError(f"{path}: not a readable CSV ({e})") from None
    if text and not text.endswith("\n"):
        raise GraspError(f"{path}: its last row (line {text.count(chr(10)) + 1}) is cut short; restore the file")
    rows = list(csv.reader(io.StringIO(text)))
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(rows[0]):
            raise GraspError(f"{path}, line {lineno}: {len(row)} fields, the header has {len(rows[0])}")


def load_results(folder: str | Path) -> pd.DataFrame:
    """A sweep's results.csv (for the dashboard and reports): whole (check_whole), its required columns checked."""
    path = Path(folder) / "results.csv"
    if not path.is_file():
        raise GraspError(f"{folder}: no results.csv (has the sweep evaluated any cell yet?)")
    results = read_table(path)
    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        raise GraspError(
            f"{path}: no column {', '.join(f'`{c}`' for c in missing)} (columns: "
            f"{', '.join(map(str, results.columns))})"
        )
    return results


def rerender(folder: str | Path, figures: tuple[str, ...] = (".html", ".png")) -> SweepReport:
    """summary.csv, the figures and report.md again from a sweep folder's results.csv and sweep.json (nothing is
    trained or evaluated; items.csv is kept as it is)."""
    folder = Path(folder)
    results = load_results(folder)
    cfg = read_json(folder / "sweep.json", what="sweep.json") if (folder / "sweep.json").is_file() else None
    if cfg is None:
        raise GraspError(f"{folder}: no sweep.json, so the organism (and its primary measure) is unknown")
    organism = sweep_organism(cfg.get("organism"), folder / "sweep.json")
    for m in (organism.primary, "task_gain"):
        if m not in results.columns:
            raise GraspError(f"{folder / 'results.csv'}: no column `{m}`, which organism {organism.name} reports")
    try:
        total = len(SweepConfig.from_dict(cfg, where=str(folder / "sweep.json")).cells()) + 1
    except GraspError:
        total = len(results)  # a config of an older release: count what is there
    return write_report(folder, results, organism, total=total, figures=figures, examples=read_examples(folder))


def sweep_organism(organism: Any, where: Path) -> Organism:
    """The organism a sweep.json names: its folder where that still exists, else the bundled organism of that
    folder's name (a bundled result made on another machine names that machine's install path)."""
    if not isinstance(organism, str) or not organism:
        raise GraspError(f"{where}: `organism` must name an organism")
    if (Path(organism) / "organism.json").is_file():
        return load_organism(organism)
    return load_organism(Path(organism).name)
