"""Gated fusion: a learned, per-sample convex weighting of the modalities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .base import FusionModule


class GatedFusion(FusionModule):
    """``z = sum_m a_m(x) tanh(W_m x_m)`` with ``a(x) = softmax(G [x_1, ..., x_M])`` per sample.

    The gate sees all (present) modalities and puts weight only on the present ones; a sample
    with none present gets zeros. :meth:`weights` returns the gate for inspection. This is the
    gated multimodal unit of Arevalo et al. extended from two modalities to M via a softmax.

    References
    ----------
    Arevalo et al., "Gated Multimodal Units for Information Fusion", ICLR workshop 2017.

    Examples
    --------
    >>> import torch
    >>> f = GatedFusion({"a": 3, "b": 2}, 4)
    >>> x = {"a": torch.randn(5, 3), "b": torch.randn(5, 2)}
    >>> mask = torch.tensor([[True, True]] * 4 + [[True, False]])
    >>> f.weights(x, mask)[4].tolist()
    [1.0, 0.0]
    """

    name = "gated"
    description = "Per-sample softmax gate over modality projections (gated multimodal unit)."

    def __init__(self, input_dims: Mapping[str, int] | Sequence[int], output_dim: int) -> None:
        super().__init__(input_dims, output_dim)
        self.proj = nn.ModuleDict(
            {m: nn.Linear(d, self.output_dim) for m, d in self.input_dims.items()}
        )
        self.gate = nn.Linear(sum(self.input_dims.values()), len(self.modalities))

    def _gate(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        logits = self.gate(torch.cat(xs, dim=1))
        logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        return torch.softmax(logits, dim=1) * mask.to(logits.dtype)

    def weights(
        self,
        inputs: Mapping[str, torch.Tensor] | Sequence[torch.Tensor],
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Gate weights of shape ``(N, n_modalities)``; rows sum to 1 (0 if nothing is present)."""
        xs, m = self.prepare(inputs, mask)
        return self._gate(xs, m)

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        a = self._gate(xs, mask)
        h = torch.stack(
            [torch.tanh(self.proj[m](x)) for m, x in zip(self.modalities, xs, strict=True)], dim=1
        )
        return (a.unsqueeze(-1) * h).sum(dim=1)
