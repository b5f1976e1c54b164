"""Plot styling shared by the pages: one template, one colour scale, figure export buttons."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
import streamlit as st

TEMPLATE = "plotly_white"
HEAT = "Viridis"
DIVERGING = "RdBu_r"


def style(fig: go.Figure, title: str | None = None, height: int = 380) -> go.Figure:
    """Apply the dashboard look to a figure."""
    fig.update_layout(template=TEMPLATE, height=height, margin=dict(l=50, r=20, t=50 if title else 20, b=40))
    if title:
        fig.update_layout(title=title)
    return fig


def heatmap(z: Any, x: list[Any], y: list[Any], title: str, colorscale: str = HEAT, **kw: Any) -> go.Figure:
    """A styled heatmap."""
    fig = go.Figure(go.Heatmap(z=z, x=x, y=y, colorscale=colorscale, **kw))
    return style(fig, title)


def token_html(tokens: list[str], values: list[float], scale: float, skip: int = 0) -> str:
    """Tokens as inline spans on a diverging scale centred at 0: red for positive, blue for negative values along the
    factor; the first `skip` tokens (the attention sink) are shown uncoloured."""
    spans = []
    for t, (tok, v) in enumerate(zip(tokens, values, strict=False)):
        a = min(1.0, abs(v) / scale) if scale > 0 and t >= skip else 0.0
        rgb = "220,50,47" if v >= 0 else "38,139,210"
        text = html.escape(tok).replace("\n", "⏎")
        spans.append(f'<span title="{v:.3f}" style="background: rgba({rgb},{a:.2f}); padding:1px 0">{text}</span>')
    return '<div style="font-family: monospace; line-height: 1.8; white-space: pre-wrap">' + "".join(spans) + "</div>"


def export_buttons(fig: go.Figure, stem: str, key: str) -> None:
    """Download buttons for a figure as HTML, PNG and SVG (PNG/SVG are rendered only when asked)."""
    cols = st.columns(3)
    cols[0].download_button("HTML", fig.to_html(include_plotlyjs="cdn"), f"{stem}.html", "text/html", key=f"{key}-html")
    for col, fmt, mime in ((cols[1], "png", "image/png"), (cols[2], "svg", "image/svg+xml")):
        if col.button(fmt.upper(), key=f"{key}-{fmt}-render", help=f"render {stem}.{fmt}"):
            try:
                data = fig.to_image(format=fmt, scale=2)
            except Exception as e:  # kaleido raises several types when no Chrome is found
                st.error(f"could not render {stem}.{fmt}: {e}")
            else:
                col.download_button(f"save {fmt.upper()}", data, f"{stem}.{fmt}", mime, key=f"{key}-{fmt}")
