"""``ModelOutput``: what every interplay model returns, so objectives and balancers can read
more than the predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ModelOutput:
    """Predictions plus the representations they came from.

    Attributes
    ----------
    logits : Tensor
        The head's output ``(N, k)``: class logits (classification), predicted values
        (regression), or embeddings (an embedding head).
    embeddings : dict of str to Tensor
        Each modality's encoder output ``{m: (N, d_m)}`` (``(N, T, d_m)`` for sequence
        encoders), in the model's modality order; rows of missing modalities are those of a
        zero input.
    fused : Tensor or None
        The fused representation ``(N, d)`` the head read, where the model has one.
    latents : dict of str to (Tensor, Tensor), or None
        Gaussian latent distributions as ``(mean, log_variance)`` where the model has them
        (``{"fused": ...}`` for a product of experts).

    Examples
    --------
    >>> import torch
    >>> out = ModelOutput(torch.zeros(2, 3), {"a": torch.ones(2, 4)})
    >>> out.logits.shape, sorted(out.embeddings), out.fused is None
    (torch.Size([2, 3]), ['a'], True)
    """

    logits: torch.Tensor
    embeddings: dict[str, torch.Tensor] = field(default_factory=dict)
    fused: torch.Tensor | None = None
    latents: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None
