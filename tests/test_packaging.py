"""A non-editable install (a built wheel, installed into a folder of its own) runs the CLI and the app and finds
the bundled organisms, their probe files and the unrelated corpus: they ship as package data, not as files beside
a source checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_built_wheel_finds_the_organisms_from_cli_and_app(tmp_path: Path) -> None:
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        tmp_path,
        dict(os.environ),
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("grasp_core-*.whl")
    installed = _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        tmp_path,
        dict(os.environ),
    )
    assert installed.returncode == 0, installed.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}  # ahead of the checkout's editable install
    where = _run(
        [
            sys.executable,
            "-c",
            "import json, grasp_core as g; print(json.dumps([g.__file__, "
            "g.list_organisms(), {k: str(v) for k, v in g.demo_adapters().items()}, str(g.UNRELATED_CORPUS), "
            "[str(s.file) for s in g.load_organism('persona').probes.values()], "
            "[[b.name, str(b.folder), b.stale] for b in g.bundled_results()]]))",
        ],
        tmp_path,
        env,
    )
    assert where.returncode == 0, where.stderr
    module, organisms, adapters, corpus, probes, bundled = json.loads(where.stdout)
    committed = sorted(
        f"{p.parent.parent.name}/{p.name} (bundled)"
        for p in (ROOT / "grasp_core" / "assets" / "organisms").glob("*/results/*")
        if (p / "results.csv").is_file()
    )
    assert committed and committed == [name for name, _f, _s in bundled]  # every committed result ships
    for _name, folder, stale in bundled:  # the committed results ship, and match the organism files shipped
        assert Path(folder).is_relative_to(site) and (Path(folder) / "results.csv").is_file() and stale is None
    for data in (corpus, *probes):  # the evidence step's corpus and probe files ship too
        assert Path(data).is_relative_to(site) and Path(data).is_file(), data
    assert Path(module).is_relative_to(site) and organisms == ["flattery", "persona", "political"]
    assert set(adapters) == {"flattery", "persona", "political"}
    assert all(Path(a).is_relative_to(site) for a in adapters.values())

    assert _run([sys.executable, "-m", "grasp_core", "demo", "--help"], tmp_path, env).returncode == 0
    out = tmp_path / "factors.safetensors"
    ident = _run(
        [sys.executable, "-m", "grasp_core", "identify", "--adapter", adapters["persona"], "--out", str(out)],
        tmp_path,
        env,
    )
    assert ident.returncode == 0 and out.is_file(), ident.stderr
    assert "global-write-0" in ident.stdout

    app = (
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / 'app' / 'main.py')!r}, default_timeout=120).run()\n"
        "assert not at.exception, at.exception\n"
        "print([list(r.options) for r in at.radio] + [list(s.options) for s in at.selectbox])\n"
    )
    shown = _run([sys.executable, "-c", app], tmp_path, env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "demo organism" in shown.stdout and "persona" in shown.stdout and "political" in shown.stdout
