"""Multimodal models: encoders per modality, a registry of fusion modules, heads, baselines.

Build a model from three parts,

>>> import torch
>>> from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head
>>> enc = {"img": create_encoder("image", (1, 12, 12), 8),
...        "snd": create_encoder("audio", (None, 5), 8)}
>>> model = MultimodalModel(enc, create_fusion("tensor", {"img": 8, "snd": 8}, 16),
...                         create_head("classification", 16, 4))
>>> x = {"img": torch.randn(3, 1, 12, 12), "snd": torch.randn(3, 20, 5)}
>>> model(x, mask=torch.tensor([[True, True], [True, False], [False, True]])).logits.shape
torch.Size([3, 4])

and compare it with :class:`UnimodalModel` baselines and their :class:`UnimodalEnsemble`.
"""

from .. import _torch  # noqa: F401  (torch, or an error naming the extra that installs it)
from .baselines import UnimodalEnsemble, UnimodalModel
from .encoders import (
    ConvEncoder,
    MLPEncoder,
    ProjectionEncoder,
    SequenceEncoder,
    create_encoder,
    list_encoders,
)
from .fusion import (
    CrossModalAttentionFusion,
    EarlyFusion,
    FusionModule,
    GatedFusion,
    LateFusion,
    LowRankTensorFusion,
    MultiplicativeInteractions,
    PerceiverFusion,
    ProductOfExperts,
    TensorFusion,
    create_fusion,
    list_fusions,
)
from .heads import ClassificationHead, EmbeddingHead, RegressionHead, create_head
from .model import MultimodalModel
from .output import ModelOutput

__all__ = [
    "ClassificationHead",
    "ConvEncoder",
    "CrossModalAttentionFusion",
    "EarlyFusion",
    "EmbeddingHead",
    "FusionModule",
    "GatedFusion",
    "LateFusion",
    "LowRankTensorFusion",
    "MLPEncoder",
    "ModelOutput",
    "MultiplicativeInteractions",
    "MultimodalModel",
    "PerceiverFusion",
    "ProductOfExperts",
    "ProjectionEncoder",
    "RegressionHead",
    "SequenceEncoder",
    "TensorFusion",
    "UnimodalEnsemble",
    "UnimodalModel",
    "create_encoder",
    "create_fusion",
    "create_head",
    "list_encoders",
    "list_fusions",
]
