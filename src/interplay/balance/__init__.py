"""Modality balancing: balancers that act on a training step, and imbalance measures.

A :class:`Balancer` gets hooks around one training step of
:class:`~interplay.training.Task` (see :mod:`interplay.balance.base`): modality dropout,
multi-loss training with unimodal heads, gradient blending, MMPareto, OGM-GE, AGM and MCR.
:func:`modality_shapley` measures each modality's exact Shapley contribution to a trained
model, on top of the plain :func:`shapley_values`.

>>> from interplay.balance import list_balancers
>>> sorted(list_balancers())
['agm', 'gradient_blending', 'mcr', 'mmpareto', 'modality_dropout', 'multi_loss', 'ogm_ge']
"""

from .base import Balancer, create_balancer, list_balancers, modality_parameter_groups
from .dropout import ModalityDropout, modality_dropout_mask
from .mcr import MCR
from .modulation import AGM, OGMGE
from .multiloss import GradientBlending, MMPareto, MultiLoss
from .shapley import ModalityShapley, imbalance, modality_shapley, shapley_values

__all__ = [
    "AGM",
    "MCR",
    "OGMGE",
    "Balancer",
    "GradientBlending",
    "MMPareto",
    "ModalityDropout",
    "ModalityShapley",
    "MultiLoss",
    "create_balancer",
    "imbalance",
    "list_balancers",
    "modality_dropout_mask",
    "modality_parameter_groups",
    "modality_shapley",
    "shapley_values",
]
