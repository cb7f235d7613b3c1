"""Critics: learned score functions ``f(x, y)`` evaluated on every pair of a batch.

A critic maps a batch ``x`` of shape ``(B, d_x)`` and a batch ``y`` of shape ``(B, d_y)`` to the
score matrix ``S`` of shape ``(B, B)`` with ``S[i, j] = f(x_i, y_j)``: the diagonal holds the
paired (joint) samples, the off-diagonal entries pairs drawn from the product of the marginals.
Every contrastive bound in :mod:`interplay.objectives.bounds` reads only this matrix.

Costs differ by a factor of ``B``:

* :class:`SeparableCritic` (the default), ``f(x, y) = g(x)^T h(y)``: one forward pass of each
  network per batch (``2B`` rows), then one ``B x B`` matrix product;
* :class:`BilinearCritic`, ``f(x, y) = x^T W y``: one matrix product, no network;
* :class:`ConcatCritic`, ``f(x, y) = MLP([x, y])``: the network runs on all ``B^2`` tiled pairs,
  so time and memory grow as ``O(B^2)`` network passes (FactorCL's critic). It is the most
  flexible family, and the slowest; use it only for small batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .._validation import check_choice, check_int
from ..exceptions import InvalidInputError

__all__ = ["BilinearCritic", "ConcatCritic", "CRITICS", "SeparableCritic", "make_critic", "mlp"]


def mlp(d_in: int, d_out: int, hidden: Sequence[int] = (128,)) -> nn.Sequential:
    """A ReLU multilayer perceptron ``d_in -> hidden... -> d_out`` (no activation at the end)."""
    layers: list[nn.Module] = []
    width = d_in
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        width = int(h)
    layers.append(nn.Linear(width, d_out))
    return nn.Sequential(*layers)


def _check_pair(x: Tensor, y: Tensor, x_dim: int, y_dim: int) -> None:
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise InvalidInputError(
            f"A critic takes x of shape (B, {x_dim}) and y of shape (B, {y_dim}) with the same B; "
            f"got {tuple(x.shape)} and {tuple(y.shape)}."
        )
    if x.shape[1] != x_dim or y.shape[1] != y_dim:
        raise InvalidInputError(
            f"The critic was built for x with {x_dim} and y with {y_dim} features; got "
            f"{x.shape[1]} and {y.shape[1]}."
        )


class SeparableCritic(nn.Module):
    """``f(x, y) = g(x)^T h(y) / sqrt(embed_dim)`` with two MLPs ``g`` and ``h``.

    Parameters
    ----------
    x_dim, y_dim : int
        Feature counts of the two arguments.
    hidden : sequence of int, default (128,)
        Hidden widths of ``g`` and ``h``.
    embed_dim : int, default 32
        Width of the embeddings whose inner product is the score.
    """

    def __init__(self, x_dim: int, y_dim: int, hidden: Sequence[int] = (128,),
                 embed_dim: int = 32) -> None:
        super().__init__()
        self.x_dim, self.y_dim = check_int(x_dim, "x_dim", minimum=1), check_int(y_dim, "y_dim",
                                                                                  minimum=1)
        self.embed_dim = check_int(embed_dim, "embed_dim", minimum=1)
        self.g = mlp(self.x_dim, self.embed_dim, hidden)
        self.h = mlp(self.y_dim, self.embed_dim, hidden)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Score matrix ``(B, B)``."""
        _check_pair(x, y, self.x_dim, self.y_dim)
        return self.g(x) @ self.h(y).T / self.embed_dim ** 0.5


class BilinearCritic(nn.Module):
    """``f(x, y) = x^T W y``: a linear critic with no network.

    It holds the cross term ``x^T C y`` of a Gaussian log-density ratio but not the quadratic
    terms in ``x`` or ``y`` alone, so on Gaussians it is a little loose; it is cheap and stable.

    Parameters
    ----------
    x_dim, y_dim : int
        Feature counts of the two arguments.
    """

    def __init__(self, x_dim: int, y_dim: int) -> None:
        super().__init__()
        self.x_dim, self.y_dim = check_int(x_dim, "x_dim", minimum=1), check_int(y_dim, "y_dim",
                                                                                  minimum=1)
        self.weight = nn.Parameter(torch.zeros(self.x_dim, self.y_dim))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Score matrix ``(B, B)``."""
        _check_pair(x, y, self.x_dim, self.y_dim)
        return x @ self.weight @ y.T


class ConcatCritic(nn.Module):
    """``f(x, y) = MLP([x, y])`` on all ``B^2`` pairs: ``O(B^2)`` network passes per batch.

    Parameters
    ----------
    x_dim, y_dim : int
        Feature counts of the two arguments.
    hidden : sequence of int, default (128,)
        Hidden widths of the MLP.
    """

    def __init__(self, x_dim: int, y_dim: int, hidden: Sequence[int] = (128,)) -> None:
        super().__init__()
        self.x_dim, self.y_dim = check_int(x_dim, "x_dim", minimum=1), check_int(y_dim, "y_dim",
                                                                                  minimum=1)
        self.net = mlp(self.x_dim + self.y_dim, 1, hidden)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Score matrix ``(B, B)``; row ``i`` holds ``f(x_i, y_j)`` for every ``j``."""
        _check_pair(x, y, self.x_dim, self.y_dim)
        b = x.shape[0]
        pairs = torch.cat([x[:, None, :].expand(b, b, -1), y[None, :, :].expand(b, b, -1)], -1)
        return self.net(pairs.reshape(b * b, -1)).reshape(b, b)


#: Critic names accepted by :func:`make_critic`.
CRITICS = ("separable", "bilinear", "concat")


def make_critic(name: str, x_dim: int, y_dim: int, hidden: Sequence[int] = (128,),
                embed_dim: int = 32) -> nn.Module:
    """Build a critic by name: ``"separable"`` (default elsewhere), ``"bilinear"``, ``"concat"``.

    Examples
    --------
    >>> import torch
    >>> make_critic("separable", 3, 2)(torch.zeros(5, 3), torch.zeros(5, 2)).shape
    torch.Size([5, 5])
    """
    name = check_choice(name, "critic", CRITICS)
    if name == "separable":
        return SeparableCritic(x_dim, y_dim, hidden, embed_dim)
    if name == "bilinear":
        return BilinearCritic(x_dim, y_dim)
    return ConcatCritic(x_dim, y_dim, hidden)
