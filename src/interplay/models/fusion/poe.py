"""Uncertainty-aware product of Gaussian experts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..._validation import check_float
from .base import FusionModule


class ProductOfExperts(FusionModule):
    """Precision-weighted product of one Gaussian expert per modality and a standard-normal prior.

    Each present modality ``m`` predicts a mean ``mu_m(x_m)`` and a variance
    ``s2_m(x_m) = softplus(.) + min_variance``; with precisions ``t_m = 1 / s2_m`` and the prior
    ``N(0, 1)``, the fused Gaussian has precision ``T = 1 + sum_m t_m`` and mean
    ``sum_m t_m mu_m / T``. Missing experts drop out of both sums, so a sample with no modality
    falls back to the prior. ``forward`` returns the fused mean; :meth:`posterior` also the
    variance, which grows as confident modalities go missing.

    References
    ----------
    Wu & Goodman, "Multimodal Generative Models for Scalable Weakly-Supervised Learning",
    NeurIPS 2018.

    Examples
    --------
    >>> import torch
    >>> f = ProductOfExperts({"a": 3, "b": 2}, 4)
    >>> x = {"a": torch.randn(2, 3), "b": torch.randn(2, 2)}
    >>> mean, var = f.posterior(x, torch.tensor([[False, False], [True, True]]))
    >>> mean[0].tolist(), var[0].tolist()  # prior when nothing is present
    ([0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0])
    """

    name = "poe"
    description = "Product of Gaussian experts with a N(0, 1) prior; missing experts drop out."
    represents = (
        "a precision-weighted product of per-modality experts; the weighting couples the "
        "modalities, so it can model some interactions"
    )
    simplicity = 4

    def __init__(
        self,
        input_dims: Mapping[str, int] | Sequence[int],
        output_dim: int,
        min_variance: float = 1e-4,
    ) -> None:
        super().__init__(input_dims, output_dim)
        self.min_variance = check_float(min_variance, "min_variance", low=0.0, low_open=True)
        self.experts = nn.ModuleDict(
            {m: nn.Linear(d, 2 * self.output_dim) for m, d in self.input_dims.items()}
        )

    def _posterior(
        self, xs: list[torch.Tensor], mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        weighted = torch.zeros(
            xs[0].shape[0], self.output_dim, dtype=xs[0].dtype, device=xs[0].device
        )
        precision = torch.ones_like(weighted)
        for i, (m, x) in enumerate(zip(self.modalities, xs, strict=True)):
            mu, raw = self.experts[m](x).chunk(2, dim=1)
            t = 1.0 / (F.softplus(raw) + self.min_variance)
            t = t * mask[:, i : i + 1].to(t.dtype)
            weighted = weighted + t * mu
            precision = precision + t
        return weighted / precision, 1.0 / precision

    def posterior(
        self,
        inputs: Mapping[str, torch.Tensor] | Sequence[torch.Tensor],
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused mean and variance, each of shape ``(N, output_dim)``."""
        xs, m = self.prepare(inputs, mask)
        return self._posterior(xs, m)

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        return self._posterior(xs, mask)[0]
