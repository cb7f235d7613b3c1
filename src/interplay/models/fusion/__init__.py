"""Fusion modules and their registry: :func:`create_fusion`, :func:`list_fusions`."""

from .attention import CrossModalAttentionFusion, PerceiverFusion
from .base import FusionModule, create_fusion, list_fusions
from .concat import EarlyFusion, LateFusion
from .gated import GatedFusion
from .multiplicative import MultiplicativeInteractions
from .poe import ProductOfExperts
from .tensor import LowRankTensorFusion, TensorFusion

__all__ = [
    "CrossModalAttentionFusion",
    "EarlyFusion",
    "FusionModule",
    "GatedFusion",
    "LateFusion",
    "LowRankTensorFusion",
    "MultiplicativeInteractions",
    "PerceiverFusion",
    "ProductOfExperts",
    "TensorFusion",
    "create_fusion",
    "list_fusions",
]
