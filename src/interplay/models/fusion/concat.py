"""Early fusion (concatenate, then project) and late fusion (one head per modality, averaged)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..._validation import check_int
from .base import FusionModule


def _projection(input_dim: int, output_dim: int, hidden_dim: int | None) -> nn.Module:
    if hidden_dim is None:
        return nn.Linear(input_dim, output_dim)
    hidden = check_int(hidden_dim, "hidden_dim", minimum=1)
    return nn.Sequential(nn.Linear(input_dim, hidden), nn.ReLU(), nn.Linear(hidden, output_dim))


class _ProjectionFusion(FusionModule):
    """A fusion built from projections that are linear, or MLPs when ``hidden_dim`` is given."""

    def __init__(
        self,
        input_dims: Mapping[str, int] | Sequence[int],
        output_dim: int,
        hidden_dim: int | None = None,
    ) -> None:
        super().__init__(input_dims, output_dim)
        self.build(hidden_dim)

    @abstractmethod
    def build(self, hidden_dim: int | None) -> None:
        """Create the projections (with :func:`_projection`) once the sizes are checked."""


class EarlyFusion(_ProjectionFusion):
    """Concatenate the modalities and project: ``z = g([x_1, ..., x_M])``.

    A missing modality enters as zeros. ``g`` is a linear map, or a one-hidden-layer MLP when
    ``hidden_dim`` is given.

    Examples
    --------
    >>> import torch
    >>> f = EarlyFusion({"a": 3, "b": 2}, 4)
    >>> f({"a": torch.randn(6, 3), "b": torch.randn(6, 2)}).shape
    torch.Size([6, 4])
    """

    name = "early"
    description = "Concatenation of the modalities followed by a linear map or an MLP."
    represents = (
        "additive: a linear map of the concatenated encodings; right when the modalities are "
        "conditionally independent given the target, blind to XOR-like synergy"
    )
    simplicity = 1

    def build(self, hidden_dim: int | None) -> None:
        self.proj = _projection(sum(self.input_dims.values()), self.output_dim, hidden_dim)

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.cat(xs, dim=1))


class LateFusion(_ProjectionFusion):
    """One head per modality, averaged over the modalities present: ``z = mean_m g_m(x_m)``.

    A sample with no modality present gets zeros.

    Examples
    --------
    >>> import torch
    >>> f = LateFusion([3, 2], 4)
    >>> f([torch.randn(6, 3), torch.randn(6, 2)]).shape
    torch.Size([6, 4])
    """

    name = "late"
    description = "Per-modality heads whose outputs are averaged over the present modalities."
    represents = (
        "additive: averaged per-modality outputs; right for redundant or unique information, "
        "blind to XOR-like synergy"
    )
    simplicity = 2

    def build(self, hidden_dim: int | None) -> None:
        self.heads = nn.ModuleDict(
            {m: _projection(d, self.output_dim, hidden_dim) for m, d in self.input_dims.items()}
        )

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        outs = torch.stack(
            [self.heads[m](x) for m, x in zip(self.modalities, xs, strict=True)], dim=1
        )
        w = mask.to(outs.dtype)
        w = w / w.sum(dim=1, keepdim=True).clamp(min=1.0)
        return (outs * w.unsqueeze(-1)).sum(dim=1)
