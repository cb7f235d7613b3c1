"""Pieces several balancers share: the supervised loss of the model's head, unimodal heads,
masked re-prediction scores, and per-modality gradient vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..exceptions import InvalidInputError
from ..models.heads import ClassificationHead, RegressionHead


def head_task(model: nn.Module, balancer: str) -> tuple[str, int]:
    """``("classification" | "regression", n_outputs)`` from the model's head."""
    head = getattr(model, "head", None)
    if isinstance(head, ClassificationHead):
        return "classification", head.n_classes
    if isinstance(head, RegressionHead):
        return "regression", head.n_targets
    raise InvalidInputError(
        f"balancer {balancer!r} needs a model whose `head` is a classification or regression "
        f"head (create_head); {type(model).__name__} has {type(head).__name__}."
    )


def supervised_loss(task: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (classification) or mean squared error (regression)."""
    if task == "classification":
        return F.cross_entropy(logits, target)
    return F.mse_loss(logits.reshape(target.shape), target.to(logits.dtype))


def pooled(z: torch.Tensor) -> torch.Tensor:
    """``(N, d)`` from an encoding, averaging a token axis ``(N, T, d)`` if there is one."""
    return z.mean(dim=1) if z.ndim == 3 else z


def encoder_dims(model: nn.Module, modalities: Sequence[str], balancer: str) -> dict[str, int]:
    """Output size of each modality's encoder (its ``output_dim``)."""
    dims = {}
    for m in modalities:
        d = getattr(model.encoders[m], "output_dim", None)
        if not isinstance(d, int):
            raise InvalidInputError(
                f"balancer {balancer!r} needs encoders with an `output_dim` (create_encoder); "
                f"the {m!r} encoder {type(model.encoders[m]).__name__} has none."
            )
        dims[m] = d
    return dims


class UnimodalHeads(nn.Module):
    """One linear head per modality on its encoding: ``{m: (N, k)}``."""

    def __init__(self, dims: Mapping[str, int], n_outputs: int) -> None:
        super().__init__()
        self.heads = nn.ModuleDict({m: nn.Linear(d, n_outputs) for m, d in dims.items()})

    def forward(self, embeddings: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {m: head(pooled(embeddings[m])) for m, head in self.heads.items()}


def flat_grad(params: Sequence[nn.Parameter]) -> torch.Tensor:
    """The gradients of ``params`` as one vector (zeros where a gradient is missing)."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for p in params])


def set_flat_grad(params: Sequence[nn.Parameter], vector: torch.Tensor) -> None:
    """Write one vector back into the ``.grad`` of ``params``."""
    start = 0
    for p in params:
        n = p.numel()
        p.grad = vector[start:start + n].reshape(p.shape).clone()
        start += n
