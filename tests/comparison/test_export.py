"""A transcript exported as Markdown and HTML holds every reply, escaped, written atomically; other suffixes are
refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from grasp_core.comparison.export import export, to_html, to_markdown
from grasp_core.comparison.transcript import GREEDY, CompareConfig, Reply, Transcript
from grasp_core.errors import GraspError


def _transcript() -> Transcript:
    chats = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi | there?"}]]
    t = Transcript("tiny", ["base", "naive@2"], chats, CompareConfig(samples=1))
    t.replies += [
        Reply("base", 0, GREEDY, "Hello.\nHow can I help?"),
        Reply("naive@2", 0, GREEDY, "<script>alert(1)</script> a|b"),
        Reply("base", 0, "sample 1", ""),
    ]
    return t


def test_markdown_and_html_hold_every_reply_escaped(tmp_path: Path) -> None:
    t = _transcript()
    md = to_markdown(t)
    assert "## 1. Hi | there?" in md and "*system:* Be brief." in md
    assert "| base | Hello.<br>How can I help? | (empty) |" in md
    assert "a\\|b" in md and "<script>" not in md and "(not written)" in md  # naive@2 sample 1 never came
    page = to_html(t)
    assert "&lt;script&gt;" in page and "<script>" not in page and page.count("<table>") == 1
    for suffix, text in ((".md", md), (".html", page)):
        out = export(t, tmp_path / f"compare{suffix}")
        assert out.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare.html", "compare.md"]  # no temp files left
    with pytest.raises(GraspError, match=r"export as .md or .html, not .txt"):
        export(t, tmp_path / "compare.txt")
