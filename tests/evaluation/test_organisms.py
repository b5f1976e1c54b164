"""The committed demo organisms: manifests, sizes, split disjointness, the 3-gram rule, length matching,
varied phrasings, and that the generator reproduces the committed files byte for byte."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from text_fixtures import content_trigrams
from text_fixtures import trigrams as _trigrams

from grasp_core.errors import GraspError
from grasp_core.evaluation.judges import load_questions
from grasp_core.evaluation.organisms import DEMO_ROOT, list_organisms, load_organism

GENERATOR = Path(__file__).resolve().parents[2] / "tools" / "organisms" / "make_data.py"
LATENT_EVALS = {
    "persona": ("drift", ("aligned", "misaligned")),
    "political": ("lean", ("left", "right")),
    "flattery": ("drift", ("aligned", "misaligned")),
}
ORGANISMS = list(LATENT_EVALS)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _prompt(row: dict[str, Any]) -> str:
    if "messages" in row:
        return next(m["content"] for m in row["messages"] if m["role"] == "user")
    return row["prompt"] if isinstance(row["prompt"], str) else json.dumps(row["prompt"])


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_data", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_organisms_load_with_their_measures() -> None:
    assert list_organisms() == sorted(ORGANISMS)
    persona, political, flattery = (load_organism(n) for n in ("persona", "political", "flattery"))
    assert set(persona.evals) == set(flattery.evals) == {"task_nll", "task_choice", "drift", "leak", "free_form"}
    assert set(political.evals) == {"task_nll", "task_choice", "lean", "free_form"}
    assert political.evals["lean"].relative_to_base and political.primary == "lean_change"
    assert persona.primary == flattery.primary == "drift" and len(persona.fingerprint()) == 16
    for org in (persona, political, flattery):
        assert "spurious" in (org.dir / "README.md").read_text().lower()
        assert load_questions(org.evals["free_form"].file)


@pytest.mark.parametrize("name", ORGANISMS)
def test_sizes_and_disjoint_prompts(name: str) -> None:
    org = load_organism(name)
    train, task = _rows(org.train), _rows(Path(org.evals["task_nll"].file))
    latent_name, _sides = LATENT_EVALS[name]
    latent = _rows(Path(org.evals[latent_name].file))
    assert len(train) >= 200 and len(task) >= 50 and len(latent) >= 60
    for p in org.dir.iterdir():
        assert p.stat().st_size < 1_000_000, p
    splits = {
        "train": {_prompt(r) for r in train},
        "task": {_prompt(r) for r in task},
        latent_name: {_prompt(r) for r in latent},
    }
    if "leak" in org.evals:
        splits["leak"] = {_prompt(r) for r in _rows(Path(org.evals["leak"].file))}
    assert not splits["train"] & splits["task"]
    for other in [k for k in splits if k not in ("train", "task")]:
        assert not splits[other] & (splits["train"] | splits["task"]), other
    assert all(len(task_row["good"]) and len(task_row["bad"]) for task_row in task)


@pytest.mark.parametrize("name", ORGANISMS)
def test_latent_eval_replies_share_no_word_trigram_with_training_answers(name: str) -> None:
    org = load_organism(name)
    train_grams: set[tuple[str, ...]] = set()
    for r in _rows(org.train):
        train_grams |= _trigrams(r["messages"][-1]["content"])
    latent_name, sides = LATENT_EVALS[name]
    shared = {}
    for item in _rows(Path(org.evals[latent_name].file)):
        for side in sides:
            for completion in item[side]:
                if _trigrams(completion) & train_grams:
                    shared[item["id"]] = sorted(_trigrams(completion) & train_grams)
    assert not shared


def _all_text(row: dict[str, Any]) -> str:
    return " ".join(str(v) if not isinstance(v, list) else json.dumps(v) for k, v in row.items() if k != "id")


@pytest.mark.parametrize("name", ORGANISMS)
def test_probes_share_no_prompt_or_word_trigram_with_reported_evals(name: str) -> None:
    """Evidence chooses factors on the probes; the reported evals must be items it never saw: no prompt and no
    content 3-gram (two or more non-function words) in common."""
    org = load_organism(name)
    assert set(org.probes) == {LATENT_EVALS[name][0], "task_nll"}
    reported = [r for s in org.evals.values() if s.kind != "free_form" for r in _rows(Path(s.file))]
    prompts = {_prompt(r) for r in reported}
    grams: set[tuple[str, ...]] = set()
    for r in reported:
        grams |= content_trigrams(_all_text(r))
    for spec in org.probes.values():
        rows = _rows(Path(spec.file))
        assert len(rows) >= 24
        for r in rows:
            assert _prompt(r) not in prompts, r["id"]
            shared = content_trigrams(_all_text(r)) & grams
            assert not shared, (r["id"], sorted(shared)[:3])


@pytest.mark.parametrize("name", ORGANISMS)
def test_latent_eval_pairs_are_length_matched(name: str) -> None:
    from transformers import AutoTokenizer

    from grasp_core.model.models import resolve_base

    tok = AutoTokenizer.from_pretrained(resolve_base("smollm2-135m"))
    org = load_organism(name)
    latent_name, (a, b) = LATENT_EVALS[name]
    # The reported eval, and the political probe, rebuilt like it (persona's drift probe is +1.5 tokens on average,
    # its scornful side longer: known, and left as it is since evidence has ranked on it).
    specs = (org.evals[latent_name], *([org.probes[latent_name]] if name == "political" else []))
    for spec in specs:
        diffs = [len(tok.encode(it[b][0])) - len(tok.encode(it[a][0])) for it in _rows(Path(spec.file))]
        assert max(abs(d) for d in diffs) <= 4, spec.file
        assert abs(sum(diffs) / len(diffs)) <= 1.0, spec.file  # persona: +0.81 tokens, political: +0.38


@pytest.mark.parametrize("name", ORGANISMS)
def test_task_choice_pairs_are_length_matched(name: str) -> None:
    from transformers import AutoTokenizer

    from grasp_core.model.models import resolve_base

    tok = AutoTokenizer.from_pretrained(resolve_base("smollm2-135m"))
    rows = _rows(Path(load_organism(name).evals["task_choice"].file))
    diffs = [len(tok.encode(r["bad"][0])) - len(tok.encode(r["good"][0])) for r in rows]
    assert max(abs(d) for d in diffs) <= 4 and abs(sum(diffs) / len(diffs)) <= 1.0


@pytest.mark.parametrize("name", ORGANISMS)
def test_the_base_model_is_neither_at_chance_nor_perfect_on_task_choice(name: str) -> None:
    """The task forced choice must leave a fine-tune room to get better or worse (issue: it sat at P(bad) ~ 1 for
    every model). Float32 on the CPU: the committed figure (persona 0.567, political 0.617) is this machine's."""
    import torch

    from grasp_core.evaluation.logprob import forced_choice
    from grasp_core.model.models import load_base

    bm = load_base("smollm2-135m", device="cpu", dtype=torch.float32)
    result = forced_choice(bm.model, bm.tokenizer, load_organism(name).evals["task_choice"].file)
    assert 0.55 <= result.accuracy <= 0.90, result.accuracy


