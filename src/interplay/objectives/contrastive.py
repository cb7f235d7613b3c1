"""Contrastive losses on paired embeddings, as functions and as ``nn.Module`` s.

Every function takes raw embeddings of shape ``(batch, dim)`` and returns a scalar loss to
minimise (mean over the batch). CLIP, SigLIP, NT-Xent, SupCon and the multi-positive CLIP
L2-normalise their inputs inside; Barlow Twins standardises each feature over the batch.

===========================  ===============================================================
function                     loss (``A``, ``B`` row-normalised, ``s`` the logit scale)
===========================  ===============================================================
``clip_loss``                ``(CE(s A B^T, I) + CE(s B A^T, I)) / 2`` (Radford et al. 2021)
``siglip_loss``              ``-(1/B) sum_ij log sigma(z_ij (s <a_i, b_j> + bias))``,
                             ``z_ij = 1`` on the diagonal, ``-1`` elsewhere (Zhai et al. 2023)
``nt_xent_loss``             SimCLR's NT-Xent over ``2B`` views, temperature ``tau``
                             (Chen et al. 2020)
``supcon_loss``              supervised contrastive, every same-label sample a positive
                             (Khosla et al. 2020, the ``L_out`` form)
``multi_positive_clip_loss`` CLIP whose targets spread uniformly over several positives
``barlow_twins_loss``        ``sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2`` on the
                             cross-correlation of standardised features (Zbontar et al. 2021)
===========================  ===============================================================

The modules hold what open_clip and SigLIP learn: :class:`ClipLoss` a log-scale initialised at
``log(1/0.07)`` and clamped at ``log 100``; :class:`SigLipLoss` a log-scale and a bias
initialised at ``s = 10``, ``bias = -10``.

Examples
--------
>>> import torch
>>> a = torch.eye(4)
>>> round(float(clip_loss(a, a, scale=100.0)), 6)  # perfectly separated pairs
0.0
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import check_float
from ..exceptions import InvalidInputError

__all__ = [
    "ClipLoss",
    "SigLipLoss",
    "barlow_twins_loss",
    "clip_loss",
    "multi_positive_clip_loss",
    "nt_xent_loss",
    "siglip_loss",
    "supcon_loss",
]

LOG_SCALE_MAX = math.log(100.0)


def _check_embeddings(x: object, name: str, *, min_batch: int = 2) -> Tensor:
    if not isinstance(x, Tensor):
        raise InvalidInputError(f"{name} must be a torch.Tensor of shape (batch, dim); got "
                                f"{type(x).__name__}")
    if x.ndim != 2:
        raise InvalidInputError(f"{name} must have shape (batch, dim); got shape {tuple(x.shape)}")
    if x.shape[0] < min_batch:
        raise InvalidInputError(
            f"{name} holds {x.shape[0]} row(s); a contrastive loss needs at least {min_batch} "
            "(a batch of one has no negatives)"
        )
    if not x.is_floating_point():
        raise InvalidInputError(f"{name} must be a floating-point tensor; got {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise InvalidInputError(f"{name} contains NaN or infinite values")
    return x


def _check_pair(a: object, b: object) -> tuple[Tensor, Tensor]:
    a = _check_embeddings(a, "a")
    b = _check_embeddings(b, "b")
    if a.shape[0] != b.shape[0]:
        raise InvalidInputError(
            f"a and b must hold the same number of rows (pairs); got {a.shape[0]} and {b.shape[0]}"
        )
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError(
            f"a and b must have the same width to be compared; got {a.shape[1]} and "
            f"{b.shape[1]}: project them to a common dimension first"
        )
    return a, b


def _scale(scale: float | Tensor, name: str = "scale") -> float | Tensor:
    if isinstance(scale, Tensor):
        return scale
    return check_float(scale, name, low=0.0)


def clip_loss(a: Tensor, b: Tensor, scale: float | Tensor = 1.0 / 0.07) -> Tensor:
    """Symmetric InfoNCE (CLIP) loss of row-paired embeddings.

    Parameters
    ----------
    a, b : Tensor of shape (batch, dim)
        Paired embeddings; row ``i`` of ``a`` matches row ``i`` of ``b``.
    scale : float or Tensor
        The logit multiplier ``s`` (open_clip passes ``logit_scale.exp()``).
    """
    a, b = _check_pair(a, b)
    s = _scale(scale)
    logits = s * F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    labels = torch.arange(a.shape[0], device=a.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def siglip_loss(
    a: Tensor, b: Tensor, scale: float | Tensor = 10.0, bias: float | Tensor = -10.0
) -> Tensor:
    """Pairwise sigmoid (SigLIP) loss: every pair is an independent binary problem.

    Normalised by the batch size ``B`` (not ``B^2``), as in the paper.
    """
    a, b = _check_pair(a, b)
    s = _scale(scale)
    logits = s * F.normalize(a, dim=1) @ F.normalize(b, dim=1).T + bias
    z = 2 * torch.eye(a.shape[0], device=a.device, dtype=logits.dtype) - 1
    return -F.logsigmoid(z * logits).sum() / a.shape[0]


def nt_xent_loss(a: Tensor, b: Tensor, temperature: float = 0.5) -> Tensor:
    """SimCLR's NT-Xent loss of two augmented views ``a``, ``b`` of the same batch.

    Each of the ``2B`` views is an anchor whose positive is its other view and whose negatives
    are the other ``2B - 2`` views; the loss is the mean cross-entropy over the ``2B`` anchors.
    """
    a, b = _check_pair(a, b)
    t = check_float(temperature, "temperature", low=0.0, low_open=True)
    z = F.normalize(torch.cat([a, b]), dim=1)
    n = a.shape[0]
    logits = z @ z.T / t
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), -math.inf)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, targets)


def supcon_loss(features: Tensor, labels: Tensor, temperature: float = 0.1) -> Tensor:
    """Supervised contrastive loss (``L_out`` of Khosla et al. 2020).

    For anchor ``i`` with positives ``P(i)`` (other samples with the same label) and all other
    samples ``A(i)``: ``-1/|P(i)| sum_{p in P(i)} log(exp(z_i.z_p/t) / sum_{a in A(i)}
    exp(z_i.z_a/t))``, averaged over anchors that have at least one positive.

    Parameters
    ----------
    features : Tensor of shape (batch, dim)
        Embeddings (several views of one sample are simply several rows with the same label).
    labels : Tensor of shape (batch,)
        Integer class labels.
    """
    z = _check_embeddings(features, "features")
    if not isinstance(labels, Tensor) or labels.shape != (z.shape[0],):
        got = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise InvalidInputError(f"labels must be a tensor of shape ({z.shape[0]},); got {got}")
    t = check_float(temperature, "temperature", low=0.0, low_open=True)
    z = F.normalize(z, dim=1)
    n = z.shape[0]
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = (z @ z.T / t).masked_fill(self_mask, -math.inf)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    n_pos = positives.sum(dim=1)
    if not bool((n_pos > 0).any()):
        raise InvalidInputError("supcon_loss needs at least two samples with the same label")
    per_anchor = -log_prob.masked_fill(~positives, 0.0).sum(dim=1)
    has = n_pos > 0
    return (per_anchor[has] / n_pos[has]).mean()


def multi_positive_clip_loss(
    a: Tensor, b: Tensor, positives: Tensor, scale: float | Tensor = 1.0 / 0.07
) -> Tensor:
    """CLIP loss where an item may match several items of the other modality.

    ``positives[i, j]`` is True when ``a[i]`` matches ``b[j]``. Each row's (and column's) target
    distribution is uniform over its positives; the loss is the mean of the two directions'
    cross-entropies. With ``positives = I`` it equals :func:`clip_loss`.
    """
    a = _check_embeddings(a, "a")
    b = _check_embeddings(b, "b")
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError(
            f"a and b must have the same width; got {a.shape[1]} and {b.shape[1]}"
        )
    if not isinstance(positives, Tensor) or positives.shape != (a.shape[0], b.shape[0]):
        got = tuple(positives.shape) if isinstance(positives, Tensor) else type(positives).__name__
        raise InvalidInputError(
            f"positives must be a boolean tensor of shape ({a.shape[0]}, {b.shape[0]}); got {got}"
        )
    pos = positives.to(torch.bool)
    if not bool(pos.any(dim=1).all()) or not bool(pos.any(dim=0).all()):
        raise InvalidInputError("positives must give every row of a and of b at least one match")
    s = _scale(scale)
    logits = s * F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    target_ab = pos.to(logits.dtype) / pos.sum(dim=1, keepdim=True)
    target_ba = pos.T.to(logits.dtype) / pos.T.sum(dim=1, keepdim=True)
    loss_ab = -(target_ab * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss_ba = -(target_ba * F.log_softmax(logits.T, dim=1)).sum(dim=1).mean()
    return (loss_ab + loss_ba) / 2


def barlow_twins_loss(a: Tensor, b: Tensor, off_diagonal_weight: float = 5e-3) -> Tensor:
    """Barlow Twins: make the cross-correlation of standardised features the identity."""
    a, b = _check_pair(a, b)
    lam = check_float(off_diagonal_weight, "off_diagonal_weight", low=0.0)
    n = a.shape[0]
    za = (a - a.mean(0)) / (a.std(0, unbiased=False) + 1e-8)
    zb = (b - b.mean(0)) / (b.std(0, unbiased=False) + 1e-8)
    c = za.T @ zb / n
    diag = torch.diagonal(c)
    off = c - torch.diag_embed(diag)
    return ((1 - diag) ** 2).sum() + lam * (off**2).sum()


class ClipLoss(nn.Module):
    """:func:`clip_loss` with open_clip's learnable log-scale (``log(1/0.07)``, clamped at
    ``log 100``)."""

    def __init__(self, init_scale: float = 1.0 / 0.07, max_scale: float = 100.0) -> None:
        super().__init__()
        init = check_float(init_scale, "init_scale", low=0.0, low_open=True)
        self.max_log_scale = math.log(check_float(max_scale, "max_scale", low=init))
        self.log_scale = nn.Parameter(torch.tensor(math.log(init)))

    @property
    def scale(self) -> Tensor:
        return self.log_scale.clamp(max=self.max_log_scale).exp()

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return clip_loss(a, b, self.scale)


class SigLipLoss(nn.Module):
    """:func:`siglip_loss` with a learnable log-scale and bias (SigLIP: ``s = 10``,
    ``bias = -10``)."""

    def __init__(self, init_scale: float = 10.0, init_bias: float = -10.0) -> None:
        super().__init__()
        init = check_float(init_scale, "init_scale", low=0.0, low_open=True)
        self.log_scale = nn.Parameter(torch.tensor(math.log(init)))
        self.bias = nn.Parameter(torch.tensor(float(check_float(init_bias, "init_bias"))))

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return siglip_loss(a, b, self.log_scale.exp(), self.bias)
