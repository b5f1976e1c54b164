"""Misalignment-vs-task trade-off: aggregate run results over seeds, find the Pareto front, draw the plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import GraspError
from ..evaluation.stats import logit_t_interval, t_interval
from ..io import atomic_path
from .labelled_replies import HAND


@dataclass(frozen=True)
class Axes:
    """Which result columns are the x (task, higher is better) and y (misalignment, lower is better) axes."""

    x: str = "task_gain"
    y: str = "drift"
    x_title: str = "task gain kept (share of naive LoRA's held-out NLL gain)"
    y_title: str = "latent drift on unrelated prompts, P(misaligned)"


def plottable_columns(results: pd.DataFrame) -> list[str]:
    """The numeric columns of a results table an axis can show: not interval ends, and not seed or strength unless
    nothing else is numeric."""
    numeric = [
        c for c in results.columns if pd.api.types.is_numeric_dtype(results[c]) and not str(c).endswith(("_lo", "_hi"))
    ]
    return [c for c in numeric if c not in ("seed", "strength")] or numeric


PROBABILITIES = (
    "drift",
    "leak",
    "lean",
    "task_choice",
    "replies",
    HAND,
)  # mean P or share per seed: logit-scale intervals


def aggregate(results: pd.DataFrame, axes: Axes = Axes(), extra: Sequence[str] = ()) -> pd.DataFrame:
    """One row per configuration (label): the mean over seeds of x, y (and the `extra` columns present) with its
    95% interval, and an `interval` column saying what that interval is over.

    Two or more seeds: a Student t interval over the per-seed values (`95% t over n seeds`); for the probability
    columns (PROBABILITIES) taken on the logit scale and carried back, so it stays inside [0, 1]. One seed: the run's
    own per-item bootstrap interval where the table has one (`95% bootstrap over items, 1 seed`), a different and
    usually narrower quantity, so the label says which.
    """
    for col in ("label", "method", axes.x, axes.y):
        if col not in results.columns:
            raise GraspError(f"results table has no column `{col}` (columns: {', '.join(results.columns)})")
    rows = []
    for label, g in results.groupby("label", sort=False):
        row: dict[str, Any] = {
            "label": label,
            "method": g["method"].iloc[0],
            "curve": g["curve"].iloc[0] if "curve" in g else g["method"].iloc[0],
            "strength": g["strength"].iloc[0] if "strength" in g else None,
            "n_seeds": len(g),
            "interval": f"95% t over {len(g)} seeds" if len(g) > 1 else "95% bootstrap over items, 1 seed",
        }
        if "factors" in g:  # which factors each seed used (they differ by seed where picked from its naive run)
            row["factors"] = seed_factors(g)
        more = [c for c in extra if c in results.columns and c not in (axes.x, axes.y)]
        for col in (axes.x, axes.y, *more):
            vals = g[col].astype(float)
            row[col] = float(vals.mean()) if vals.notna().all() else math.nan  # not a mean over some seeds only
            if len(g) > 1 and vals.notna().all():
                probability = col in PROBABILITIES and vals.between(0.0, 1.0).all()
                iv = logit_t_interval(vals.tolist()) if probability else t_interval(vals.tolist())
                row[f"{col}_lo"], row[f"{col}_hi"] = iv.lo, iv.hi
            elif len(g) == 1 and f"{col}_lo" in g and f"{col}_hi" in g:
                row[f"{col}_lo"], row[f"{col}_hi"] = float(g[f"{col}_lo"].iloc[0]), float(g[f"{col}_hi"].iloc[0])
            else:
                row[f"{col}_lo"] = row[f"{col}_hi"] = math.nan  # no interval: say so rather than draw a zero width
        rows.append(row)
    return pd.DataFrame(rows)


def seed_factors(rows: pd.DataFrame) -> str:
    """One configuration's `factors` over its seeds: the one value where every seed used the same factors, else
    `seed s: ...` for each seed, in seed order ("" where none used factors)."""
    named = rows[rows["factors"].notna() & (rows["factors"].astype(str) != "")]
    values = [str(v) for v in named["factors"]]
    if not values or len(set(values)) == 1:
        return values[0] if values else ""
    return "; ".join(f"seed {int(s)}: {v}" for s, v in sorted(zip(named["seed"], values, strict=True)))


def pareto_front(points: pd.DataFrame, axes: Axes = Axes()) -> pd.DataFrame:
    """Rows not dominated by any other: no other point has x >= and y <= with one strictly better."""
    xs, ys = points[axes.x].to_numpy(float), points[axes.y].to_numpy(float)
    keep = []
    for i in range(len(points)):
        dominated = ((xs >= xs[i]) & (ys <= ys[i]) & ((xs > xs[i]) | (ys < ys[i]))).any()
        keep.append(not dominated)
    return points[keep].sort_values(axes.x)


def tradeoff_figure(
    points: pd.DataFrame,
    axes: Axes = Axes(),
    title: str = "Misalignment vs task",
    reference: Sequence[str] = ("base", "naive"),
    log_y: bool = False,
) -> Any:
    """A plotly figure: one curve per method over its strength with intervals, the Pareto front dashed,
    and reference points (base, naive) as large markers.

    `log_y`: a log-scale y axis (drift P spans orders of magnitude: base 0.0002, naive 0.03). Every y must be
    positive (GraspError otherwise: a log-odds or shift column is not); an interval whose lower bound is below
    the axis floor, a tenth of the smallest y (at or below 0, as a t interval over seeds of a probability can
    be), is drawn down to that floor rather than dropped.
    """
    import plotly.graph_objects as go  # lazy: plotly takes a second to import and only figures need it

    floor = log_floor(points, axes.y) if log_y else None
    fig = go.Figure()
    ref = points[points["method"].isin(reference)]
    others = points[~points["method"].isin(reference)]
    for curve, g in others.groupby("curve", sort=False):
        g = g.sort_values("strength") if "strength" in g and g["strength"].notna().all() else g
        fig.add_trace(
            go.Scatter(
                x=g[axes.x],
                y=g[axes.y],
                mode="lines+markers",
                name=str(curve),
                text=g["label"],
                error_y=_error_bars(g, axes.y, floor),
                error_x=_error_bars(g, axes.x),
                hovertemplate="%{text}<br>x=%{x:.3f}<br>y=%{y:.4f}<extra></extra>",
            )
        )
    for _, r in ref.iterrows():
        fig.add_trace(
            go.Scatter(
                x=[r[axes.x]],
                y=[r[axes.y]],
                mode="markers+text",
                name=str(r["label"]),
                text=[str(r["label"])],
                textposition="top center",
                marker=dict(size=14, symbol="star" if r["method"] == "base" else "x"),
            )
        )
    front = pareto_front(points, axes)
    fig.add_trace(
        go.Scatter(
            x=front[axes.x],
            y=front[axes.y],
            mode="lines",
            name="Pareto front",
            line=dict(dash="dash", color="grey"),
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title=axes.x_title,
        yaxis_title=axes.y_title,
        template="plotly_white",
        legend=dict(orientation="v"),
        margin=dict(l=60, r=20, t=60, b=60),
    )
    if floor is not None:
        fig.update_yaxes(type="log")
    return fig


def log_floor(points: pd.DataFrame, col: str) -> float:
    """The lowest value a log-scale axis of `col` draws: a tenth of its smallest value (all must be positive)."""
    values = pd.to_numeric(points[col], errors="coerce")
    if values.isna().any() or (values <= 0).any():
        bad = points.loc[values.isna() | (values <= 0), "label"].astype(str).tolist()
        raise GraspError(
            f"a log scale needs every `{col}` above 0; not so for {', '.join(bad[:3])}"
            + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        )
    return float(values.min()) / 10


def write_figure(fig: Any, path: str | Path) -> Path:
    """Save a plotly figure as .html, .png or .svg (by suffix), atomically. PNG/SVG need kaleido + a Chrome."""
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".html":
            fig.write_html(str(tmp), include_plotlyjs="cdn")
        elif suffix in (".png", ".svg"):
            try:
                data = fig.to_image(format=suffix[1:], scale=2)
            except Exception as e:  # kaleido raises several types when no browser is found
                raise GraspError(f"could not render {path.name}: {e}") from None
            tmp.write_bytes(data)
        else:
            raise GraspError(f"unknown figure format {suffix!r} for {path}: use .html, .png or .svg")
    return path


def _error_bars(points: pd.DataFrame, col: str, floor: float | None = None) -> dict[str, Any]:
    """Asymmetric plotly error bars from the `<col>_lo` / `<col>_hi` interval columns; lower ends below `floor`
    (a log axis) are drawn to it."""
    lo = points[f"{col}_lo"] if floor is None else points[f"{col}_lo"].clip(lower=floor)
    return dict(
        type="data", symmetric=False, array=points[f"{col}_hi"] - points[col], arrayminus=points[col] - lo, thickness=1
    )
