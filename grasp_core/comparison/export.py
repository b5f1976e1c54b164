"""A transcript as a document to share: Markdown (a table per prompt, a row per model) or a standalone HTML page
(the models side by side), written atomically."""

from __future__ import annotations

import html
import time
from pathlib import Path

from ..errors import GraspError
from ..io import grasp_home, write_text
from .transcript import Transcript, prompt_text

FORMATS = ("md", "html")


def _header(t: Transcript) -> list[str]:
    c = t.config
    return [
        f"Base {t.base}; models {', '.join(t.models)}.",
        f"Replies of at most {c.max_new_tokens} new tokens: greedy"
        + (
            f", and {c.samples} sampled at temperature {c.temperature:g} (prompt i from seed {c.seed} + i)."
            if c.samples
            else "."
        ),
    ]


def _cell(text: str | None) -> str:
    return (
        "(not written)"
        if text is None
        else html.escape(text or "(empty)", quote=False).replace("|", "\\|").replace("\n", "<br>")
    )


def to_markdown(t: Transcript) -> str:
    """One section per prompt: its system turn, if any, and a table of each model's replies."""
    kinds = t.config.kinds
    out = ["# What the models say", "", *_header(t), ""]
    for i, chat in enumerate(t.prompts):
        out += [f"## {i + 1}. {prompt_text(chat)}", ""]
        out += [f"*{m['role']}:* {m['content']}" for m in chat[:-1]] + ([""] if len(chat) > 1 else [])
        out += ["| model | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
        out += [f"| {m} | " + " | ".join(_cell(t.reply(i, k, m)) for k in kinds) + " |" for m in t.models]
        out.append("")
    return "\n".join(out)


def to_html(t: Transcript) -> str:
    """A standalone page: per prompt and reply kind, the models' replies in columns."""
    e = html.escape
    rows = []
    for i, chat in enumerate(t.prompts):
        rows.append(f"<h2>{i + 1}. {e(prompt_text(chat))}</h2>")
        rows += [f"<p><i>{e(m['role'])}:</i> {e(m['content'])}</p>" for m in chat[:-1]]
        rows.append("<table><tr><th></th>" + "".join(f"<th>{e(m)}</th>" for m in t.models) + "</tr>")
        for k in t.config.kinds:
            cells = "".join(f"<td>{e(t.reply(i, k, m) or '(empty)')}</td>" for m in t.models)
            rows.append(f"<tr><th>{e(k)}</th>{cells}</tr>")
        rows.append("</table>")
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}td{white-space:pre-wrap}"
    )
    head = "".join(f"<p>{e(line)}</p>" for line in _header(t))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>What the models say</title><style>{style}</style>'
        f"</head><body><h1>What the models say</h1>{head}{''.join(rows)}</body></html>\n"
    )


def save_in_workspace(t: Transcript) -> list[Path]:
    """The transcript as Markdown and HTML under GRASP_HOME/comparisons/, named by the time (the Compare page's
    "Save in the workspace")."""
    folder = grasp_home() / "comparisons"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / time.strftime("compare-%Y%m%d-%H%M%S")
    return [export(t, stem.with_suffix(f".{fmt}")) for fmt in FORMATS]


def export(t: Transcript, path: str | Path) -> Path:
    """Write the transcript as Markdown or HTML, by the file's suffix (.md, .html), atomically."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise GraspError(f"{path}: export as .md or .html, not {path.suffix or 'a file without suffix'}")
    write_text(path, to_markdown(t) if fmt == "md" else to_html(t))
    return path
