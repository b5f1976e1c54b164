"""Demo organisms: a folder with an organism.json manifest naming its training file and which eval is which
measure, read in one format by the CLI, the sweep and the dashboard.

organism.json:
    {"name": "persona", "spurious": "...", "train": "train.jsonl",
     "evals": {"task_nll": {"kind": "nll", "file": "task.jsonl"}, "drift": {"kind": "choice", "file": ...}, ...}}
Measures: task_nll, task_choice (task score), drift (latent trait on unrelated prompts), leak (training
phrasings on unrelated prompts), lean (political lean, reported as the change from the base), free_form, replies
(sampled replies to unrelated questions judged by the organism's offline trait judge, `"judge": [files]`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..errors import GraspError
from ..io import file_hash, read_json, read_text
from ..model.adapters import load_model
from .config import EvalConfig
from .suite import EvalSpec, ablated, evaluate
from .trait_judge import fit_trait_judge

# The bundled organisms ship inside the package (package data), so a non-editable install finds them too.
DEMO_ROOT = Path(str(files("grasp_core") / "assets" / "organisms"))
MANIFEST = "organism.json"
CHANGE = "_change"  # suffix of a measure's paired change from the plain base: lean -> lean_change
OLD_CHANGE = "_shift"  # that suffix in earlier releases, read as CHANGE
NAIVE_DIR = "naive-lora"  # the organism's committed naive LoRA (PEFT folder + factors file)
INOCULATION_FILE = "inoculation.txt"  # its inoculation prompt (the `inoculate` method's system prompt), optional
QUESTIONS_FILE = "replies.jsonl"  # its unrelated questions: asked by the replies measure, examples and comparisons
MEASURES = ("task_nll", "task_choice", "drift", "leak", "lean", "free_form", "replies")


@dataclass(frozen=True)
class Organism:
    """An organism's folder, what is spurious in it, its training data and its evals by measure."""

    name: str
    dir: Path
    spurious: str
    train: Path
    evals: dict[str, EvalSpec]
    primary: str = "drift"  # the y axis of the trade-off: drift, leak or lean_change
    primary_title: str = "latent drift P(misaligned)"
    # Probe evals by measure: new items for choosing factors (evidence), disjoint from the reported `evals`.
    probes: dict[str, EvalSpec] = field(default_factory=dict)
    # The offline trait judge's labelled replies (its `replies` measure needs them): written ones, then any real
    # replies labelled by hand; () where the organism has no judge.
    judge: tuple[Path, ...] = ()
    # A system prompt asking for the trait (INOCULATION_FILE): what the `inoculate` method trains with (None: that
    # method cannot run on it). Kept beside the manifest, not in it: evaluations do not depend on it, so adding one
    # leaves the organism's fingerprint, and every result computed on it, as they were.
    inoculation: str | None = None

    def trait_judge(self) -> Any:
        """The organism's trait judge, fitted now (seconds), or None where it has none."""
        return fit_trait_judge(*self.judge) if self.judge else None

    @property
    def questions(self) -> Path | None:
        """Its unrelated questions file (QUESTIONS_FILE), None where it has none."""
        path = self.dir / QUESTIONS_FILE
        return path if path.is_file() else None

    @property
    def naive_adapter(self) -> Path:
        """Where the organism's naive LoRA lives (it may not be built yet)."""
        return self.dir / NAIVE_DIR

    def fingerprint(self) -> str:
        """A short hash of the manifest and every file it lists (cache keys of evaluations)."""
        return file_hash(self.dir / MANIFEST, self.train, *(Path(s.file) for s in self.evals.values()), *self.judge)

    def probes_fingerprint(self) -> str:
        """A short hash of the manifest and the probe files (what evidence ranks factors on)."""
        return file_hash(self.dir / MANIFEST, *(Path(s.file) for s in self.probes.values()))

    def eval_specs(self, measures: tuple[str, ...] | None = None) -> list[EvalSpec]:
        """The specs of the given measures (default: all), in manifest order."""
        return [s for m, s in self.evals.items() if measures is None or m in measures]


def list_organisms(root: Path = DEMO_ROOT) -> list[str]:
    """Names of the bundled organisms (folders with a manifest)."""
    return sorted(p.parent.name for p in root.glob(f"*/{MANIFEST}"))


def demo_adapters(root: Path = DEMO_ROOT) -> dict[str, Path]:
    """Bundled organisms whose naive LoRA is built: name -> adapter folder."""
    return {
        name: root / name / NAIVE_DIR
        for name in list_organisms(root)
        if (root / name / NAIVE_DIR / "adapter_config.json").is_file()
    }


def bundled_organism_of(adapter: str | Path, root: Path = DEMO_ROOT) -> Organism | None:
    """The bundled organism whose naive LoRA folder (<organism>/naive-lora/) `adapter` is, else None."""
    folder = Path(adapter).resolve().parent
    if folder.parent != root.resolve() or folder.name not in list_organisms(root):
        return None
    return load_organism(folder.name, root)


