"""Multiplicative interactions: every pair of modalities meets in a bilinear form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import torch
from torch import nn

from .base import FusionModule


class MultiplicativeInteractions(FusionModule):
    """Pairwise bilinear plus linear terms: ``z = sum_{i<j} x_i^T W_ij x_j + sum_m U_m x_m + b``.

    For two modalities this is the multiplicative-interaction layer of Jayakumar et al.; for
    more, one bilinear tensor per pair. A missing modality enters as zeros, which removes every
    term that holds it.

    References
    ----------
    Jayakumar et al., "Multiplicative Interactions and Where to Find Them", ICLR 2020.

    Examples
    --------
    >>> import torch
    >>> f = MultiplicativeInteractions({"a": 3, "b": 2, "c": 2}, 4)
    >>> len(f.bilinear)  # one per pair
    3
    """

    name = "multiplicative"
    description = "Pairwise bilinear interactions x_i^T W x_j plus linear terms per modality."
    represents = (
        "bilinear cross-modal terms x1' W x2 plus linear terms; represents synergy"
    )
    simplicity = 5

    def __init__(self, input_dims: Mapping[str, int] | Sequence[int], output_dim: int) -> None:
        super().__init__(input_dims, output_dim)
        self.pairs = list(combinations(range(len(self.modalities)), 2))
        dims = list(self.input_dims.values())
        self.bilinear = nn.ModuleList(
            nn.Bilinear(dims[i], dims[j], self.output_dim, bias=False) for i, j in self.pairs
        )
        self.linear = nn.ModuleList(nn.Linear(d, self.output_dim, bias=False) for d in dims)
        self.bias = nn.Parameter(torch.zeros(self.output_dim))

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        z = self.bias.expand(xs[0].shape[0], -1)
        for (i, j), bil in zip(self.pairs, self.bilinear, strict=True):
            z = z + bil(xs[i], xs[j])
        for x, lin in zip(xs, self.linear, strict=True):
            z = z + lin(x)
        return z
