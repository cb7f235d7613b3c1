"""The modality gap (Liang et al., "Mind the Gap", NeurIPS 2022) and shifting along it.

Embeddings of two modalities trained contrastively occupy two separate cones on the unit
sphere. The gap vector is the difference of the means of the L2-normalised embeddings,
``Δ = mean_i â_i - mean_i b̂_i``; its norm is the gap distance (0.82 for CLIP on MSCOCO in the
paper). The cone of one modality is its mean pairwise cosine similarity (0 for directions
spread evenly, 1 when all rows point the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_float
from ..exceptions import InvalidInputError
from ._arrays import as_features
from .preprocess import _unit_rows


@dataclass(frozen=True)
class GapResult:
    """The modality gap between two embedding sets.

    Attributes
    ----------
    vector : ndarray of shape (d,)
        ``mean(â) - mean(b̂)`` of the L2-normalised rows.
    norm : float
        ``||vector||``, in [0, 2].
    cone_a, cone_b : float
        Mean cosine similarity between distinct rows within ``a`` and within ``b``.
    """

    vector: np.ndarray
    norm: float
    cone_a: float
    cone_b: float

    def to_dict(self) -> dict[str, Any]:
        """Plain types, for JSON."""
        return {"norm": self.norm, "cone_a": self.cone_a, "cone_b": self.cone_b,
                "vector": self.vector.tolist()}


def _unit_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    xa = _unit_rows(as_features(a, "a"), "a")
    xb = _unit_rows(as_features(b, "b"), "b")
    if xa.shape[1] != xb.shape[1]:
        raise InvalidInputError(
            "`a` and `b` must be embeddings in one shared space (same number of features), got "
            f"{xa.shape[1]} and {xb.shape[1]} features."
        )
    return xa, xb


def _cone(x: np.ndarray) -> float:
    n = x.shape[0]
    s = x.sum(axis=0)
    return (float(s @ s) - n) / (n * (n - 1))


def modality_gap(a: Any, b: Any) -> GapResult:
    """Gap vector, gap distance and cone of each modality.

    Parameters
    ----------
    a, b : array-like or torch tensors of shape (n_a, d) and (n_b, d)
        Embeddings of the two modalities in a shared space; they need not be paired.

    Returns
    -------
    GapResult

    Examples
    --------
    >>> import numpy as np
    >>> g = modality_gap(np.tile([1.0, 0.0], (3, 1)), np.tile([0.0, 1.0], (3, 1)))
    >>> round(g.norm ** 2, 12), g.cone_a
    (2.0, 1.0)
    """
    xa, xb = _unit_pair(a, b)
    vec = xa.mean(axis=0) - xb.mean(axis=0)
    return GapResult(vector=vec, norm=float(np.linalg.norm(vec)), cone_a=_cone(xa),
                     cone_b=_cone(xb))


def shift_along_gap(a: Any, b: Any, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Move both modalities along the unit gap direction and re-normalise.

    With ``u = Δ / ||Δ||``: ``a' = normalise(â - λ u / 2)`` and ``b' = normalise(b̂ + λ u / 2)``
    ("Mind the Gap", section 4). ``λ > 0`` closes the gap, ``λ < 0`` widens it.

    Raises
    ------
    InvalidInputError
        If the gap is exactly 0 (no direction to shift along).
    """
    xa, xb = _unit_pair(a, b)
    lam_f = check_float(lam, "lam")
    vec = xa.mean(axis=0) - xb.mean(axis=0)
    norm = float(np.linalg.norm(vec))
    if norm == 0:
        raise InvalidInputError("The modality gap is 0: there is no direction to shift along.")
    u = vec / norm
    return (_unit_rows(xa - 0.5 * lam_f * u, "a shifted"),
            _unit_rows(xb + 0.5 * lam_f * u, "b shifted"))


def gap_sweep(
    a: Any,
    b: Any,
    evaluator: Callable[[np.ndarray, np.ndarray], float],
    lambdas: Sequence[float] | None = None,
) -> list[dict[str, float]]:
    """Evaluate ``evaluator(a', b')`` after shifting by each λ ("Mind the Gap" experiment).

    Parameters
    ----------
    a, b : embeddings of shape (n_a, d) and (n_b, d)
    evaluator : callable
        Takes the shifted, normalised ``(a', b')`` and returns a number (a retrieval score,
        zero-shot accuracy, a loss, ...).
    lambdas : sequence of float, optional
        Shifts; default -5 to 4.75 in steps of 0.25, as in the paper.

    Returns
    -------
    list of dict
        One ``{"lambda", "gap", "value"}`` per λ; ``gap`` is signed: the norm of the shifted
        mean difference, negative when it points against the original gap.
    """
    xa, xb = _unit_pair(a, b)
    lams = np.arange(-5.0, 5.0, 0.25) if lambdas is None else list(lambdas)
    vec = xa.mean(axis=0) - xb.mean(axis=0)
    rows = []
    for lam in lams:
        sa, sb = shift_along_gap(xa, xb, float(lam))
        diff = sa.mean(axis=0) - sb.mean(axis=0)
        sign = 1.0 if float(diff @ vec) >= 0 else -1.0
        rows.append({"lambda": float(lam), "gap": sign * float(np.linalg.norm(diff)),
                     "value": float(evaluator(sa, sb))})
    return rows
