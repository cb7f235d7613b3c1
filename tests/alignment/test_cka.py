"""CKA, HSIC, CKNNA and SVCCA against direct formulas, and the identities of the research note."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from interplay.alignment import cka, cknna, hsic, svcca
from interplay.exceptions import InvalidInputError


def centring(n: int) -> np.ndarray:
    return np.eye(n) - np.ones((n, n)) / n


def gram_cka(k: np.ndarray, l: np.ndarray) -> float:  # noqa: E741
    """Biased CKA from Gram matrices with an explicit centring matrix."""
    h = centring(len(k))

    def hs(p, q):
        return np.trace(p @ h @ q @ h)

    return hs(k, l) / np.sqrt(hs(k, k) * hs(l, l))


def kornblith_unbiased_centre(k: np.ndarray) -> np.ndarray:
    """The debiasing centring of Kornblith et al.'s reference, restated from the paper."""
    n = len(k)
    g = k.copy()
    np.fill_diagonal(g, 0.0)
    means = g.sum(axis=0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    g = g - means[:, None] - means[None, :]
    np.fill_diagonal(g, 0.0)
    return g


def u_statistic_hsic(k: np.ndarray, l: np.ndarray) -> float:  # noqa: E741
    """HSIC_u as its U-statistic over distinct index tuples (Song et al. 2012, Theorem 2)."""
    n = len(k)
    t2 = np.mean([k[i, j] * l[i, j] for i, j in itertools.permutations(range(n), 2)])
    t3 = np.mean([k[i, j] * l[i, q] for i, j, q in itertools.permutations(range(n), 3)])
    t4 = np.mean([k[i, j] * l[q, r] for i, j, q, r in itertools.permutations(range(n), 4)])
    return t2 + t4 - 2 * t3


@pytest.fixture
def xy():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((60, 6)) + 3.0
    y = x[:, :4] @ rng.standard_normal((4, 9)) + rng.standard_normal((60, 9))
    return x, y


def test_feature_form_equals_gram_form(xy):
    x, y = xy
    xc, yc = x - x.mean(0), y - y.mean(0)
    feature = np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) *
                                                  np.linalg.norm(yc.T @ yc))
    assert cka(x, y) == pytest.approx(feature, rel=1e-12)
    assert cka(x, y) == pytest.approx(gram_cka(x @ x.T, y @ y.T), rel=1e-10)


def test_song_hsic_u_equals_kornblith_centring_and_the_u_statistic():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    k, l = x @ x.T, np.exp(-((y[:, None] - y[None]) ** 2).sum(-1))  # noqa: E741
    n = len(k)
    song = hsic(k, l, debiased=True)
    kornblith = np.sum(kornblith_unbiased_centre(k) * kornblith_unbiased_centre(l)) / (
        n * (n - 3))
    assert song == pytest.approx(kornblith, rel=1e-10)
    assert song == pytest.approx(u_statistic_hsic(k, l), rel=1e-10)
    h = centring(n)
    assert hsic(k, l) == pytest.approx(np.trace(k @ h @ l @ h) / (n - 1) ** 2, rel=1e-12)


def test_debiased_feature_space_equals_gram_form(xy):
    x, y = xy
    xc, yc = x - x.mean(0), y - y.mean(0)
    k, l = xc @ xc.T, yc @ yc.T  # noqa: E741
    want = hsic(k, l, debiased=True) / np.sqrt(hsic(k, k, debiased=True) *
                                                hsic(l, l, debiased=True))
    assert cka(x, y, debiased=True) == pytest.approx(want, rel=1e-10)
    assert cka(x, y, debiased=True, chunk_size=7) == pytest.approx(want, rel=1e-10)


def test_invariances(xy):
    x, y = xy
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    for debiased in (False, True):
        base = cka(x, y, debiased=debiased)
        assert cka(x @ q, y, debiased=debiased) == pytest.approx(base, abs=1e-12)
        assert cka(4.0 * x, 0.1 * y, debiased=debiased) == pytest.approx(base, abs=1e-12)
        assert cka(x + 5.0, y, debiased=debiased) == pytest.approx(base, abs=1e-12)
        skew = np.diag([1.0, 10.0, 0.1, 1.0, 3.0, 1.0]) @ rng.standard_normal((6, 6))
        assert abs(cka(x @ skew, y, debiased=debiased) - base) > 0.01


