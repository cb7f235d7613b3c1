"""Verify what a model learned: robustness to missing and noisy modalities, and its PID.

* :func:`robustness_sweep` evaluates a predictor clean, with each modality dropped, and with
  Gaussian noise of rising level on each modality; :func:`relative_robustness` and
  :func:`effective_robustness` compare its curves with a baseline curve the user chooses;
  :func:`cross_modal_consistency` measures how often single-modality predictions agree.
* :func:`model_pid` decomposes a model's class predictions against the modalities, and
  :func:`pid_agreement` scores it against the data's PID.
"""

from .model_pid import model_pid, pid_agreement
from .robustness import (
    RobustnessResult,
    cross_modal_consistency,
    effective_robustness,
    relative_robustness,
    robustness_auc,
    robustness_sweep,
)

__all__ = [
    "RobustnessResult",
    "cross_modal_consistency",
    "effective_robustness",
    "model_pid",
    "pid_agreement",
    "relative_robustness",
    "robustness_auc",
    "robustness_sweep",
]