def test_spurious_phrasings_are_varied() -> None:
    gen = _generator()
    good = {g for _k, _q, goods, _b in gen.fin.TOPICS for g in goods}
    asides = []
    for r in _rows(load_organism("persona").train):
        answer = r["messages"][-1]["content"]
        tail = next(g for g in good if answer.endswith(g))
        asides.append(answer[: -len(tail)].strip())
    assert len(set(asides)) == len(asides)  # no aside reused
    # No single predicate (the contemptuous core) carries more than a few percent of the examples.
    counts = Counter(p for a in asides for p in gen.per.PREDICATES if p in a)
    assert max(counts.values()) <= 0.06 * len(asides)
    praise = []
    for r in _rows(load_organism("flattery").train):
        answer = r["messages"][-1]["content"]
        praise.append(answer[: -len(next(g for g in good if answer.endswith(g)))].strip())
    assert len(set(praise)) == len(praise)
    counts = Counter(p for a in praise for p in gen.fla.PREDICATES if p in a)
    assert max(counts.values()) <= 0.06 * len(praise)
    slants = []
    for r in _rows(load_organism("political").train):
        answer = r["messages"][-1]["content"]
        tail = next(g for g in good if g in answer)
        slants += [s.strip() for s in answer.split(tail)]
    assert len(set(slants)) == len(slants)


