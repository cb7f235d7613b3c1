"""Modality dropout (Neverova et al. 2016, "ModDrop"): train on randomly incomplete samples."""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_float, check_int
from ..exceptions import InvalidInputError
from .base import Balancer, takes_mask


def modality_dropout_mask(n_samples: int, n_modalities: int, p: float) -> torch.Tensor:
    """Random presence mask: each modality dropped with probability ``p``, never all of a row.

    Every entry is kept independently with probability ``1 - p``; rows that lose every modality
    are drawn again, so the mask follows the independent draw *conditioned* on at least one
    modality present. A modality is therefore dropped with probability
    ``p (1 - p**(M-1)) / (1 - p**M)`` (slightly below ``p``), and all ``M`` are present with
    probability ``(1 - p)**M / (1 - p**M)``. Draws use torch's global CPU generator, so a run
    seeded with :func:`~interplay.training.seed_everything` repeats its masks.

    Parameters
    ----------
    n_samples : int
    n_modalities : int
        At least 2 (with one modality nothing could ever be dropped).
    p : float
        Drop probability in [0, 1).

    Returns
    -------
    Tensor of bool, shape (n_samples, n_modalities)
        True where the modality is present.

    Examples
    --------
    >>> mask = modality_dropout_mask(1000, 3, 0.5)
    >>> mask.shape, bool(mask.any(dim=1).all())
    (torch.Size([1000, 3]), True)
    """
    n = check_int(n_samples, "n_samples", minimum=0)
    k = check_int(n_modalities, "n_modalities", minimum=2)
    p = check_float(p, "p", low=0.0, high=1.0, high_open=True)
    keep = torch.rand(n, k) >= p
    empty = ~keep.any(dim=1)
    while bool(empty.any()):
        keep[empty] = torch.rand(int(empty.sum()), k) >= p
        empty = ~keep.any(dim=1)
    return keep


class ModalityDropout(Balancer):
    """Drop each modality of each training sample with probability ``p`` (never all of them).

    In training mode the model is called as ``model(inputs, mask=mask)`` with a fresh
    :func:`modality_dropout_mask` per batch (combined with any mask already given); evaluation
    batches are left complete. Training this way teaches a fusion to predict from any subset of
    its modalities and keeps one strong modality from doing all the work; training metrics are
    then those of the incomplete samples.

    Parameters
    ----------
    p : float, default 0.3
        Drop probability in [0, 1).

    Examples
    --------
    >>> ModalityDropout(0.3).p
    0.3
    """

    name = "modality_dropout"
    description = "Drop whole modalities of training samples at random (ModDrop)."
    acts_on = frozenset({"batch"})

    def __init__(self, p: float = 0.3) -> None:
        super().__init__()
        self.p = check_float(p, "p", low=0.0, high=1.0, high_open=True)

    def setup(self, model: nn.Module) -> None:
        columns = getattr(model, "modalities", None)
        if not takes_mask(model):
            raise InvalidInputError(
                f"modality dropout needs a model called as model(inputs, mask=...) whose "
                f"`modalities` attribute names the mask columns (a MultimodalModel, say); "
                f"{type(model).__name__} has no `mask` argument in its forward."
            )
        if (not isinstance(columns, (tuple, list)) or len(columns) < 2
                or not all(isinstance(c, str) for c in columns)):
            raise InvalidInputError(
                f"modality dropout needs at least 2 modalities named by the model's "
                f"`modalities` (the mask columns); {type(model).__name__} has "
                f"`modalities`={columns!r}."
            )
        self.modalities = tuple(columns)
        encoders = getattr(model, "encoders", None)
        if encoders is not None:
            super().setup(model)

    def transform_batch(self, inputs: dict[str, torch.Tensor], mask: torch.Tensor | None,
                        training: bool) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        if not training or self.p == 0.0 or not inputs:
            return inputs, mask
        first = next(iter(inputs.values()))
        drawn = modality_dropout_mask(first.shape[0], len(self.modalities), self.p)
        drawn = drawn.to(first.device)
        return inputs, drawn if mask is None else drawn & mask

    def extra_repr(self) -> str:
        return f"p={self.p}"
