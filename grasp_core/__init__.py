"""grasp_core: find spurious factors in a LoRA fine-tune (step 1) and fine-tune again without them (step 2)."""

from .adapters import Adapter, LoraModule, classify_module, load_adapter
from .errors import GraspError
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
from .jobs import cancel, resume, run_foreground, submit
from .methods import METHODS, Method, get_method
from .models import BaseModel, default_device, load_base, load_config, prepare_bundled, resolve_base, tiny_model
from .runs import Run, RunStatus, config_key, find_by_key, get_run, list_runs, runs_root
from .scan import FactorScan, ScanConfig, scan, steering_preview
from .spectra import ModuleSpectrum, adapter_spectra, lowrank_svd, spectra_table
from .train import TrainHooks, TrainResult, train
from .trainconfig import TrainConfig
from .uploads import extract_adapter_zip

__all__ = [
    "Adapter",
    "BaseModel",
    "Factor",
    "FactorScan",
    "FactorSet",
    "FactorSetSpec",
    "GraspError",
    "LoraModule",
    "METHODS",
    "Method",
    "ModuleSpectrum",
    "NamedFactorSet",
    "Run",
    "RunStatus",
    "ScanConfig",
    "TrainConfig",
    "TrainHooks",
    "TrainResult",
    "adapter_spectra",
    "cancel",
    "check_factor_set",
    "classify_module",
    "config_key",
    "cosine_matrix",
    "default_device",
    "delete_factor_set",
    "extract_adapter_zip",
    "find_by_key",
    "get_method",
    "get_run",
    "identify",
    "list_factor_sets",
    "list_runs",
    "load_adapter",
    "load_base",
    "load_config",
    "load_factor_set",
    "load_factors",
    "logit_lens",
    "lowrank_svd",
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
    "tiny_model",
    "train",
]
