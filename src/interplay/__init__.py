"""interplay: the science of multimodal learning.

Quantify how modalities inform a target (partial information decomposition), model those
interactions, and verify what a model learned.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

#: The public top level: name -> the module that defines it. Everything loads on first use, so
#: ``import interplay`` imports neither numpy's heavy friends (scipy, pandas) nor rich or torch.
_PUBLIC = {
    "quantify": "interplay.estimators",
    "list_estimators": "interplay.estimators",
    "pid": "interplay.info.pid",
    "PIDResult": "interplay.info.pid",
    "list_pid_methods": "interplay.info.pid",
    "mutual_information": "interplay.info.samples",
    "entropy": "interplay.info.samples",
    "recommend_fusion": "interplay.analysis.recommend",
    "MultimodalDataset": "interplay.data",
    "load_dataset": "interplay.data",
    "list_datasets": "interplay.data",
    "create_fusion": "interplay.models",
    "list_fusions": "interplay.models",
    "threads": "interplay._threads",
}

#: Names of earlier releases' top level, still importable from here; their documented homes
#: are the subpackages named.
_ELSEWHERE = {
    **dict.fromkeys(("ConvergenceError", "DataFormatError", "InterplayError", "InvalidInputError",
                     "MissingDependencyError", "SmallSampleWarning"), "interplay.exceptions"),
    **dict.fromkeys(("bootstrap_pid", "pairwise_pid", "pid_sweep"), "interplay.estimators"),
    **dict.fromkeys(("cluster_pid", "cluster_sensitivity", "copula_pid"),
                    "interplay.info.estimate"),
    **dict.fromkeys(("gaussian_pid", "gaussian_pid_from_samples"), "interplay.info.pid"),
    **dict.fromkeys(("make_gate", "make_latent_blocks", "make_mixture", "read_dataset",
                     "save_dataset"), "interplay.data"),
    **dict.fromkeys(("create_encoder", "create_head", "MultimodalModel", "UnimodalModel",
                     "UnimodalEnsemble"), "interplay.models"),
    **dict.fromkeys(("Task", "Trainer", "TrainResult", "summarize_seeds", "seed_everything",
                     "run_training"), "interplay.training"),
    "evaluate_run": "interplay.analysis.evaluation",
    **dict.fromkeys(("robustness_sweep", "RobustnessResult", "relative_robustness",
                     "effective_robustness", "robustness_auc", "cross_modal_consistency",
                     "model_pid", "pid_agreement"), "interplay.analysis"),
    **dict.fromkeys(("flow_pid", "batch_pid"), "interplay.neural"),
}

#: Subpackages reachable as attributes (``interplay.data.load_dataset``), imported on first use.
_SUBPACKAGES = ("alignment", "analysis", "balance", "data", "dynamics", "estimators", "info",
                "models", "neural", "objectives", "reports", "training")


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name) or _ELSEWHERE.get(name)
    if module is None and name not in _SUBPACKAGES:
        raise AttributeError(f"module 'interplay' has no attribute {name!r}")
    try:
        value = (import_module(f"interplay.{name}") if module is None
                 else getattr(import_module(module), name))
    except ModuleNotFoundError as exc:
        from ._deps import EXTRAS
        from .exceptions import MissingDependencyError

        missing = (exc.name or "").split(".")[0]
        if missing not in EXTRAS:
            raise
        raise MissingDependencyError(
            f"interplay.{name} needs {missing}, which is not installed: "
            f"`pip install 'interplay[{EXTRAS[missing]}]'`."
        ) from exc
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


__all__ = ["__version__", *sorted(_PUBLIC)]
