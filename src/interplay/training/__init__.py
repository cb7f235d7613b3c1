"""Training: a :class:`Task` (model + losses + metrics) and a :class:`Trainer`.

The trainer runs on the CPU by default, validates every epoch, stops early, writes checkpoints
atomically and reads them safely, resumes exactly, and runs under PyTorch DDP when launched with
``torchrun``. :func:`summarize_seeds` reports metrics as mean ± std over seeds.
"""

from .. import _torch  # noqa: F401  (torch, or an error naming the extra that installs it)
from .auxiliary_targets import AuxiliaryTargetsObjective
from .checkpoint import atomic_write, load_checkpoint, save_checkpoint
from .config import RunConfig, config_from_dict, load_config
from .data import MultimodalTensorDataset
from .distributed import DistContext, setup_distributed, shutdown_distributed
from .run import run_training
from .seeds import SeedSummary, seed_everything, summarize_seeds
from .task import Task
from .trainer import Trainer, TrainResult

__all__ = [
    "AuxiliaryTargetsObjective",
    "DistContext",
    "RunConfig",
    "MultimodalTensorDataset",
    "SeedSummary",
    "Task",
    "TrainResult",
    "Trainer",
    "atomic_write",
    "config_from_dict",
    "load_config",
    "run_training",
    "load_checkpoint",
    "save_checkpoint",
    "seed_everything",
    "setup_distributed",
    "shutdown_distributed",
    "summarize_seeds",
]
