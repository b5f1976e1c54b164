"""grasp_core: find spurious factors in a LoRA fine-tune (step 1) and fine-tune again without them (step 2).

The subpackages follow the pipeline, each importing only those before it (import-linter checks this):
model -> identification -> evaluation -> evidence -> training -> runs -> comparison -> sweep -> cli. This module is the public API: the
dashboard's pages and user code import from here.
"""

import warnings

from .comparison.export import save_in_workspace, to_html, to_markdown
from .comparison.kl import model_kl
from .comparison.lineup import BASE, MAX_MODELS, ComparedModel, lineup
from .comparison.transcript import (
    CompareConfig,
    Reply,
    Transcript,
    check_prompts,
    compare,
    compare_replies,
    default_prompt_file,
    load_prompts,
    prompt_text,
    typed_prompts,
)
from .errors import ConfigError, GraspError
from .evaluation.config import EvalConfig
from .evaluation.hand_labels import (
    SheetResult,
    SheetRow,
    label_row,
    labels_root,
    list_sheets,
    read_sheet,
    score_sheet,
    sheet_about,
    sheet_models,
    write_sheet,
)
from .evaluation.judges import JUDGES, FreeFormResult, Question, free_form, load_questions, make_judge, number_score
from .evaluation.logprob import ChoiceResult, NllResult, forced_choice, task_nll
from .evaluation.organisms import (
    DEMO_ROOT,
    Organism,
    bundled_organism_of,
    demo_adapters,
    evaluate_organism,
    list_organisms,
    load_organism,
)
from .evaluation.replies import RepliesConfig, RepliesResult, judged_replies
from .evaluation.stats import Interval, bootstrap
from .evaluation.suite import EvalReport, EvalSpec, ablated, evaluate, spec_for_file
from .evaluation.trait_judge import TraitJudge, check_trait_judge, fit_trait_judge
from .evidence.background import (
    EvidenceProcess,
    EvidenceRequest,
    evidence_for,
    evidence_process,
    request_inputs,
    start_evidence,
)
from .evidence.bundled import bundled_evidence, organism_request, write_bundled_evidence
from .evidence.candidates import UNRELATED_CORPUS, candidate_factors
from .evidence.compare import SideBySide, side_by_side
from .evidence.effects import MeasureEffect
from .evidence.evidence import RULE, EvidenceConfig, adapter_evidence, gather_evidence, save_suggested
from .evidence.measures import Measure, measures_from_files, measures_from_specs
from .evidence.results import Ablation, Evidence, FactorEvidence, inspection_order, pick_rows
from .evidence.shift import Shift, adapter_shift, steer_by_offsets, steering_offsets
from .identification.choose import check_fits, load_picked, pick, pick_indices, random_factors
from .identification.factors import (
    Factor,
    FactorSet,
    cosine_matrix,
    identified_path,
    identify,
    load_factors,
    logit_lens,
    orthonormal_basis,
    save_factors,
)
from .identification.factorsets import (
    FactorSetSpec,
    NamedFactorSet,
    check_factor_set,
    delete_factor_set,
    list_factor_sets,
    load_factor_set,
    newest_set_for,
    save_factor_set,
    set_cosines,
)
from .identification.scan import SCAN_MODES, FactorScan, ScanConfig, scan
from .identification.shift_factors import FACTOR_SOURCES, identify_from, shift_factors
from .identification.spectra import ModuleSpectrum, adapter_spectra, lowrank_svd, spectra_table
from .identification.steering import SteeringSample, steering_preview
from .io import grasp_home, modified_time
from .model.adapters import Adapter, LoraModule, classify_module, load_adapter, load_model, training_file_beside
from .model.amplification import SCALE_RANGE, amplified
from .model.chat import load_corpus
from .model.divergence import TokenKL, next_token_logprobs, token_kl
from .model.models import (
    BUNDLED,
    DEFAULT_BASE,
    LoadedModel,
    default_device,
    load_base,
    load_config,
    n_layers,
    portable_base,
    prepare_bundled,
    resolve_base,
)
from .model.uploads import MAX_ZIP_BYTES, extract_adapter_zip
from .runs.queue import cancel, reap_dead, refresh, resume, submit, wait
from .runs.registry import (
    ACTIVE,
    Run,
    RunStatus,
    config_key,
    find_by_key,
    format_eta,
    get_run,
    list_runs,
    log_tail,
    read_metrics,
    runs_root,
)
from .runs.worker import run_foreground
from .sweep.background import (
    SweepInfo,
    list_sweeps,
    results_catalog,
    results_tables,
    resume_sweep,
    stop_sweep,
    submit_sweep,
    sweep_config_of,
)
from .sweep.config import SELECT_BY, SweepConfig
from .sweep.executor import EXECUTORS, ExecutorConfig
from .sweep.labelled_replies import all_sheets, hand_table, sheet_title
from .sweep.launch import LaunchForm, form_recipe, launch_runs, launch_sweep, parse_values
from .sweep.provenance import BundledResults, bundle, bundled_results, provenance_line, record_invocation
from .sweep.report import (
    SweepReport,
    axes_for,
    examples_beside,
    examples_by_prompt,
    flipped_items,
    items_beside,
    load_results,
    naive_label,
    read_examples,
    read_table,
    rerender,
)
from .sweep.run import run_sweep
from .sweep.status import sweep_status
from .sweep.tradeoff import Axes, aggregate, log_floor, pareto_front, plottable_columns, tradeoff_figure, write_figure
from .training.config import TrainConfig, recipe_of
from .training.loop import TrainHooks, TrainResult
from .training.methods import DEFAULT_METHOD, METHODS, Method, get_method
from .training.run import train