def test_debiased_removes_the_dimension_bias():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((100, 1000)), rng.standard_normal((100, 1000))
    assert cka(x, y) > 0.85  # research note: 0.91 at n=100, d=1000
    assert abs(cka(x, y, debiased=True)) < 0.03


def test_rbf_cka_equals_direct_median_bandwidth(xy):
    x, y = xy

    def gram(z, thr):
        d2 = ((z[:, None] - z[None]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * thr**2 * np.median(d2)))

    assert cka(x, y, kernel="rbf") == pytest.approx(gram_cka(gram(x, 1.0), gram(y, 1.0)),
                                                   rel=1e-10)
    assert cka(x, y, kernel="rbf", rbf_threshold=0.5) == pytest.approx(
        gram_cka(gram(x, 0.5), gram(y, 0.5)), rel=1e-10)
    d2 = lambda z: ((z[:, None] - z[None]) ** 2).sum(-1)  # noqa: E731
    assert cka(x, y, kernel="rbf", rbf_sigma=2.0) == pytest.approx(
        gram_cka(np.exp(-d2(x) / 8), np.exp(-d2(y) / 8)), rel=1e-10)


def test_cknna_equals_direct_masks(xy):
    x, y = xy
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    k, l = x @ x.T, y @ y.T  # noqa: E741
    n, kk = len(x), 6

    def mask(g):
        m = np.zeros_like(g)
        for i in range(n):
            order = sorted((j for j in range(n) if j != i), key=lambda j: -g[i, j])[:kk]
            m[i, order] = 1.0
        return m

    mk, ml = mask(k), mask(l)
    m = mk * ml
    want = hsic(m * k, m * l, debiased=True) / np.sqrt(
        hsic(mk * k, mk * k, debiased=True) * hsic(ml * l, ml * l, debiased=True))
    assert cknna(x, y, kk) == pytest.approx(want, rel=1e-10)
    assert want < 1
    assert cknna(x, x, kk) == pytest.approx(1.0, abs=1e-12)


def test_svcca_equals_canonical_correlations_of_principal_components(xy):
    x, y = xy
    dim = 3

    def pcs(z):
        zc = z - z.mean(0)
        _, _, vt = np.linalg.svd(zc, full_matrices=False)
        return zc @ vt[:dim].T

    pa, pb = pcs(x), pcs(y)
    saa, sbb, sab = pa.T @ pa, pb.T @ pb, pa.T @ pb
    eig = np.linalg.eigvals(np.linalg.solve(saa, sab) @ np.linalg.solve(sbb, sab.T))
    want = np.mean(np.sqrt(np.clip(np.real(eig), 0, 1)))
    assert svcca(x, y, dim) == pytest.approx(want, rel=1e-8)
    rng = np.random.default_rng(5)
    assert svcca(x, x @ rng.standard_normal((6, 6)), dim=6) == pytest.approx(1.0, abs=1e-9)


def test_torch_input_matches_numpy(xy):
    torch = pytest.importorskip("torch")
    x, y = xy
    assert cka(torch.tensor(x), torch.tensor(y)) == cka(x, y)
    assert cka(x, y, dtype=np.float32, debiased=True) == pytest.approx(
        cka(x, y, debiased=True), abs=1e-5)


def test_dask_cka_equals_serial(xy):
    distributed = pytest.importorskip("dask.distributed")
    x, y = xy
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        got = cka(x, y, debiased=True, chunk_size=9, client=client)
    assert got == pytest.approx(cka(x, y, debiased=True), rel=1e-12)


def test_constant_features_are_refused_not_nan(xy):
    x, _ = xy
    const = np.full((60, 3), 0.1)
    for kw in ({}, {"debiased": True}, {"kernel": "rbf"}):
        with pytest.raises(InvalidInputError, match="undefined.*constant"):
            cka(x, const, **kw)
    with pytest.raises(InvalidInputError, match="undefined"):
        svcca(x, np.c_[x[:, :1], 2 * x[:, :1], x[:, :1]], dim=2)
    with pytest.raises(InvalidInputError, match="at least 4 samples"):
        cka(x[:3], x[:3], debiased=True)
    with pytest.raises(InvalidInputError, match="kernel"):
        cka(x, x, kernel="cosine")
    with pytest.raises(InvalidInputError, match="square"):
        hsic(np.ones((4, 4)), np.ones((4, 3)))
