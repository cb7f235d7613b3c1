"""Neighbourhood-agreement metrics (mutual, cycle, LCS and edit-distance kNN), exact and chunked.

Neighbours are by cosine similarity (rows L2-normalised inside), self excluded. The k nearest
neighbours of every row are found one block of rows at a time: the block's similarities to all
rows (``chunk x n``) are computed, the top k read off the few entries above a bound taken from
column-group maxima (no row is sorted or partitioned whole), and the block dropped, so memory
stays ``O(chunk * n + n * k)`` instead of the ``n x n`` matrix (40 GB at n = 10^5 in
float32). With a Dask ``client`` the blocks run as tasks on the cluster.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._parallel import check_dask_client
from .._validation import check_int
from ._arrays import as_features, as_pair, check_dtype, check_k
from .preprocess import _unit_rows

#: Bytes of one block of similarities when ``chunk_size`` is not given.
DEFAULT_BLOCK_BYTES = 64 * 2**20
#: Column groups whose maxima bound the k-th largest similarity of a row.
GROUPS = 16


def chance_mutual_knn(n: int, k: int) -> float:
    """Expected :func:`mutual_knn` of independent neighbourhoods: ``k / (n - 1)``.

    Each of the ``k`` neighbours of row i in ``a`` is among its ``k`` neighbours in ``b`` with
    probability ``k / (n - 1)`` when the two neighbourhoods are independent.

    Examples
    --------
    >>> chance_mutual_knn(101, 10)
    0.1
    """
    nn = check_int(n, "n", minimum=2)
    return check_k(k, nn) / (nn - 1)


def _block_topk(x: np.ndarray, lo: int, hi: int, k: int) -> np.ndarray:
    """Indices of the k most similar rows of ``x`` to rows ``lo:hi`` (self excluded), most
    similar first, equal similarities by increasing index.

    Selection without sorting or partitioning whole rows: the columns are split into ``g``
    disjoint strided groups; the k-th largest of the group maxima is a lower bound ``t`` on the
    k-th largest similarity (the k largest group maxima are k distinct entries >= t), so every
    top-k entry is among the few entries >= t. Only those candidates are sorted.
    """
    sim = x[lo:hi] @ x.T
    c, n = sim.shape
    rows = np.arange(c)
    sim[rows, rows + lo] = -np.inf
    g = min(GROUPS, n // (4 * k))
    if g >= 2:
        m = n // g
        group_max = sim[:, : m * g].reshape(c, g, m).max(axis=1)
        bound = np.partition(group_max, m - k, axis=1)[:, m - k]
    else:
        bound = np.partition(sim, n - k, axis=1)[:, n - k]
    flat = np.flatnonzero(sim >= bound[:, None])
    r, cols = np.divmod(flat, n)
    order = np.lexsort((cols, -sim.ravel()[flat], r))
    starts = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=c))[:-1]])
    return cols[order][starts[:, None] + np.arange(k)]


def _chunk_rows(n: int, chunk_size: int | None, itemsize: int) -> int:
    if chunk_size is None:
        return max(1, min(n, DEFAULT_BLOCK_BYTES // (itemsize * n)))
    return check_int(chunk_size, "chunk_size", minimum=1)


def knn_indices(
    x: Any,
    k: int,
    *,
    chunk_size: int | None = None,
    client: Any = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """The k nearest neighbours of every row by cosine similarity, self excluded.

    Parameters
    ----------
    x : array-like or torch tensor of shape (n_samples, n_features)
    k : int
        Neighbours per row, ``1 <= k < n_samples``.
    chunk_size : int, optional
        Rows per block; by default blocks of about 64 MiB of similarities.
    client : dask.distributed.Client, optional
        Compute the blocks as tasks on this cluster.
    dtype : float32 or float64
        Precision of the similarity products (float32 halves time and memory).

    Returns
    -------
    ndarray of int64, shape (n_samples, k)
        Row i lists the neighbours of sample i from most to least similar; equal similarities
        are listed (and, at the k-th place, chosen) by increasing index.
    """
    dt = check_dtype(dtype)
    arr = _unit_rows(as_features(x, "x", dtype=dt), "x")
    kk = check_k(k, arr.shape[0])
    return _knn(arr, kk, chunk_size, client)


def _knn(x: np.ndarray, k: int, chunk_size: int | None, client: Any) -> np.ndarray:
    n = x.shape[0]
    step = _chunk_rows(n, chunk_size, x.dtype.itemsize)
    bounds = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    if client is None:
        blocks = [_block_topk(x, lo, hi, k) for lo, hi in bounds]
    else:
        blocks = _on_dask(client, x, bounds, k)
    return np.concatenate(blocks, axis=0).astype(np.int64, copy=False)


def _on_dask(client: Any, x: np.ndarray, bounds: list[tuple[int, int]], k: int
             ) -> list[np.ndarray]:
    check_dask_client(client)
    shared = client.scatter(x, broadcast=True)
    futures = [client.submit(_block_topk, shared, lo, hi, k, pure=False)
               for lo, hi in bounds]
    return list(client.gather(futures))


def _pair_knn(a: Any, b: Any, k: int, chunk_size: int | None, client: Any, dtype: Any
              ) -> tuple[np.ndarray, np.ndarray]:
    dt = check_dtype(dtype)
    xa, xb = as_pair(a, b, dtype=dt)
    kk = check_k(k, xa.shape[0])
    xa, xb = _unit_rows(xa, "a"), _unit_rows(xb, "b")
    return _knn(xa, kk, chunk_size, client), _knn(xb, kk, chunk_size, client)


def mutual_knn(
    a: Any,
    b: Any,
    k: int = 10,
    *,
    chunk_size: int | None = None,
    client: Any = None,
    dtype: Any = np.float64,
) -> float:
    """Mean fraction of shared nearest neighbours: ``mean_i |N_a(i) ∩ N_b(i)| / k``.

    ``N_a(i)`` is the set of the k rows of ``a`` most cosine-similar to row i (itself
    excluded); likewise ``N_b(i)``. 1 when both spaces agree on every neighbourhood; about
    :func:`chance_mutual_knn` ``= k / (n - 1)`` for unrelated features (Huh et al. 2024).

    Parameters
    ----------
    a, b : array-like or torch tensors of shape (n_samples, d_a) and (n_samples, d_b)
        Row-paired features (row i of ``a`` and of ``b`` describe the same sample).
    k : int
        Neighbours per sample, ``1 <= k < n_samples``.
    chunk_size, client, dtype
        As in :func:`knn_indices`; the result is exact for any chunking.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((50, 4))
    >>> mutual_knn(x, 3 * x, k=5)
    1.0
    """
    na, nb = _pair_knn(a, b, k, chunk_size, client, dtype)
    return float(np.mean(_overlap(na, nb))) / na.shape[1]


def _overlap(na: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """Per row, the size of the intersection of two duplicate-free index rows."""
    both = np.sort(np.concatenate([na, nb], axis=1), axis=1)
    return np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)


def cycle_knn(
    a: Any,
    b: Any,
    k: int = 10,
    *,
    chunk_size: int | None = None,
    client: Any = None,
    dtype: Any = np.float64,
) -> float:
    """Fraction of samples that return to themselves via a b-neighbour's a-neighbours.

    ``mean_i 1[i ∈ ∪_{j ∈ N_b(i)} N_a(j)]``: go from i to its k neighbours in ``b``, then to
    their k neighbours in ``a``; count i when it is among them. Arguments as in
    :func:`mutual_knn`.
    """
    na, nb = _pair_knn(a, b, k, chunk_size, client, dtype)
    reached = na[nb]  # (n, k, k): a-neighbours of each b-neighbour
    rows = np.arange(na.shape[0])[:, None, None]
    return float(np.mean(np.any(reached == rows, axis=(1, 2))))


def lcs_knn(
    a: Any,
    b: Any,
    k: int = 10,
    *,
    chunk_size: int | None = None,
    client: Any = None,
    dtype: Any = np.float64,
) -> float:
    """Mean length of the longest common subsequence of the ordered neighbour lists, over k.

    Each sample's k neighbours are listed from most to least similar in ``a`` and in ``b``;
    the score is ``mean_i LCS(list_a(i), list_b(i)) / k`` in [0, 1] (normalised by k, unlike
    the Platonic-representation code, which returns the raw length). Arguments as in
    :func:`mutual_knn`.
    """
    na, nb = _pair_knn(a, b, k, chunk_size, client, dtype)
    return float(np.mean(_lcs_length(na, nb))) / na.shape[1]


def edit_distance_knn(
    a: Any,
    b: Any,
    k: int = 10,
    *,
    chunk_size: int | None = None,
    client: Any = None,
    dtype: Any = np.float64,
) -> float:
    """One minus the mean Levenshtein distance of the ordered neighbour lists, over k.

    ``1 - mean_i Lev(list_a(i), list_b(i)) / k`` with unit-cost insertions, deletions and
    substitutions; 1 when every ordered list agrees. Arguments as in :func:`mutual_knn`.
    """
    na, nb = _pair_knn(a, b, k, chunk_size, client, dtype)
    return 1.0 - float(np.mean(_levenshtein(na, nb))) / na.shape[1]


def _lcs_length(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise LCS length of two equal-length integer sequences (dynamic programme)."""
    n, k = p.shape
    prev = np.zeros((n, k + 1), dtype=np.int64)
    for i in range(k):
        cur = np.zeros_like(prev)
        eq = p[:, i:i + 1] == q
        for j in range(k):
            cur[:, j + 1] = np.where(eq[:, j], prev[:, j] + 1,
                                     np.maximum(prev[:, j + 1], cur[:, j]))
        prev = cur
    return prev[:, k]


def _levenshtein(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise edit distance of two equal-length integer sequences (dynamic programme)."""
    n, k = p.shape
    prev = np.broadcast_to(np.arange(k + 1), (n, k + 1)).copy()
    for i in range(k):
        cur = np.empty_like(prev)
        cur[:, 0] = i + 1
        ne = (p[:, i:i + 1] != q).astype(np.int64)
        for j in range(k):
            cur[:, j + 1] = np.minimum(np.minimum(prev[:, j + 1] + 1, cur[:, j] + 1),
                                       prev[:, j] + ne[:, j])
        prev = cur
    return prev[:, k]
