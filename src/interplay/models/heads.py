"""Heads that turn a fused representation ``(N, input_dim)`` into a prediction or an embedding."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError


def _body(input_dim: int, output_dim: int, hidden_dim: int | None, dropout: float) -> nn.Module:
    p = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
    if hidden_dim is None:
        return nn.Sequential(nn.Dropout(p), nn.Linear(input_dim, output_dim))
    h = check_int(hidden_dim, "hidden_dim", minimum=1)
    return nn.Sequential(
        nn.Linear(input_dim, h), nn.ReLU(), nn.Dropout(p), nn.Linear(h, output_dim)
    )


class _Head(nn.Module):
    """A checked ``(N, input_dim)`` input through :func:`_body` to ``(N, output_dim)``."""

    def __init__(
        self, input_dim: int, output_dim: int, hidden_dim: int | None, dropout: float
    ) -> None:
        super().__init__()
        self.input_dim = check_int(input_dim, "input_dim", minimum=1)
        self.output_dim = output_dim
        self.net = _body(self.input_dim, self.output_dim, hidden_dim, dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self._check(z))

    def _check(self, z: Any) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.input_dim:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise InvalidInputError(
                f"{type(self).__name__} expects input of shape (N, {self.input_dim}), got {got}."
            )
        return z


class ClassificationHead(_Head):
    """Class logits ``(N, n_classes)``; train with ``nn.CrossEntropyLoss``.

    Examples
    --------
    >>> import torch
    >>> ClassificationHead(8, 3)(torch.randn(5, 8)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self, input_dim: int, n_classes: int, hidden_dim: int | None = None, dropout: float = 0.0
    ) -> None:
        super().__init__(
            input_dim, check_int(n_classes, "n_classes", minimum=2), hidden_dim, dropout
        )
        self.n_classes = self.output_dim


class RegressionHead(_Head):
    """Real-valued predictions ``(N, n_targets)``; train with e.g. ``nn.MSELoss``.

    Examples
    --------
    >>> import torch
    >>> RegressionHead(8)(torch.randn(5, 8)).shape
    torch.Size([5, 1])
    """

    def __init__(
        self,
        input_dim: int,
        n_targets: int = 1,
        hidden_dim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(
            input_dim, check_int(n_targets, "n_targets", minimum=1), hidden_dim, dropout
        )
        self.n_targets = self.output_dim


class EmbeddingHead(_Head):
    """Retrieval embeddings ``(N, embed_dim)``: a linear map, L2-normalized by default.

    Normalized embeddings make the dot product the cosine similarity that contrastive losses and
    retrieval metrics expect.

    Examples
    --------
    >>> import torch
    >>> e = EmbeddingHead(8, 4)(torch.randn(5, 8))
    >>> torch.allclose(e.norm(dim=1), torch.ones(5))
    True
    """

    def __init__(
        self, input_dim: int, embed_dim: int, hidden_dim: int | None = None, normalize: bool = True
    ) -> None:
        super().__init__(input_dim, check_int(embed_dim, "embed_dim", minimum=1), hidden_dim, 0.0)
        self.embed_dim = self.output_dim
        self.normalize = bool(normalize)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        e = super().forward(z)
        return F.normalize(e, dim=1) if self.normalize else e


_HEADS: dict[str, type[_Head]] = {
    "classification": ClassificationHead,
    "regression": RegressionHead,
    "embedding": EmbeddingHead,
}


def create_head(task: str, input_dim: int, output_dim: int, **kwargs: Any) -> nn.Module:
    """Build a head by task: ``"classification"`` (output_dim = number of classes),
    ``"regression"`` (number of targets) or ``"embedding"`` (embedding size).

    Examples
    --------
    >>> create_head("classification", 16, 10).n_classes
    10
    """
    check_choice(task, "task", tuple(_HEADS))
    try:
        return _HEADS[task](input_dim, output_dim, **kwargs)
    except TypeError as exc:
        raise InvalidInputError(f"Bad option for a {task!r} head: {exc}.") from exc
