"""What a trained or training model is measured by: excess loss, KL, attention diagnostics.

All losses are in bits. Attention maps have shape ``(n_seqs, heads, length, length)`` (or
``(n_seqs, length, length)`` for one head), row ``i`` being query position ``i``; as in
:class:`~interplay.dynamics.model.MarkovTransformer`, position ``i`` predicts symbol ``i + 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidInputError
from .markov import _check_order_alphabet, check_sequences, context_ids


def kl_bits(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``KL(p || q) = sum_a p(a) log2(p(a) / q(a))`` over the last axis (0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log2(p) - np.log2(q)), 0.0)
    return terms.sum(axis=-1)


def _as_heads(attention: Any) -> np.ndarray:
    att = np.asarray(attention, dtype=np.float64)
    if att.ndim == 3:
        att = att[:, None]
    if att.ndim != 4 or att.shape[-1] != att.shape[-2]:
        raise InvalidInputError(
            "`attention` must have shape (n_seqs, heads, length, length) or (n_seqs, length, "
            f"length), got {att.shape}."
        )
    return att


def matching_mask(seqs: Any, order: int, alphabet_size: int | None = None) -> np.ndarray:
    """Which keys an induction head should attend to, shape ``(n_seqs, length, length)``.

    ``mask[s, i, j]`` is true when ``k <= j <= i`` and the k symbols before key ``j``
    (``x_{j-k} .. x_{j-1}``) equal the current context of query ``i``, the k most recent symbols
    ``x_{i-k+1} .. x_i``. The value at such a key, ``x_j``, is an earlier continuation of the
    current context, which is what the conditional k-gram estimator counts.
    """
    arr, m = check_sequences(seqs, alphabet_size)
    k, m = _check_order_alphabet(order, m)
    n, length = arr.shape
    ext = np.concatenate([arr, np.zeros((n, 1), dtype=arr.dtype)], axis=1)
    ctx = context_ids(ext, k, m)
    query = ctx[:, 1:]  # context of the symbol that position i predicts: x_{i-k+1..i}
    key = ctx[:, :length]  # x_{j-k..j-1}, -1 for j < k
    pos = np.arange(length)
    allowed = (pos[None, :] <= pos[:, None]) & (pos[None, :] >= k)
    return (key[:, None, :] == query[:, :, None]) & (query[:, :, None] >= 0) & allowed[None]


def induction_score(
    attention: Any, seqs: Any, order: int, alphabet_size: int | None = None
) -> np.ndarray:
    """Attention mass on earlier positions whose preceding k symbols match the current context.

    For every sequence and every query ``i`` with at least one matching key (see
    :func:`matching_mask`), the mass ``sum_j A[i, j] mask[i, j]``; the score is its mean over
    those queries, per head. An induction head scores near 1; attention spread uniformly over
    the past scores the fraction of matching keys (:func:`induction_chance`).

    Parameters
    ----------
    attention : array, shape (n_seqs, heads, length, length) or (n_seqs, length, length)
    seqs : array of int, shape (n_seqs, length)
    order : int
        k >= 1.
    alphabet_size : int, optional
        Default ``seqs.max() + 1``.

    Returns
    -------
    ndarray, shape (heads,)
    """
    att = _as_heads(attention)
    mask = matching_mask(seqs, order, alphabet_size)
    if att.shape[0] != mask.shape[0] or att.shape[-1] != mask.shape[-1]:
        raise InvalidInputError(
            f"`attention` of shape {att.shape} does not fit `seqs` of shape {mask.shape[:2]}."
        )
    has = mask.any(axis=-1)
    if not has.any():
        return np.full(att.shape[1], np.nan)
    mass = np.einsum("shij,sij->shi", att, mask.astype(np.float64))
    return (mass * has[:, None, :]).sum(axis=(0, 2)) / has.sum()


def induction_chance(seqs: Any, order: int, alphabet_size: int | None = None) -> float:
    """The induction score of uniform causal attention: mean fraction of keys that match."""
    mask = matching_mask(seqs, order, alphabet_size)
    length = mask.shape[-1]
    has = mask.any(axis=-1)
    frac = mask.sum(axis=-1) / (np.arange(length) + 1)[None, :]
    return float(frac[has].mean()) if has.any() else float("nan")


def attention_by_offset(attention: Any, max_offset: int | None = None) -> np.ndarray:
    """Mean attention a query puts on the key ``d`` positions back, per head.

    Entry ``[h, d]`` averages ``A[i, i - d]`` over sequences and over the queries ``i >= d``
    (those that have such a key). A head that looks back exactly one position has ``[h, 1]``
    near 1.

    Returns
    -------
    ndarray, shape (heads, max_offset + 1)
    """
    att = _as_heads(attention)
    length = att.shape[-1]
    top = length - 1 if max_offset is None else min(check_int(max_offset, "max_offset",
                                                              minimum=0), length - 1)
    out = np.empty((att.shape[1], top + 1))
    for d in range(top + 1):
        out[:, d] = np.diagonal(att, offset=-d, axis1=-2, axis2=-1).mean(axis=(0, 2))
    return out
