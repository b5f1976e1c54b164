"""The layout rules import-linter does not check (README, "Library layout"): imports inside functions only for
heavy optional dependencies with a reason, pages that only lay out widgets, and a complete public API."""

from __future__ import annotations

import ast
from pathlib import Path

import grasp_core

ROOT = Path(__file__).resolve().parents[1]
# Third-party packages a function may import lazily, each because importing it costs seconds or it is optional
# (scikit-learn: about a second, and only the offline trait judge needs it).
LAZY_OK = {"transformers", "peft", "plotly", "tabulate", "sklearn"}


def _function_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    found += [(node.lineno, a.name) for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def test_imports_inside_functions_are_heavy_optional_dependencies_with_a_reason() -> None:
    bad = []
    for path in sorted((ROOT / "grasp_core").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, module in _function_imports(path):
            if module.split(".")[0] not in LAZY_OK or "# lazy:" not in lines[lineno - 1]:
                bad.append(f"{path.relative_to(ROOT)}:{lineno}: {module}")
    assert not bad, "imports inside functions (move them to the top, or a heavy dependency with `# lazy: why`):\n" + (
        "\n".join(bad)
    )


def test_pages_only_lay_out_widgets_and_call_grasp_core() -> None:
    """No method name literal (method quirks are fields of METHODS) and no config built in a page."""
    for path in sorted((ROOT / "pages").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert not literals & set(grasp_core.METHODS), f"{path.name}: method names {literals & set(grasp_core.METHODS)}"
        called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        called |= {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert not called & {"TrainConfig", "SweepConfig", "from_dict"}, f"{path.name} builds a config"


# What only grasp_core decides: where files are (path modules, file-system queries), and the rows of a table.
PATH_MODULES = {"os", "pathlib", "glob", "shutil"}
FILE_QUERIES = {"glob", "rglob", "iterdir", "is_file", "is_dir", "exists", "stat", "with_name", "parent"}


def page_computations(source: str) -> list[str]:
    """What in a page's source computes instead of laying out widgets, as far as a syntax check can tell: imports
    of path modules, file-system queries, and hand-built tables (a comprehension whose items are dict literals)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"line {node.lineno}: imports {n}" for n in names if n.split(".")[0] in PATH_MODULES]
        elif isinstance(node, ast.Attribute) and node.attr in FILE_QUERIES:
            found.append(f"line {node.lineno}: file-system query .{node.attr}")
        elif isinstance(node, ast.ListComp | ast.GeneratorExp) and isinstance(node.elt, ast.Dict):
            found.append(f"line {node.lineno}: builds a table row by row")
    return sorted(found, key=lambda f: int(f.split(":")[0].removeprefix("line ")))


def test_pages_decide_nothing_that_grasp_core_should() -> None:
    bad = [
        f"pages/{p.name}: {what}"
        for p in sorted((ROOT / "pages").glob("*.py"))
        for what in page_computations(p.read_text())
    ]
    assert not bad, "move these into grasp_core (one call from the page):\n" + "\n".join(bad)


def test_the_page_check_catches_what_it_should() -> None:
    """The check itself can fail: each kind of computation it names is caught in a made-up page."""
    caught = page_computations(
        "import os\nfrom pathlib import Path\n"
        "beside = Path(adapter).parent / 'train.jsonl'\n"
        "ok = beside.is_file()\n"
        "rows = [{'id': f.id, 'sigma': f.sigma} for f in fs.factors]\n"
    )
    assert [c.split(": ", 1)[1] for c in caught] == [
        "imports os",
        "imports pathlib",
        "file-system query .parent",
        "file-system query .is_file",
        "builds a table row by row",
    ]
    assert page_computations("import streamlit as st\nst.dataframe(pd.DataFrame(fs.rows()))\n") == []


def test_every_module_has_its_test_file() -> None:
    """README's promise: tests/<folder>/test_<module>.py for every module of grasp_core (entry points excepted)."""
    missing = []
    for path in sorted((ROOT / "grasp_core").rglob("*.py")):
        rel = path.relative_to(ROOT / "grasp_core")
        if rel.parts[0] == "assets" or path.name in ("__init__.py", "__main__.py"):
            continue
        test = ROOT / "tests" / rel.parent / f"test_{path.name}"
        if not test.is_file():
            missing.append(f"{path.relative_to(ROOT)} -> {test.relative_to(ROOT)}")
    assert not missing, "modules without a test file:\n" + "\n".join(missing)


def test_the_public_api_is_sorted_and_complete() -> None:
    assert grasp_core.__all__ == sorted(grasp_core.__all__, key=lambda n: (not n.isupper(), n))
    missing = [n for n in grasp_core.__all__ if not hasattr(grasp_core, n)]
    assert not missing
    # Every page and app helper imports from grasp_core itself (import-linter checks the modules; this the names).
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "app").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "grasp_core":
                assert {a.name for a in node.names} <= set(grasp_core.__all__), path.name
