"""Augmentations for vector, sequence and image modalities, as composable callables.

Each augmentation is a callable ``aug(x, generator) -> Tensor`` that returns a new tensor and
never modifies its input (FactorCL's ``augment`` edits the batch in place). Compose them with
:class:`Compose`. Shapes: vectors ``(B, d)``, sequences ``(B, T, d)``, images ``(B, C, H, W)``.

:class:`UniquePreserving` is FactorCL's *unique-preserving* multimodal augmentation made
concrete for feature vectors: augment ``X1`` only where ``X2`` can supply what is destroyed.
Fitted on paired data, it marks the features of ``X1`` that a ridge regression on ``X2``
explains (R^2 at or above ``threshold``); the wrapped augmentation is applied to those features
only, so information unique to ``X1`` (features ``X2`` cannot predict) survives intact.

Examples
--------
>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> x = torch.ones(4, 3)
>>> y = Compose([GaussianNoise(0.1), FeatureMask(0.5)])(x, g)
>>> y.shape, bool((x == 1).all())
(torch.Size([4, 3]), True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from .._validation import check_float
from ..exceptions import InvalidInputError

__all__ = [
    "Compose",
    "FeatureMask",
    "GaussianNoise",
    "Mixup",
    "TimePermute",
    "UniquePreserving",
]

Augmentation = Callable[[Tensor, torch.Generator | None], Tensor]


def _tensor(x: object, name: str = "x", min_ndim: int = 2) -> Tensor:
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.ndim < min_ndim:
        got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, Tensor) else (
            type(x).__name__)
        raise InvalidInputError(
            f"{name} must be a floating-point tensor with at least {min_ndim} dimensions; "
            f"got {got}"
        )
    return x


class GaussianNoise:
    """Add ``std * N(0, 1)`` noise (FactorCL's ``noise`` uses ``std = 0.1``)."""

    def __init__(self, std: float = 0.1) -> None:
        self.std = check_float(std, "std", low=0.0)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = _tensor(x)
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        return x + self.std * noise.to(x.device)


class FeatureMask:
    """Zero each entry (vectors), time step (sequences) or pixel (images) with probability ``p``.

    For sequences ``(B, T, d)`` whole time steps are dropped (FactorCL's ``drop``); for images
    ``(B, C, H, W)`` whole pixels across channels.
    """

    def __init__(self, p: float = 0.2) -> None:
        self.p = check_float(p, "p", low=0.0, high=1.0)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = _tensor(x)
        if x.ndim == 2:
            shape: tuple[int, ...] = tuple(x.shape)
        elif x.ndim == 3:
            shape = (x.shape[0], x.shape[1], 1)
        else:
            shape = (x.shape[0], 1, *x.shape[2:])
        keep = torch.rand(shape, generator=generator) >= self.p
        return x * keep.to(device=x.device, dtype=x.dtype)


class TimePermute:
    """Shuffle the time steps of each sequence ``(B, T, d)`` independently (FactorCL's
    ``permute``)."""

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = _tensor(x, min_ndim=3)
        if x.ndim != 3:
            raise InvalidInputError(f"TimePermute needs sequences (B, T, d); got {tuple(x.shape)}")
        order = torch.argsort(torch.rand(x.shape[:2], generator=generator), dim=1)
        return torch.gather(x, 1, order.to(x.device)[:, :, None].expand_as(x))


class Mixup:
    """Mix each sample with a random other one: ``lam x + (1 - lam) x[perm]``,
    ``lam ~ Beta(alpha, alpha)`` folded to ``lam >= 0.5`` so the sample stays itself."""

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = check_float(alpha, "alpha", low=0.0, low_open=True)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = _tensor(x)
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        rng = np.random.default_rng(seed)
        lam = rng.beta(self.alpha, self.alpha, size=x.shape[0])
        lam = np.maximum(lam, 1 - lam)
        perm = torch.as_tensor(rng.permutation(x.shape[0]), device=x.device)
        lam_t = torch.as_tensor(lam, dtype=x.dtype, device=x.device).reshape(
            -1, *([1] * (x.ndim - 1)))
        return lam_t * x + (1 - lam_t) * x[perm]


class Compose:
    """Apply augmentations one after another."""

    def __init__(self, augmentations: Sequence[Augmentation]) -> None:
        self.augmentations = list(augmentations)
        if not all(callable(a) for a in self.augmentations):
            raise InvalidInputError("augmentations must be callables aug(x, generator)")

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        for aug in self.augmentations:
            x = aug(x, generator)
        return x


class UniquePreserving:
    """Augment only the features of ``X1`` that ``X2`` can predict.

    Parameters
    ----------
    augmentation : callable
        Applied to the whole ``(B, d)`` batch; its result replaces the predictable features only.
    threshold : float, default 0.5
        Minimum R^2 (of a ridge regression of a feature on the other modality) for a feature
        to count as predictable.
    ridge : float, default 1e-3
        Ridge penalty, relative to the mean eigenvalue of the other modality's covariance.

    Attributes
    ----------
    r2_ : ndarray of shape (d,)
        Per-feature R^2 from :meth:`fit`.
    augmentable_ : ndarray of bool, shape (d,)
    """

    def __init__(self, augmentation: Augmentation, threshold: float = 0.5,
                 ridge: float = 1e-3) -> None:
        if not callable(augmentation):
            raise InvalidInputError("augmentation must be a callable aug(x, generator)")
        self.augmentation = augmentation
        self.threshold = check_float(threshold, "threshold", low=0.0, high=1.0)
        self.ridge = check_float(ridge, "ridge", low=0.0)

    def fit(self, x: Tensor | np.ndarray, other: Tensor | np.ndarray) -> UniquePreserving:
        """Measure how well ``other`` (paired rows) predicts each feature of ``x``."""
        a = np.asarray(x, dtype=np.float64)
        b = np.asarray(other, dtype=np.float64)
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0] or a.shape[0] < 3:
            raise InvalidInputError(
                f"x and other must be 2-D with the same number (>= 3) of rows; got "
                f"{a.shape} and {b.shape}"
            )
        a = a - a.mean(0)
        b = b - b.mean(0)
        cov = b.T @ b / len(b)
        lam = self.ridge * max(float(np.trace(cov)) / cov.shape[0], 1e-12)
        coef = np.linalg.solve(cov + lam * np.eye(cov.shape[0]), b.T @ a / len(b))
        resid = a - b @ coef
        var = a.var(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = np.where(var > 0, 1 - resid.var(0) / var, 0.0)
        self.r2_ = np.clip(r2, 0.0, 1.0)
        self.augmentable_ = self.r2_ >= self.threshold
        return self

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if not hasattr(self, "augmentable_"):
            raise InvalidInputError("UniquePreserving must be fitted first: call .fit(x, other)")
        x = _tensor(x)
        if x.ndim != 2 or x.shape[1] != self.augmentable_.size:
            raise InvalidInputError(
                f"x must have shape (B, {self.augmentable_.size}); got {tuple(x.shape)}"
            )
        mask = torch.as_tensor(self.augmentable_, device=x.device)
        return torch.where(mask, self.augmentation(x, generator), x)
