"""interplay: the science of multimodal learning.

Quantify how modalities inform a target (partial information decomposition), model those
interactions, and verify what a model learned.
"""

from .data import (
    MultimodalDataset,
    list_datasets,
    load_dataset,
    make_gate,
    make_latent_blocks,
    make_mixture,
    read_dataset,
    save_dataset,
)
from .exceptions import (
    ConvergenceError,
    DataFormatError,
    InterplayError,
    InvalidInputError,
    MissingDependencyError,
    SmallSampleWarning,
)
from .info.estimate import (
    bootstrap_pid,
    cluster_pid,
    cluster_sensitivity,
    pairwise_pid,
    pid_sweep,
    quantify,
)
from .info.estimate.copula import copula_pid
from .info.pid import PIDResult, gaussian_pid, gaussian_pid_from_samples, list_pid_methods, pid

__version__ = "0.1.0"

# torch-based parts load on first use, so `import interplay` stays light and torch-free.
_LAZY = {
    "create_fusion": "interplay.models",
    "list_fusions": "interplay.models",
    "create_encoder": "interplay.models",
    "create_head": "interplay.models",
    "MultimodalModel": "interplay.models",
    "UnimodalModel": "interplay.models",
    "UnimodalEnsemble": "interplay.models",
    "Task": "interplay.training",
    "Trainer": "interplay.training",
    "TrainResult": "interplay.training",
    "summarize_seeds": "interplay.training",
    "seed_everything": "interplay.training",
    "robustness_sweep": "interplay.analysis",
    "RobustnessResult": "interplay.analysis",
    "relative_robustness": "interplay.analysis",
    "effective_robustness": "interplay.analysis",
    "robustness_auc": "interplay.analysis",
    "cross_modal_consistency": "interplay.analysis",
    "model_pid": "interplay.analysis",
    "pid_agreement": "interplay.analysis",
    "flow_pid": "interplay.neural",
    "batch_pid": "interplay.neural",
    "run_training": "interplay.training",
    "evaluate_run": "interplay.training",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'interplay' has no attribute {name!r}")


__all__ = [
    "ConvergenceError",
    "DataFormatError",
    "InterplayError",
    "InvalidInputError",
    "MissingDependencyError",
    "MultimodalDataset",
    "PIDResult",
    "SmallSampleWarning",
    "__version__",
    "bootstrap_pid",
    "cluster_pid",
    "cluster_sensitivity",
    "copula_pid",
    "gaussian_pid",
    "gaussian_pid_from_samples",
    "list_datasets",
    "list_pid_methods",
    "load_dataset",
    "make_gate",
    "make_latent_blocks",
    "make_mixture",
    "pairwise_pid",
    "pid",
    "pid_sweep",
    "quantify",
    "read_dataset",
    "save_dataset",
    *sorted(_LAZY),
]
