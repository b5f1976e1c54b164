"""grasp_core: find spurious factors in a LoRA fine-tune (step 1) and fine-tune again without them (step 2)."""

from .adapters import Adapter, LoraModule, classify_module, load_adapter
from .errors import GraspError
from .evals import (
    ChoiceResult,
    EvalConfig,
    EvalReport,
    EvalSpec,
    Interval,
    NllResult,
    ablated,
    bootstrap,
    evaluate,
    forced_choice,
    task_nll,
)
from .factors import (
    Factor,
    FactorSet,
    cosine_matrix,
    identify,
    load_factors,
    logit_lens,
    orthonormal_basis,
    save_factors,
)
from .factorsets import (
    FactorSetSpec,
    NamedFactorSet,
    check_factor_set,
    delete_factor_set,
    list_factor_sets,
    load_factor_set,
    save_factor_set,
)
from .jobs import cancel, resume, run_foreground, submit, submit_sweep
from .judges import JUDGES, FreeFormResult, Question, free_form, load_questions, make_judge, number_score
from .methods import METHODS, Method, get_method
from .models import BaseModel, default_device, load_base, load_config, prepare_bundled, resolve_base, tiny_model
from .organisms import Organism, evaluate_organism, list_organisms, load_organism
from .runs import Run, RunStatus, config_key, find_by_key, get_run, list_runs, runs_root
from .scan import FactorScan, ScanConfig, scan, steering_preview
from .spectra import ModuleSpectrum, adapter_spectra, lowrank_svd, spectra_table
from .sweepconfig import SweepConfig
from .train import TrainHooks, TrainResult, train
from .trainconfig import TrainConfig
from .uploads import extract_adapter_zip

__all__ = [
    "Adapter",
    "BaseModel",
    "ChoiceResult",
    "EvalConfig",
    "EvalReport",
    "EvalSpec",
    "Factor",
    "FactorScan",
    "FactorSet",
    "FactorSetSpec",
    "FreeFormResult",
    "GraspError",
    "Interval",
    "JUDGES",
    "LoraModule",
    "METHODS",
    "Method",
    "ModuleSpectrum",
    "NamedFactorSet",
    "NllResult",
    "Organism",
    "Question",
    "Run",
    "RunStatus",
    "ScanConfig",
    "SweepConfig",
    "TrainConfig",
    "TrainHooks",
    "TrainResult",
    "ablated",
    "adapter_spectra",
    "bootstrap",
    "cancel",
    "check_factor_set",
    "classify_module",
    "config_key",
    "cosine_matrix",
    "default_device",
    "delete_factor_set",
    "evaluate",
    "evaluate_organism",
    "extract_adapter_zip",
    "find_by_key",
    "forced_choice",
    "free_form",
    "get_method",
    "get_run",
    "identify",
    "list_factor_sets",
    "list_organisms",
    "list_runs",
    "load_adapter",
    "load_base",
    "load_config",
    "load_factor_set",
    "load_factors",
    "load_organism",
    "load_questions",
    "logit_lens",
    "lowrank_svd",
    "make_judge",
    "number_score",
    "orthonormal_basis",
    "prepare_bundled",
    "resolve_base",
    "resume",
    "run_foreground",
    "runs_root",
    "save_factor_set",
    "save_factors",
    "scan",
    "spectra_table",
    "steering_preview",
    "submit",
    "submit_sweep",
    "task_nll",
    "tiny_model",
    "train",
]
