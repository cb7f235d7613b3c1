"""Neighbourhood metrics against direct small-n formulas, chunking, Dask, torch input."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.alignment import (
    chance_mutual_knn,
    cycle_knn,
    edit_distance_knn,
    knn_indices,
    lcs_knn,
    mutual_knn,
)
from interplay.exceptions import InvalidInputError


def direct_neighbours(x: np.ndarray, k: int) -> list[list[int]]:
    """Ordered k nearest neighbours by cosine, self excluded, with a full similarity matrix."""
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = u @ u.T
    out = []
    for i in range(len(x)):
        order = sorted((j for j in range(len(x)) if j != i), key=lambda j: (-s[i, j], j))
        out.append(order[:k])
    return out


def direct_lcs(p: list[int], q: list[int]) -> int:
    t = [[0] * (len(q) + 1) for _ in range(len(p) + 1)]
    for i, pi in enumerate(p):
        for j, qj in enumerate(q):
            t[i + 1][j + 1] = t[i][j] + 1 if pi == qj else max(t[i][j + 1], t[i + 1][j])
    return t[-1][-1]


def direct_edit(p: list[int], q: list[int]) -> int:
    t = [[i + j if i * j == 0 else 0 for j in range(len(q) + 1)] for i in range(len(p) + 1)]
    for i in range(1, len(p) + 1):
        for j in range(1, len(q) + 1):
            t[i][j] = min(t[i - 1][j] + 1, t[i][j - 1] + 1,
                          t[i - 1][j - 1] + (p[i - 1] != q[j - 1]))
    return t[-1][-1]


@pytest.fixture
def related():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 5))
    y = x @ rng.standard_normal((5, 7)) + 0.8 * rng.standard_normal((40, 7))
    return x, y


@pytest.mark.parametrize("k", [1, 4, 9])
def test_knn_metrics_equal_direct_formulas(related, k):
    x, y = related
    nx, ny = direct_neighbours(x, k), direct_neighbours(y, k)
    n = len(x)
    mutual = np.mean([len(set(nx[i]) & set(ny[i])) / k for i in range(n)])
    cycle = np.mean([any(i in nx[j] for j in ny[i]) for i in range(n)])
    lcs = np.mean([direct_lcs(nx[i], ny[i]) for i in range(n)]) / k
    edit = 1 - np.mean([direct_edit(nx[i], ny[i]) for i in range(n)]) / k
    assert mutual_knn(x, y, k) == pytest.approx(mutual, abs=1e-12)
    assert cycle_knn(x, y, k) == pytest.approx(cycle, abs=1e-12)
    assert lcs_knn(x, y, k) == pytest.approx(lcs, abs=1e-12)
    assert edit_distance_knn(x, y, k) == pytest.approx(edit, abs=1e-12)
    assert knn_indices(x, k).tolist() == nx


def test_identical_features_agree_fully(related):
    x, _ = related
    for fn in (mutual_knn, lcs_knn, edit_distance_knn):
        assert fn(x, 2.5 * x, 6) == 1.0
    # cycle-kNN can miss on identical data: j may be i's neighbour without i being j's
    assert cycle_knn(x, 2.5 * x, 6) > 0.8


def test_independent_features_sit_at_chance():
    rng = np.random.default_rng(0)
    n, k = 400, 10
    scores = [mutual_knn(rng.standard_normal((n, 8)), rng.standard_normal((n, 8)), k)
              for _ in range(5)]
    # each score averages n*k Bernoulli-like overlaps; 5 seeds pin the mean to about +-0.003
    assert np.mean(scores) == pytest.approx(chance_mutual_knn(n, k), abs=0.006)
    assert chance_mutual_knn(n, k) == 10 / 399


def test_chunked_equals_unchunked(related):
    x, y = related
    full = knn_indices(x, 5)
    assert np.array_equal(knn_indices(x, 5, chunk_size=7), full)
    assert mutual_knn(x, y, 5, chunk_size=3) == mutual_knn(x, y, 5)
    assert lcs_knn(x, y, 5, chunk_size=1) == lcs_knn(x, y, 5)


def test_torch_and_float32_inputs(related):
    torch = pytest.importorskip("torch")
    x, y = related
    ref = mutual_knn(x, y, 5)
    assert mutual_knn(torch.tensor(x), torch.tensor(y, dtype=torch.float32), 5) == ref
    assert mutual_knn(x, y, 5, dtype=np.float32) == ref  # no near-ties in this data
    assert cycle_knn(torch.tensor(x, dtype=torch.bfloat16), y, 5) >= 0


def test_dask_local_cluster_equals_serial(related):
    distributed = pytest.importorskip("dask.distributed")
    x, y = related
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        got = mutual_knn(x, y, 5, chunk_size=6, client=client)
        idx = knn_indices(x, 5, chunk_size=11, client=client)
    assert got == mutual_knn(x, y, 5)
    assert np.array_equal(idx, knn_indices(x, 5))


@pytest.mark.parametrize(
    ("a", "b", "k", "match"),
    [
        (np.ones((5, 2)), np.ones((6, 2)), 2, "same samples"),
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 1.0]]), np.ones((3, 2)), 1, "NaN"),
        (np.ones((1, 2)), np.ones((1, 2)), 1, "at least 2 samples"),
        (np.eye(4), np.eye(4), 4, "k < n_samples"),
        (np.eye(4), np.eye(4), 0, "1 <= k"),
        (np.arange(4.0), np.eye(4), 1, "1-D"),
        (np.zeros((4, 2)), np.eye(4), 1, "all-zero row"),
    ],
)
def test_bad_input_is_refused_with_a_message(a, b, k, match):
    with pytest.raises(InvalidInputError, match=match):
        mutual_knn(a, b, k)


def test_bad_chunk_and_client(related):
    x, y = related
    with pytest.raises(InvalidInputError, match="chunk_size"):
        mutual_knn(x, y, 3, chunk_size=0)
    with pytest.raises(InvalidInputError, match="dask.distributed.Client"):
        mutual_knn(x, y, 3, client="localhost:8786")


def test_ties_keep_the_lowest_indices_and_match_the_direct_rule():
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2, size=(60, 3)) * 2.0 - 1.0  # 8 distinct rows: many exact ties
    other = rng.standard_normal((60, 4))
    want = direct_neighbours(bits, 7)
    assert knn_indices(bits, 7).tolist() == want
    assert knn_indices(bits, 7, chunk_size=5).tolist() == want
    got = mutual_knn(bits, other, 7)
    nb = direct_neighbours(other, 7)
    assert got == pytest.approx(np.mean([len(set(want[i]) & set(nb[i])) for i in range(60)]) / 7)
