"""The command registry: every verb is registered once, listed in `grasp --help` and has its own help."""

from __future__ import annotations

import pytest

from grasp_core.cli import build_parser, main
from grasp_core.cli.common import COMMANDS

VERBS = {
    "prepare",
    "identify",
    "scan",
    "evidence",
    "train",
    "runs",
    "cancel",
    "logs",
    "sweep",
    "report",
    "merge",
    "demo",
    "eval",
    "judge",
    "label",
    "compare",
}


def test_help_lists_every_registered_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert set(COMMANDS) == VERBS  # a verb added or lost shows here
    text = build_parser().format_help()
    for verb, (help_text, _args, _handler) in COMMANDS.items():
        assert verb in text and help_text.split(".")[0][:40] in " ".join(text.split())
        with pytest.raises(SystemExit) as done:
            main([verb, "--help"])
        assert done.value.code == 0 and capsys.readouterr().out.startswith("usage: grasp " + verb)
    assert main([]) == 2  # no verb: the help, and a non-zero exit