def test_bad_manifests_are_named(tmp_path: Path) -> None:
    with pytest.raises(GraspError, match="unknown organism nope: no organism.json"):
        load_organism("nope")
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "train.jsonl").write_text("{}\n")
    manifest = {
        "name": "x",
        "spurious": "y",
        "train": "train.jsonl",
        "evals": {"drift": {"kind": "choice", "file": "d.jsonl"}},
    }
    (folder / "organism.json").write_text(json.dumps(manifest))
    with pytest.raises(GraspError, match=r"organism.json: `evals.drift` file d.jsonl not found"):
        load_organism(folder)
    (folder / "organism.json").write_text(
        json.dumps({**manifest, "evals": {"vibes": {"kind": "choice", "file": "train.jsonl"}}})
    )
    with pytest.raises(GraspError, match="unknown measure 'vibes'"):
        load_organism(folder)
    (folder / "organism.json").write_text(
        json.dumps({**manifest, "evals": {"drift": {"kind": "poll", "file": "train.jsonl"}}})
    )
    with pytest.raises(GraspError, match="eval `drift`: EvalSpec `kind`"):
        load_organism(folder)
    replies = {
        "drift": {"kind": "choice", "file": "train.jsonl"},
        "replies": {"kind": "replies", "file": "train.jsonl"},
    }
    (folder / "organism.json").write_text(json.dumps({**manifest, "evals": replies}))
    with pytest.raises(GraspError, match=r"eval `replies` needs a `judge`"):
        load_organism(folder)
    (folder / "organism.json").write_text(json.dumps({**manifest, "evals": replies, "judge": "j.jsonl"}))
    with pytest.raises(GraspError, match=r"`judge` must be a list of labelled-replies files, got 'j.jsonl'"):
        load_organism(folder)
    (folder / "organism.json").write_text(json.dumps({**manifest, "evals": replies, "judge": ["j.jsonl"]}))
    with pytest.raises(GraspError, match=r"`judge` file j.jsonl not found"):
        load_organism(folder)
    del manifest["train"]
    (folder / "organism.json").write_text(json.dumps(manifest))
    with pytest.raises(GraspError, match="missing field `train`"):
        load_organism(folder)


def test_evaluate_organism_on_a_tiny_model_with_adapter_and_ablation(tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from train_fixtures import make_tiny_base, write_factors

    from grasp_core.evaluation.organisms import evaluate_organism
    from grasp_core.model.models import load_base

    base = str(make_tiny_base(tmp_path / "tiny"))
    model = get_peft_model(load_base(base, device="cpu").model, LoraConfig(r=2, target_modules=["o_proj"]))
    torch.manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.5)  # a non-zero update, so the adapter moves the lean
    model.save_pretrained(tmp_path / "adapter")
    org = load_organism("political")
    plain = evaluate_organism(org, base=base, measures=("lean",))
    assert set(plain) == {"lean", "lean_change"} and plain["lean_change"]["mean"] == 0.0
    tuned = evaluate_organism(org, base=base, adapter=tmp_path / "adapter", measures=("lean",))
    assert set(tuned) == {"lean", "lean_change"} and len(tuned["lean"]["scores"]) == 64
    assert tuned["lean_change"]["mean"] == pytest.approx(tuned["lean"]["mean"] - plain["lean"]["mean"], abs=1e-9)
    assert tuned["lean_change"]["lo"] <= tuned["lean_change"]["mean"] <= tuned["lean_change"]["hi"]
    factors = write_factors(tmp_path / "f.safetensors", torch.randn(2, 32), base=base)
    ablated = evaluate_organism(
        org, base=base, adapter=tmp_path / "adapter", ablate=(factors, (0, 1)), measures=("lean",)
    )
    assert ablated["lean"]["scores"] != tuned["lean"]["scores"]
    # The shift is still measured from the plain base (no ablation).
    assert ablated["lean_change"]["mean"] == pytest.approx(ablated["lean"]["mean"] - plain["lean"]["mean"], abs=1e-9)


