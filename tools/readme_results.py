"""Write README.md's result tables from the committed sweep results, so no number in them is copied by hand.

Every block between `<!-- results: <organism>/<sweep> -->` and `<!-- /results -->` is replaced by
`grasp_core.sweep.report.results_block` of grasp_core/assets/organisms/<organism>/results/<sweep>/, and every block
between `<!-- rule: pairs -->` (or `order`) and `<!-- /rule -->` by tools/choose_default.py's pair table (or its
order of the candidates) over the committed main sweeps. `--check` exits 1 (and changes nothing) where a block
differs from what the committed files give; `make test` runs it.

    python tools/readme_results.py [--check] [README.md]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from grasp_core.evaluation.organisms import DEMO_ROOT
from grasp_core.io import write_text
from grasp_core.sweep.provenance import BUNDLED_DIR
from grasp_core.sweep.report import results_block

BLOCK = re.compile(r"(<!-- results: (?P<name>[\w.-]+/[\w.-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)
RULE = re.compile(r"(<!-- rule: (?P<name>pairs|order) -->\n)(?P<body>.*?)(<!-- /rule -->)", re.S)


def _choose_default() -> ModuleType:
    """tools/choose_default.py, the rule as code, loaded from beside this script."""
    spec = importlib.util.spec_from_file_location("choose_default", Path(__file__).with_name("choose_default.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def render(text: str, root: Path = DEMO_ROOT) -> str:
    """`text` with every results block regenerated from the committed files it names."""

    def one(m: re.Match[str]) -> str:
        organism, sweep = m["name"].split("/")
        folder = root / organism / BUNDLED_DIR / sweep
        if not (folder / "summary.csv").is_file():
            raise SystemExit(f"README block {m['name']}: no committed results in {folder}")
        return f"{m[1]}{results_block(folder)}\n{m[4]}"

    text = BLOCK.sub(one, text)
    if not RULE.search(text):
        return text
    rule = _choose_default()
    folders = {org: rule.sweep_folder(org, from_home=False, root=root) for org in rule.ORGANISMS}
    candidates, missing = rule.evaluate(folders)

    def verdict(m: re.Match[str]) -> str:
        if m["name"] == "pairs":
            lines = rule.pairs_table(candidates, folders)
        else:
            lines = rule.order_lines(candidates, missing, max_waits=0)
        return m[1] + "\n".join(lines) + "\n" + m[4]

    return RULE.sub(verdict, text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("readme", nargs="?", default=str(Path(__file__).resolve().parents[1] / "README.md"))
    p.add_argument("--check", action="store_true", help="exit 1 where a block is not what the files give")
    ns = p.parse_args(argv)
    path = Path(ns.readme)
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if ns.check:
        if new != text:
            print(
                f"{path}: result tables differ from the committed results; run python tools/readme_results.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if new != text:
        write_text(path, new)
    print(f"{path}: {len(BLOCK.findall(text)) + len(RULE.findall(text))} result block(s) written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
