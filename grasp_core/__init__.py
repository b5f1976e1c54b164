"""grasp_core: find spurious factors in a LoRA fine-tune (step 1) and fine-tune again without them (step 2)."""

from .adapters import Adapter, LoraModule, classify_module, load_adapter
from .errors import GraspError
from .factors import Factor, FactorSet, cosine_matrix, identify, load_factors, logit_lens, orthonormal_basis, save_factors
from .methods import METHODS, Method, get_method
from .models import BaseModel, default_device, load_base, load_config, prepare_bundled, resolve_base, tiny_model
from .spectra import ModuleSpectrum, adapter_spectra, lowrank_svd, spectra_table
from .train import TrainHooks, TrainResult, train
from .trainconfig import TrainConfig

__all__ = [
    "Adapter",
    "BaseModel",
    "Factor",
    "FactorSet",
    "GraspError",
    "LoraModule",
    "METHODS",
    "Method",
    "ModuleSpectrum",
    "TrainConfig",
    "TrainHooks",
    "TrainResult",
    "adapter_spectra",
    "classify_module",
    "cosine_matrix",
    "default_device",
    "get_method",
    "identify",
    "load_adapter",
    "load_base",
    "load_config",
    "load_factors",
    "logit_lens",
    "lowrank_svd",
    "orthonormal_basis",
    "prepare_bundled",
    "resolve_base",
    "save_factors",
    "spectra_table",
    "tiny_model",
    "train",
]
