"""``noisy-digits``: two views of handwritten digits in the spirit of Noisy-MNIST.

Built from scikit-learn's bundled 8x8 digits (1797 images, UCI optdigits, BSD-3 via
scikit-learn). Each sample takes one source image of digit ``c``:

* view ``rotated``: that image upsampled to 16x16, rotated by an angle drawn uniformly from
  ``[-max_angle, max_angle]`` degrees and scaled by a factor drawn uniformly from
  ``[1 - max_scale, 1 + max_scale]`` about the centre;
* view ``noisy``: a *different* image of the same digit, upsampled to 16x16, with uniform
  noise on ``[0, noise]`` added to every pixel and clipped to ``[0, 1]``.

So the views share only the class (their common information is the digit), which is the
design of the two-view Noisy-MNIST benchmark (Wang et al., 2015) used by multi-view
information-bottleneck papers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._lazy import lazy_module
from .._validation import check_float, check_int
from ..exceptions import InvalidInputError, MissingDependencyError
from .dataset import DatasetMetadata, MultimodalDataset

ndimage = lazy_module("scipy.ndimage")

SIDE = 16


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits as ``(images in [0, 1] of shape (1797, 8, 8), labels)``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise MissingDependencyError(
            "The digit datasets are built from scikit-learn's bundled digits: "
            "`pip install interplay[data]` (or `pip install scikit-learn`)."
        ) from exc
    d = load_digits()
    return d.images.astype(np.float64) / 16.0, d.target.astype(np.int64)


def upsample(images: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Bilinear upsampling of ``(n, h, w)`` images to ``(n, side, side)``, clipped to [0, 1]."""
    factor = side / images.shape[1]
    out = ndimage.zoom(images, (1, factor, factor), order=1, mode="nearest", grid_mode=True)
    return np.clip(out, 0.0, 1.0)


def _rotate_scale(img: np.ndarray, angle_deg: float, scale: float) -> np.ndarray:
    theta = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) / scale
    centre = (np.array(img.shape) - 1) / 2.0
    offset = centre - rot @ centre
    out = ndimage.affine_transform(img, rot, offset=offset, order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0)


def make_noisy_digits(
    n_samples: int | None = None,
    *,
    max_angle: float = 45.0,
    max_scale: float = 0.2,
    noise: float = 1.0,
    seed: int = 0,
) -> MultimodalDataset:
    """Build the two-view ``noisy-digits`` dataset.

    Parameters
    ----------
    n_samples : int, optional
        Number of samples; default one per source image (1797). Source images are cycled
        through a seeded permutation when more are asked for.
    max_angle : float
        Largest rotation of view 1, in degrees (0-180).
    max_scale : float
        Largest relative change of size of view 1 (0-0.9).
    noise : float
        Upper end of the uniform background noise of view 2 (0-10).
    seed : int
        Seed; the same arguments give the same arrays.

    Returns
    -------
    MultimodalDataset
        Modalities ``rotated`` and ``noisy`` (float64 images of shape (16, 16) in [0, 1]);
        target ``digit`` (0-9).

    Examples
    --------
    >>> ds = make_noisy_digits(50, seed=1)
    >>> ds.shapes()
    {'rotated': (16, 16), 'noisy': (16, 16)}
    """
    images, labels = sklearn_digits()
    n_src = len(labels)
    n = n_src if n_samples is None else check_int(n_samples, "n_samples", minimum=1)
    max_angle = check_float(max_angle, "max_angle", low=0.0, high=180.0)
    max_scale = check_float(max_scale, "max_scale", low=0.0, high=0.9)
    noise = check_float(noise, "noise", low=0.0, high=10.0)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)

    big = upsample(images)
    order = np.concatenate([rng.permutation(n_src) for _ in range(-(-n // n_src))])[:n]
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    partner = np.empty(n, dtype=np.int64)
    for i, src in enumerate(order):
        pool = by_class[labels[src]]
        pick = pool[rng.integers(len(pool) - 1)]
        partner[i] = pick if pick != src else pool[-1]
    if np.any(partner == order):
        raise InvalidInputError("Internal pairing failed: a view-2 image equals its view-1 image.")
    angles = rng.uniform(-max_angle, max_angle, size=n)
    scales = rng.uniform(1.0 - max_scale, 1.0 + max_scale, size=n)
    view1 = np.stack([_rotate_scale(big[s], a, z) for s, a, z in zip(order, angles, scales,
                                                                       strict=True)])
    view2 = np.clip(big[partner] + rng.uniform(0.0, noise, size=(n, SIDE, SIDE)), 0.0, 1.0)
    settings: dict[str, Any] = {"n_samples": n, "max_angle": max_angle, "max_scale": max_scale,
                                "noise": noise, "seed": seed}
    meta = DatasetMetadata(
        name="noisy-digits",
        description=(
            "Two views of handwritten digits in the spirit of Noisy-MNIST: view 1 a rotated and "
            "scaled digit, view 2 a different image of the same digit on a noisy background."
        ),
        source=(
            "Generated from scikit-learn's bundled 8x8 digits (UCI optdigits, Alpaydin & Kaynak "
            "1998), upsampled to 16x16; design after Wang et al. 2015 (deep CCA, Noisy-MNIST)."
        ),
        licence="BSD-3-Clause (scikit-learn's copy of UCI optdigits)",
        modality_kinds={"rotated": "image", "noisy": "image"},
        classes={"digit": tuple(str(c) for c in range(10))},
        extra={"generator": "make_noisy_digits", "settings": settings},
    )
    return MultimodalDataset(
        {"rotated": view1, "noisy": view2},
        {"digit": labels[order], "source_index": order},
        default_target="digit",
        metadata=meta,
    )