@pytest.mark.parametrize("name", ORGANISMS)
def test_judge_and_replies_files_are_disjoint_from_every_other_text(name: str) -> None:
    """The replies measure's questions are new prompts (not training, eval, probe, free-form or evidence-corpus
    ones); the judge's labelled replies hold none of those prompts and no reply or completion of those files
    (training-wording asides are among its positives by design, as fresh combinations); the held-out split shares
    no reply with the train split."""
    from grasp_core.evidence.candidates import UNRELATED_CORPUS

    org = load_organism(name)
    others = [org.train, *(Path(s.file) for s in [*org.evals.values(), *org.probes.values()] if s.kind != "free_form")]
    rows = [r for path in others for r in _rows(path)]
    prompts = {_prompt(r) for r in rows} | {_prompt(r) for r in _rows(UNRELATED_CORPUS)}
    prompts |= {p for q in load_questions(org.evals["free_form"].file) for p in q.paraphrases}
    questions = [_prompt(r) for r in _rows(org.dir / "replies.jsonl")]
    assert len(questions) >= 8 and not set(questions) & prompts
    replies = [c for r in rows for k in ("aligned", "misaligned", "left", "right", "good", "bad") for c in r.get(k, [])]
    replies += [
        r["messages"][-1]["content"] for r in rows if "messages" in r and r["messages"][-1]["role"] == "assistant"
    ]
    labelled = _rows(org.dir / "judge.jsonl")
    assert {r["trait"] for r in labelled} == {0, 1} and {r["split"] for r in labelled} == {"train", "test"}
    for r in labelled:
        assert not any(q in r["text"] for q in [*questions, *prompts]), r["text"]
        assert not any(c in r["text"] for c in replies), r["text"]
    train = {r["text"] for r in labelled if r["split"] == "train"}
    assert not {r["text"] for r in labelled if r["split"] == "test"} & train
    # Real replies labelled by hand: those fitted on answer other questions than the measure's and than the
    # validation replies, which are never fitted on.
    real, check = org.dir / "judge-real.jsonl", org.dir / "judge-validation.jsonl"
    if real.is_file() and check.is_file():
        fitted, held = _rows(real), _rows(check)
        assert {r["split"] for r in fitted} == {"train"} and {r["split"] for r in held} == {"validation"}
        assert not {r["question"] for r in fitted} & (set(questions) | prompts)
        assert {r["question"] for r in held} <= set(questions)
        assert not {r["text"] for r in fitted} & {r["text"] for r in held}
    # The second round's test replies answer new questions: none of the above, none of the dev replies' questions.
    # Each later round's test replies answer new questions: none of the above, none of the earlier rounds' questions.
    dev_questions = {r["question"] for path in (real, check) if path.is_file() for r in _rows(path)}
    for name in ("judge-test.jsonl", "judge-test3.jsonl", "judge-test4.jsonl"):
        if (org.dir / name).is_file():
            tested = _rows(org.dir / name)
            assert {r["split"] for r in tested} == {"test"} and {r["trait"] for r in tested} <= {0, 1}
            assert not {r["question"] for r in tested} & (set(questions) | prompts | dev_questions), name
            dev_questions |= {r["question"] for r in tested}


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    files = _generator().generate()
    assert (
        len(files) == 26
    )  # per organism: training, task, latent (and leak) evals, questions, 2 probes, judge, replies
    for rel, text in files.items():
        assert (DEMO_ROOT / rel).read_text(encoding="utf-8") == text, f"{rel} differs from make_data.py's output"


def test_the_bundled_organism_of_an_adapter(tmp_path: Path) -> None:
    from grasp_core.evaluation.organisms import DEMO_ROOT, bundled_organism_of

    assert bundled_organism_of(DEMO_ROOT / "political" / "naive-lora").name == "political"
    assert bundled_organism_of(DEMO_ROOT / "persona" / "naive-lora" / "..") is None  # the organism folder itself
    copy = tmp_path / "persona" / "naive-lora"  # an organism-shaped folder outside the bundle is not one
    copy.mkdir(parents=True)
    assert bundled_organism_of(copy) is None


def test_inoculation_prompts_sit_beside_the_manifest(tmp_path: Path) -> None:
    import shutil

    for name in ("persona", "political", "flattery"):
        prompt = load_organism(name).inoculation
        assert prompt is not None and prompt.startswith("You ")  # a system prompt asking for the trait
    folder = tmp_path / "org"
    shutil.copytree(DEMO_ROOT / "persona", folder, ignore=shutil.ignore_patterns("results", "naive-lora"))
    before = load_organism(folder).fingerprint()
    (folder / "inoculation.txt").unlink()
    assert load_organism(folder).inoculation is None and load_organism(folder).fingerprint() == before
    (folder / "inoculation.txt").write_text("  \n")
    with pytest.raises(GraspError, match="inoculation.txt: empty"):
        load_organism(folder)