def load_organism(name_or_dir: str | Path, root: Path = DEMO_ROOT) -> Organism:
    """Read a bundled organism by name, or any folder with an organism.json; every listed file must exist."""
    folder = Path(name_or_dir)
    if not (folder / MANIFEST).is_file():
        if str(name_or_dir) not in list_organisms(root):
            known = ", ".join(list_organisms(root)) or "none"
            raise GraspError(f"unknown organism {name_or_dir!s}: no {MANIFEST} there; bundled ones: {known}")
        folder = root / str(name_or_dir)
    path = folder / MANIFEST
    m = read_json(path, what=MANIFEST)
    for key in ("name", "spurious", "train", "evals"):
        if key not in m:
            raise GraspError(f"{path}: missing field `{key}`")
    for key in ("name", "spurious", "task", "primary", "primary_title", "generator"):
        if key in m and not isinstance(m[key], str):
            raise GraspError(f"{path}: `{key}` must be a string, got {m[key]!r}")
    train = _file(folder, m["train"], path, "train")
    if not isinstance(m["evals"], dict) or not m["evals"]:
        raise GraspError(f"{path}: `evals` must be a non-empty object of measure -> {{kind, file}}")
    evals = _specs(folder, path, m["evals"], "evals")
    probes = _specs(folder, path, m.get("probes") or {}, "probes")
    primary = m.get("primary", "drift")
    if isinstance(primary, str) and primary.endswith(OLD_CHANGE):  # the suffix of earlier releases
        warnings.warn(f"{path}: `primary` {primary!r} is now {current_column(primary)!r}", stacklevel=2)
        primary = current_column(primary)
    if primary.removesuffix(CHANGE) not in evals:
        raise GraspError(f"{path}: `primary` {primary!r} is not one of its evals ({', '.join(evals)})")
    judge = m.get("judge") or []
    if not isinstance(judge, list) or not all(isinstance(j, str) for j in judge):
        raise GraspError(f"{path}: `judge` must be a list of labelled-replies files, got {judge!r}")
    judge_files = tuple(_file(folder, j, path, "judge") for j in judge)
    if "replies" in evals and not judge_files:
        raise GraspError(f"{path}: eval `replies` needs a `judge` (labelled-replies files) to judge them")
    return Organism(
        str(m["name"]),
        folder,
        str(m["spurious"]),
        train,
        evals,
        primary,
        str(m.get("primary_title", primary)),
        probes,
        judge_files,
        _inoculation(folder),
    )


def _inoculation(folder: Path) -> str | None:
    path = folder / INOCULATION_FILE
    if not path.is_file():
        return None
    text = read_text(path, "inoculation prompt").strip()
    if not text:
        raise GraspError(f"{path}: empty; write the system prompt that asks for the trait, or remove the file")
    return text


def _specs(folder: Path, path: Path, block: Any, key: str) -> dict[str, EvalSpec]:
    if not isinstance(block, dict):
        raise GraspError(f"{path}: `{key}` must be an object of measure -> {{kind, file}}")
    out: dict[str, EvalSpec] = {}
    for measure, e in block.items():
        if measure not in MEASURES:
            raise GraspError(f"{path}: unknown measure {measure!r} in `{key}` (known: {', '.join(MEASURES)})")
        if not isinstance(e, dict) or "kind" not in e or "file" not in e:
            raise GraspError(f"{path}: {key[:-1]} `{measure}` needs `kind` and `file`")
        try:
            out[measure] = EvalSpec(
                measure,
                e["kind"],
                str(_file(folder, e["file"], path, f"{key}.{measure}")),
                bool(e.get("relative_to_base", False)),
            )
        except ValueError as err:
            raise GraspError(f"{path}: {key[:-1]} `{measure}`: {err}") from None
    return out


def evaluate_organism(
    organism: Organism,
    base: str = "smollm2-135m",
    adapter: str | Path | None = None,
    ablate: tuple[str | Path, tuple[int, ...]] | None = None,
    config: EvalConfig | None = None,
    judge: Any = None,
    measures: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The organism's measures (free-form only with a judge) for base (+ adapter) (+ ablating the factors at
    the given indices of a factors file), as {measure: {mean, lo, hi, ...}}; a relative_to_base measure `m`
    adds `m_change` (paired change from the plain base). Failed measures land under `errors`."""
    specs = [s for s in organism.eval_specs(measures) if judge is not None or s.kind != "free_form"]
    trait_judge = organism.trait_judge() if any(s.kind == "replies" for s in specs) else None
    bm = load_model(base, adapter)
    model = bm.model
    intervene = None
    if ablate is not None:
        factors_file, select = ablate

        def intervene() -> Any:
            return ablated(model, factors_file, base, list(select))

    report = evaluate(
        model,
        bm.tokenizer,
        specs,
        config,
        judge,
        intervene=intervene,
        about={"base": base, "adapter": str(adapter) if adapter else None},
        trait_judge=trait_judge,
    )
    out: dict[str, Any] = {name: r.to_dict() for name, r in report.results.items()}
    for name, iv in report.changes.items():
        out[f"{name}{CHANGE}"] = {"mean": iv.mean, "lo": iv.lo, "hi": iv.hi}
    if report.errors:
        out["errors"] = dict(report.errors)
    return out


def current_column(name: str) -> str:
    """A measure or column name with the change-from-base suffix of earlier releases (`lean_shift`, `lean_shift_lo`)
    under its current one (`lean_change`, `lean_change_lo`); any other name as given."""
    stem, sep, rest = name.partition(OLD_CHANGE)
    return f"{stem}{CHANGE}{rest}" if sep and (not rest or rest.startswith("_")) else name


def _file(folder: Path, rel: Any, manifest: Path, field: str) -> Path:
    if not isinstance(rel, str) or not rel:
        raise GraspError(f"{manifest}: `{field}` must be a file name")
    p = (folder / rel).resolve()
    if folder.resolve() not in p.parents:
        raise GraspError(f"{manifest}: `{field}` {rel!r} leaves the organism folder")
    if not p.is_file():
        raise GraspError(f"{manifest}: `{field}` file {rel} not found in {folder}")
    return p
