"""Cross-modal retrieval metrics: recall (hit) at k, median and mean rank, both directions.

On 1:1 pairs (the truth is the diagonal of the similarity matrix) the numbers equal
open_clip's ``get_clip_metrics``: with ``r`` the 0-based rank of the true match among the
candidates sorted by decreasing similarity, ``R@k = mean(r < k)``, median rank
``floor(median(r)) + 1`` and mean rank ``mean(r) + 1``. With several positives per query
(``positives``), a query counts as a hit at k when any positive is in its top k (CLIP_benchmark's
convention) and its rank is that of its best-ranked positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidInputError
from ._arrays import as_features
from .preprocess import _unit_rows


def _ranks(sim: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """0-based rank of each row's best positive: candidates strictly more similar to it."""
    best = np.where(pos, sim, -np.inf).max(axis=1)
    return np.count_nonzero(sim > best[:, None], axis=1)


def retrieval_metrics(
    sim_or_a: Any,
    b: Any = None,
    *,
    positives: Any = None,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """Retrieval scores in both directions from a similarity matrix or from two embedding sets.

    Parameters
    ----------
    sim_or_a : array-like of shape (n_a, n_b), or embeddings (n_a, d) when ``b`` is given
        ``sim[i, j]``: similarity of query i of ``a`` and candidate j of ``b``. With ``b``,
        the similarity is the cosine of the rows.
    b : array-like of shape (n_b, d), optional
    positives : bool array-like of shape (n_a, n_b), optional
        ``positives[i, j]`` is True when ``b[j]`` is a correct match of ``a[i]``; default the
        identity (1:1 pairs, ``n_a == n_b``). Every row and column needs one True at least.
    ks : sequence of int
        Cut-offs of recall at k.

    Returns
    -------
    dict of str to float
        ``a_to_b_R@k``, ``a_to_b_median_rank``, ``a_to_b_mean_rank`` and the same for
        ``b_to_a`` (ranks are 1-based; equal similarities count in the query's favour).

    Examples
    --------
    >>> import numpy as np
    >>> m = retrieval_metrics(np.eye(4) + 0.1, ks=(1,))
    >>> m["a_to_b_R@1"], m["b_to_a_median_rank"]
    (1.0, 1.0)
    """
    if b is None:
        sim = as_features(sim_or_a, "sim", min_samples=1)
    else:
        xa = _unit_rows(as_features(sim_or_a, "a", min_samples=1), "a")
        xb = _unit_rows(as_features(b, "b", min_samples=1), "b")
        if xa.shape[1] != xb.shape[1]:
            raise InvalidInputError(
                f"`a` and `b` must have the same number of features to be compared, got "
                f"{xa.shape[1]} and {xb.shape[1]}."
            )
        sim = xa @ xb.T
    pos = _positives(positives, sim.shape)
    cutoffs = [check_int(k, "ks", minimum=1) for k in ks]
    out: dict[str, float] = {}
    for name, s, p in (("a_to_b", sim, pos), ("b_to_a", sim.T, pos.T)):
        r = _ranks(s, p)
        for k in cutoffs:
            out[f"{name}_R@{k}"] = float(np.mean(r < k))
        out[f"{name}_median_rank"] = float(np.floor(np.median(r))) + 1.0
        out[f"{name}_mean_rank"] = float(np.mean(r)) + 1.0
    return out


def _positives(positives: Any, shape: tuple[int, int]) -> np.ndarray:
    if positives is None:
        if shape[0] != shape[1]:
            raise InvalidInputError(
                f"Without `positives` the pairs are 1:1 and the similarity must be square; got "
                f"shape {shape}. Pass positives[i, j] = True where b[j] matches a[i]."
            )
        return np.eye(shape[0], dtype=bool)
    pos = np.asarray(positives)
    if pos.shape != shape or pos.dtype.kind not in "bui":
        raise InvalidInputError(
            f"`positives` must be a boolean array of shape {shape}, got shape {pos.shape} and "
            f"dtype {pos.dtype}."
        )
    pos = pos.astype(bool)
    for axis, what in ((1, "row (query of a)"), (0, "column (query of b)")):
        empty = np.flatnonzero(~pos.any(axis=axis))
        if empty.size:
            raise InvalidInputError(
                f"`positives` has {empty.size} {what} without any positive (first: "
                f"{int(empty[0])}); every query needs at least one match."
            )
    return pos