__all__ = [
    "ACTIVE",
    "BASE",
    "BUNDLED",
    "DEFAULT_BASE",
    "DEFAULT_METHOD",
    "DEMO_ROOT",
    "EXECUTORS",
    "FACTOR_SOURCES",
    "JUDGES",
    "MAX_MODELS",
    "MAX_ZIP_BYTES",
    "METHODS",
    "RULE",
    "SCALE_RANGE",
    "SCAN_MODES",
    "SELECT_BY",
    "UNRELATED_CORPUS",
    "Ablation",
    "Adapter",
    "Axes",
    "BundledResults",
    "ChoiceResult",
    "CompareConfig",
    "ComparedModel",
    "ConfigError",
    "EvalConfig",
    "EvalReport",
    "EvalSpec",
    "Evidence",
    "EvidenceConfig",
    "EvidenceProcess",
    "EvidenceRequest",
    "ExecutorConfig",
    "Factor",
    "FactorEvidence",
    "FactorScan",
    "FactorSet",
    "FactorSetSpec",
    "FreeFormResult",
    "GraspError",
    "Interval",
    "LaunchForm",
    "LoadedModel",
    "LoraModule",
    "Measure",
    "MeasureEffect",
    "Method",
    "ModuleSpectrum",
    "NamedFactorSet",
    "NllResult",
    "Organism",
    "Question",
    "RepliesConfig",
    "RepliesResult",
    "Reply",
    "Run",
    "RunStatus",
    "ScanConfig",
    "SheetResult",
    "SheetRow",
    "Shift",
    "SideBySide",
    "SteeringSample",
    "SweepConfig",
    "SweepInfo",
    "SweepReport",
    "TokenKL",
    "TrainConfig",
    "TrainHooks",
    "TrainResult",
    "TraitJudge",
    "Transcript",
    "ablated",
    "adapter_evidence",
    "adapter_shift",
    "adapter_spectra",
    "aggregate",
    "all_sheets",
    "amplified",
    "axes_for",
    "bootstrap",
    "bundle",
    "bundled_evidence",
    "bundled_organism_of",
    "bundled_results",
    "cancel",
    "candidate_factors",
    "check_factor_set",
    "check_fits",
    "check_prompts",
    "check_trait_judge",
    "classify_module",
    "compare",
    "compare_replies",
    "config_key",
    "cosine_matrix",
    "default_device",
    "default_prompt_file",
    "delete_factor_set",
    "demo_adapters",
    "evaluate",
    "evaluate_organism",
    "evidence_for",
    "evidence_process",
    "examples_beside",
    "examples_by_prompt",
    "extract_adapter_zip",
    "find_by_key",
    "fit_trait_judge",
    "flipped_items",
    "forced_choice",
    "form_recipe",
    "format_eta",
    "free_form",
    "gather_evidence",
    "get_method",
    "get_run",
    "grasp_home",
    "hand_table",
    "identified_path",
    "identify",
    "identify_from",
    "inspection_order",
    "items_beside",
    "judged_replies",
    "label_row",
    "labels_root",
    "launch_runs",
    "launch_sweep",
    "lineup",
    "list_factor_sets",
    "list_organisms",
    "list_runs",
    "list_sheets",
    "list_sweeps",
    "load_adapter",
    "load_base",
    "load_config",
    "load_corpus",
    "load_factor_set",
    "load_factors",
    "load_model",
    "load_organism",
    "load_picked",
    "load_prompts",
    "load_questions",
    "load_results",
    "log_floor",
    "log_tail",
    "logit_lens",
    "lowrank_svd",
    "make_judge",
    "measures_from_files",
    "measures_from_specs",
    "model_kl",
    "modified_time",
    "n_layers",
    "naive_label",
    "newest_set_for",
    "next_token_logprobs",
    "number_score",
    "organism_request",
    "orthonormal_basis",
    "pareto_front",
    "parse_values",
    "pick",
    "pick_indices",
    "pick_rows",
    "plottable_columns",
    "portable_base",
    "prepare_bundled",
    "prompt_text",
    "provenance_line",
    "random_factors",
    "read_examples",
    "read_metrics",
    "read_sheet",
    "read_table",
    "reap_dead",
    "recipe_of",
    "record_invocation",
    "refresh",
    "request_inputs",
    "rerender",
    "resolve_base",
    "results_catalog",
    "results_tables",
    "resume",
    "resume_sweep",
    "run_foreground",
    "run_sweep",
    "runs_root",
    "save_factor_set",
    "save_factors",
    "save_in_workspace",
    "save_suggested",
    "scan",
    "score_sheet",
    "set_cosines",
    "sheet_about",
    "sheet_models",
    "sheet_title",
    "shift_factors",
    "side_by_side",
    "spec_for_file",
    "spectra_table",
    "start_evidence",
    "steer_by_offsets",
    "steering_offsets",
    "steering_preview",
    "stop_sweep",
    "submit",
    "submit_sweep",
    "sweep_config_of",
    "sweep_status",
    "task_nll",
    "to_html",
    "to_markdown",
    "token_kl",
    "tradeoff_figure",
    "train",
    "training_file_beside",
    "typed_prompts",
    "wait",
    "write_bundled_evidence",
    "write_figure",
    "write_sheet",
]

# Names of earlier releases, importable with a warning for one release: old -> current.
_RENAMED = {"BaseModel": "LoadedModel"}


def __getattr__(name: str) -> object:
    if name in _RENAMED:
        warnings.warn(f"grasp_core.{name} is now called {_RENAMED[name]}", DeprecationWarning, stacklevel=2)
        return globals()[_RENAMED[name]]
    raise AttributeError(f"module 'grasp_core' has no attribute {name!r}")
