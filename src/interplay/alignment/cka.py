"""Centered kernel alignment (CKA), its debiased form, CKNNA and SVCCA.

Linear CKA of column-centred features ``a`` (n x d_a) and ``b`` (n x d_b) is

    CKA = ||bᵀa||²_F / (||aᵀa||_F ||bᵀb||_F)          (Kornblith et al. 2019)

which equals ``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` for the Gram matrices ``K = aaᵀ``,
``L = bbᵀ``. The plain (biased) HSIC grows with dimension even for independent data; the
debiased CKA uses Song et al.'s (2012) unbiased HSIC

    HSIC_u(K, L) = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1) / ((n-1)(n-2)) - 2/(n-2) · 1ᵀK̃L̃1] / (n(n-3))

with ``K̃``, ``L̃`` the Gram matrices with zeroed diagonals. For the linear kernel every term is
a function of ``aᵀb``, ``aᵀa``, ``bᵀb`` and per-row norms, so :func:`cka` computes it in
``O(n d²)`` time and ``O(d²)`` memory without forming an ``n x n`` matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._parallel import check_dask_client
from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError
from ._arrays import as_features, as_pair, check_dtype, check_k

KERNELS = ("linear", "rbf")
#: Rows per block of the feature-space sums when ``chunk_size`` is not given.
DEFAULT_CHUNK_ROWS = 16384


def hsic(k: Any, l: Any, *, debiased: bool = False) -> float:  # noqa: E741
    """HSIC of two ``n x n`` kernel (Gram) matrices.

    ``debiased=False``: ``tr(K H L H) / (n - 1)²`` with ``H = I - 11ᵀ/n``. ``debiased=True``:
    Song et al.'s unbiased estimator (module docstring; needs ``n >= 4``).
    """
    kk = as_features(k, "k", min_samples=4 if debiased else 2)
    ll = as_features(l, "l", min_samples=4 if debiased else 2)
    n = kk.shape[0]
    if kk.shape != (n, n) or ll.shape != (n, n):
        raise InvalidInputError(
            f"`k` and `l` must be square n x n matrices of the same n, got {kk.shape} and "
            f"{ll.shape}."
        )
    return _hsic(kk, ll, debiased)


def _hsic(k: np.ndarray, l: np.ndarray, debiased: bool) -> float:  # noqa: E741
    n = k.shape[0]
    if not debiased:
        kc = k - k.mean(axis=0, keepdims=True)
        kc -= kc.mean(axis=1, keepdims=True)
        return float(np.sum(kc * l.T)) / (n - 1) ** 2
    kt = k - np.diag(np.diag(k))
    lt = l - np.diag(np.diag(l))
    trace = float(np.sum(kt * lt.T))
    cross = float(kt.sum(axis=1) @ lt.sum(axis=0))
    total = float(kt.sum()) * float(lt.sum()) / ((n - 1) * (n - 2))
    return (trace + total - 2.0 * cross / (n - 2)) / (n * (n - 3))


def _ratio(xy: float, xx: float, yy: float, what: str) -> float:
    if not (xx > 0 and yy > 0):
        side = "`a`" if not xx > 0 else "`b`"
        raise InvalidInputError(
            f"{what} is undefined: {side} has no variation left after centring (constant "
            "features, or too few samples for the debiased estimator); its self-similarity is "
            f"{min(xx, yy):.3g}."
        )
    return xy / float(np.sqrt(xx * yy))


def cka(
    a: Any,
    b: Any,
    *,
    kernel: str = "linear",
    debiased: bool = False,
    rbf_threshold: float = 1.0,
    rbf_sigma: float | None = None,
    chunk_size: int | None = None,
    client: Any = None,
    dtype: Any = np.float64,
) -> float:
    """Centered kernel alignment between two row-paired feature arrays.

    Parameters
    ----------
    a, b : array-like or torch tensors of shape (n_samples, d_a) and (n_samples, d_b)
    kernel : {"linear", "rbf"}
        ``"linear"`` is computed in feature space (``O(n d²)``, no ``n x n`` matrix);
        ``"rbf"`` builds the two ``n x n`` Gram matrices.
    debiased : bool
        Use the unbiased HSIC (Song et al. 2012): about 0 for independent features even when
        ``d >> n``, where the biased CKA approaches 1. Can be slightly negative. Needs
        ``n >= 4``.
    rbf_threshold : float
        RBF bandwidth as a fraction of the median distance (Kornblith et al.'s reference):
        ``K_ij = exp(-||x_i - x_j||² / (2 rbf_threshold² median(||x_i - x_j||²)))``, the
        median taken over all ``n²`` pairs (diagonal included, as in that reference).
    rbf_sigma : float, optional
        An absolute bandwidth instead (``K_ij = exp(-||x_i - x_j||² / (2 sigma²))``, the
        Platonic-representation code's choice with sigma = 1).
    chunk_size : int, optional
        Rows per block of the linear feature-space sums (default 16384).
    client : dask.distributed.Client, optional
        Compute the linear kernel's blocks as tasks on this cluster.
    dtype : float32 or float64
        Precision of the products; sums are accumulated in float64.

    Returns
    -------
    float
        In [0, 1] for the biased CKA; the debiased CKA is at most 1 and may be below 0.

    Raises
    ------
    InvalidInputError
        If either side has no variance (constant features): CKA is then undefined.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((200, 5))
    >>> q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 5)))
    >>> round(cka(x, 2.0 * x @ q), 12)
    1.0
    """
    check_choice(kernel, "kernel", KERNELS)
    dt = check_dtype(dtype)
    xa, xb = as_pair(a, b, min_samples=4 if debiased else 2, dtype=dt)
    _check_varies(xa, "a")
    _check_varies(xb, "b")
    if kernel == "linear":
        xy, xx, yy = _linear_terms(xa, xb, debiased, chunk_size, client)
        return _ratio(xy, xx, yy, "linear CKA")
    if rbf_sigma is not None:
        check_float(rbf_sigma, "rbf_sigma", low=0.0, low_open=True)
    check_float(rbf_threshold, "rbf_threshold", low=0.0, low_open=True)
    ka = _rbf_gram(xa.astype(np.float64), rbf_threshold, rbf_sigma, "a")
    kb = _rbf_gram(xb.astype(np.float64), rbf_threshold, rbf_sigma, "b")
    return _ratio(_hsic(ka, kb, debiased), _hsic(ka, ka, debiased), _hsic(kb, kb, debiased),
                  "RBF CKA")


def _check_varies(x: np.ndarray, name: str) -> None:
    if not np.any(np.ptp(x, axis=0) > 0):
        raise InvalidInputError(
            f"CKA is undefined: every feature of `{name}` is constant (it has no variance to "
            "align)."
        )


def _rbf_gram(x: np.ndarray, threshold: float, sigma: float | None, name: str) -> np.ndarray:
    sq = np.einsum("ij,ij->i", x, x)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
    np.fill_diagonal(d2, 0.0)
    if sigma is not None:
        return np.exp(-d2 / (2.0 * sigma**2))
    med = float(np.median(d2))
    if med == 0:
        raise InvalidInputError(
            f"RBF CKA is undefined: the median squared distance between rows of `{name}` is 0 "
            "(most rows are identical); pass rbf_sigma for an absolute bandwidth."
        )
    return np.exp(-d2 / (2.0 * threshold**2 * med))


def _block_sums(a: np.ndarray, b: np.ndarray, lo: int, hi: int, mean_a: np.ndarray,
                mean_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                             np.ndarray]:
    """Gram blocks and per-row squared norms of the centred rows ``lo:hi``."""
    xa = a[lo:hi] - mean_a
    xb = b[lo:hi] - mean_b
    return (xa.T @ xb, xa.T @ xa, xb.T @ xb,
            np.einsum("ij,ij->i", xa, xa), np.einsum("ij,ij->i", xb, xb))


def _linear_terms(a: np.ndarray, b: np.ndarray, debiased: bool, chunk_size: int | None,
                  client: Any) -> tuple[float, float, float]:
    """HSIC numerator and self-terms of linear CKA, from d x d Gram blocks summed over rows."""
    n = a.shape[0]
    step = DEFAULT_CHUNK_ROWS if chunk_size is None else check_int(chunk_size, "chunk_size",
                                                                   minimum=1)
    mean_a = a.mean(axis=0, dtype=np.float64).astype(a.dtype)
    mean_b = b.mean(axis=0, dtype=np.float64).astype(b.dtype)
    bounds = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    if client is None:
        parts = [_block_sums(a, b, lo, hi, mean_a, mean_b) for lo, hi in bounds]
    else:
        parts = _on_dask(client, a, b, bounds, mean_a, mean_b)
    gab = sum(p[0].astype(np.float64) for p in parts)
    gaa = sum(p[1].astype(np.float64) for p in parts)
    gbb = sum(p[2].astype(np.float64) for p in parts)
    na = np.concatenate([p[3] for p in parts]).astype(np.float64)
    nb = np.concatenate([p[4] for p in parts]).astype(np.float64)
    fro = [float(np.sum(g * g)) for g in (gab, gaa, gbb)]
    if not debiased:
        return fro[0], fro[1], fro[2]
    return (_hsic_u_centred(fro[0], na, nb), _hsic_u_centred(fro[1], na, na),
            _hsic_u_centred(fro[2], nb, nb))


def _hsic_u_centred(fro2: float, nx: np.ndarray, ny: np.ndarray) -> float:
    """Unbiased HSIC of linear kernels of column-centred features, up to the factor n(n-3).

    With centred rows the row sums of the Gram matrix vanish, so ``K̃1 = -nx`` (the squared row
    norms), ``1ᵀK̃1 = -Σ nx`` and ``tr(K̃L̃) = ||xᵀy||²_F - Σ nx·ny``. The common factor
    ``1/(n(n-3))`` cancels in CKA and is omitted.
    """
    n = nx.shape[0]
    trace = fro2 - float(nx @ ny)
    total = float(nx.sum()) * float(ny.sum()) / ((n - 1) * (n - 2))
    return trace + total - 2.0 * float(nx @ ny) / (n - 2)


def _on_dask(client: Any, a: np.ndarray, b: np.ndarray, bounds: list[tuple[int, int]],
             mean_a: np.ndarray, mean_b: np.ndarray) -> list[Any]:
    check_dask_client(client)
    sa, sb = client.scatter([a, b], broadcast=True)
    futures = [client.submit(_block_sums, sa, sb, lo, hi, mean_a, mean_b, pure=False)
               for lo, hi in bounds]
    return list(client.gather(futures))


def cknna(a: Any, b: Any, k: int = 10, *, debiased: bool = True) -> float:
    """CKA restricted to mutual nearest neighbours (CKNNA; Huh et al. 2024).

    With ``K = aaᵀ`` and ``L = bbᵀ`` (inner products of the features as given: L2-normalise
    them first for cosine neighbours), let ``M_K[i, j] = 1`` when j is among the k largest
    entries of row i of K (self excluded when ``debiased``), likewise ``M_L``. Then

        CKNNA = HSIC(M⊙K, M⊙L) / sqrt(HSIC(M_K⊙K, M_K⊙K) · HSIC(M_L⊙L, M_L⊙L))

    with ``M = M_K ⊙ M_L`` and the unbiased HSIC when ``debiased`` (the biased one otherwise).
    Builds ``n x n`` matrices: meant for n up to a few thousand.

    Raises
    ------
    InvalidInputError
        If a self-term is not positive (the score is then undefined).
    """
    xa, xb = as_pair(a, b, min_samples=4)
    kk = check_k(k, xa.shape[0] if debiased else xa.shape[0] + 1)
    ka, kb = xa @ xa.T, xb @ xb.T
    ma, mb = _knn_mask(ka, kk, debiased), _knn_mask(kb, kk, debiased)
    m = ma * mb
    return _ratio(_hsic(m * ka, m * kb, debiased), _hsic(ma * ka, ma * ka, debiased),
                  _hsic(mb * kb, mb * kb, debiased), "CKNNA")


def _knn_mask(gram: np.ndarray, k: int, exclude_self: bool) -> np.ndarray:
    g = gram.copy()
    if exclude_self:
        np.fill_diagonal(g, -np.inf)
    n = g.shape[0]
    top = np.argpartition(g, n - k, axis=1)[:, n - k:]
    mask = np.zeros_like(gram)
    np.put_along_axis(mask, top, 1.0, axis=1)
    return mask


def svcca(a: Any, b: Any, dim: int = 10) -> float:
    """Singular-vector CCA: mean canonical correlation of the top-``dim`` principal subspaces.

    Each side is column-centred and reduced to its first ``dim`` principal components; the
    canonical correlations of the two reductions are the singular values of ``Q_aᵀ Q_b`` (Q
    from a QR of each); the score is their mean (Raghu et al. 2017, fixed dimension as in the
    Platonic-representation code). Invariant to invertible linear maps of either side within
    the kept subspace, hence permissive when ``dim`` approaches n.
    """
    xa, xb = as_pair(a, b)
    n = xa.shape[0]
    dd = check_int(dim, "dim", minimum=1)
    if dd > min(xa.shape[1], xb.shape[1], n - 1):
        raise InvalidInputError(
            f"`dim` must be at most min(d_a, d_b, n_samples - 1) = "
            f"{min(xa.shape[1], xb.shape[1], n - 1)}, got {dd}."
        )
    qs = []
    for x, name in ((xa, "a"), (xb, "b")):
        xc = x - x.mean(axis=0)
        u, s, _ = np.linalg.svd(xc, full_matrices=False)
        if s[dd - 1] <= s[0] * 1e-12:
            raise InvalidInputError(
                f"SVCCA is undefined: `{name}` has fewer than dim={dd} non-degenerate directions "
                "(constant or collinear features); lower `dim`."
            )
        qs.append(u[:, :dd])
    corr = np.linalg.svd(qs[0].T @ qs[1], compute_uv=False)
    return float(np.mean(np.clip(corr, 0.0, 1.0)))
