"""Modality balancing: balancers that act on a training step, and imbalance measures.

A :class:`Balancer` gets hooks around one training step of
:class:`~interplay.training.Task` (see :mod:`interplay.balance.base`). The registry:

>>> from interplay.balance import list_balancers, create_balancer
>>> sorted(list_balancers())[:2]
['agm', 'gradient_blending']
"""

from .base import Balancer, create_balancer, list_balancers, modality_parameter_groups
from .dropout import ModalityDropout, modality_dropout_mask

__all__ = [
    "Balancer",
    "ModalityDropout",
    "create_balancer",
    "list_balancers",
    "modality_dropout_mask",
    "modality_parameter_groups",
]
