"""Tensor fusion (outer product of the modalities) and its low-rank factorization.

Both append a constant 1 to each modality, ``x~_m = [x_m, 1]``, so that the product holds every
unimodal term and every cross-modal interaction up to order M (Zadeh et al. 2017).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..._validation import check_int
from ...exceptions import InvalidInputError
from .base import FusionModule


def _with_one(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)], dim=1)


class TensorFusion(FusionModule):
    """Tensor Fusion Network: ``z = W vec(x~_1 (x) x~_2 (x) ... (x) x~_M) + b``.

    The flattened product has ``prod_m (d_m + 1)`` features; construction refuses more than
    ``max_features`` of them (use ``"low_rank_tensor"`` for large inputs).

    References
    ----------
    Zadeh et al., "Tensor Fusion Network for Multimodal Sentiment Analysis", EMNLP 2017.

    Examples
    --------
    >>> import torch
    >>> f = TensorFusion({"a": 3, "b": 2}, 4)
    >>> f.proj.in_features  # (3 + 1) * (2 + 1)
    12
    """

    name = "tensor"
    description = "Outer product of the modalities (each with an appended 1), then a linear map."
    represents = (
        "the full outer product of the encodings (with a constant 1); represents synergy, "
        "parameters grow with the product of the encoding sizes"
    )
    simplicity = 7

    def __init__(
        self,
        input_dims: Mapping[str, int] | Sequence[int],
        output_dim: int,
        max_features: int = 2**16,
    ) -> None:
        super().__init__(input_dims, output_dim)
        limit = check_int(max_features, "max_features", minimum=1)
        n_features = math.prod(d + 1 for d in self.input_dims.values())
        if n_features > limit:
            raise InvalidInputError(
                f"Tensor fusion of input_dims {self.input_dims} has {n_features} product features, "
                f"more than `max_features`={limit}. Encode to smaller dims, raise `max_features`, "
                "or use the 'low_rank_tensor' fusion."
            )
        self.proj = nn.Linear(n_features, self.output_dim)

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        z = _with_one(xs[0])
        for x in xs[1:]:
            z = (z.unsqueeze(2) * _with_one(x).unsqueeze(1)).flatten(1)
        return self.proj(z)


class LowRankTensorFusion(FusionModule):
    """Low-rank tensor fusion: ``z = sum_r w_r prod_m (x~_m W_m^(r)) + b``.

    Every factor ``W_m`` (shape ``(rank, d_m + 1, output_dim)``), the rank weights ``w`` and the
    bias are registered parameters: they are trained, saved in the ``state_dict`` and moved by
    ``.to(device)``.

    References
    ----------
    Liu et al., "Efficient Low-rank Multimodal Fusion with Modality-Specific Factors", ACL 2018.

    Examples
    --------
    >>> f = LowRankTensorFusion({"a": 3, "b": 2}, 4, rank=2)
    >>> [tuple(w.shape) for w in f.factors]
    [(2, 4, 4), (2, 3, 4)]
    """

    name = "low_rank_tensor"
    description = "Tensor fusion with the weight tensor factorized into rank-r modality factors."
    represents = (
        "a rank-r factorised outer product; represents synergy with few parameters"
    )
    simplicity = 6

    def __init__(
        self,
        input_dims: Mapping[str, int] | Sequence[int],
        output_dim: int,
        rank: int = 4,
    ) -> None:
        super().__init__(input_dims, output_dim)
        self.rank = check_int(rank, "rank", minimum=1)
        self.factors = nn.ParameterList()
        for d in self.input_dims.values():
            w = torch.empty(self.rank, d + 1, self.output_dim)
            # Each factor's output has unit variance for unit-variance inputs, so the product of
            # M factors neither vanishes nor explodes at initialization.
            nn.init.normal_(w, std=1.0 / math.sqrt(d + 1))
            self.factors.append(nn.Parameter(w))
        self.rank_weights = nn.Parameter(torch.full((self.rank,), 1.0 / self.rank))
        self.bias = nn.Parameter(torch.zeros(self.output_dim))

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        prod = None
        for x, w in zip(xs, self.factors, strict=True):
            f = torch.einsum("nd,rdo->nro", _with_one(x), w)
            prod = f if prod is None else prod * f
        return torch.einsum("nro,r->no", prod, self.rank_weights) + self.bias

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, rank={self.rank}"
