"""Cluster PID (PCA + k-means per modality, then plug-in PID) on latent-variable oracles."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest

from interplay.exceptions import InvalidInputError, MissingDependencyError, SmallSampleWarning
from interplay.info.estimate import plugin_pid
from interplay.info.estimate.cluster import (
    ClusterSensitivity,
    cluster_labels,
    cluster_pid,
    cluster_sensitivity,
    plugin_bias,
    reduce_dimension,
)
from interplay.info.measures import entropy
from interplay.info.samples import mutual_information as empirical_mi


def embed(latents: list[np.ndarray], dim: int, noise: float, rng: np.random.Generator
          ) -> np.ndarray:
    """A random linear map of the +-1 coded binary latents into ``dim`` dimensions, plus noise."""
    signs = np.column_stack([2 * lat - 1 for lat in latents]).astype(float)
    return signs @ rng.standard_normal((len(latents), dim)) * 2 \
        + noise * rng.standard_normal((signs.shape[0], dim))


def empirical_entropy(values: np.ndarray) -> float:
    return entropy(np.bincount(values) / values.size)


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_shared_latent_gives_its_entropy_as_redundancy(rng):
    n = 3000
    s, u1, u2 = (rng.integers(0, 2, n) for _ in range(3))
    x1 = embed([s, u1], 20, 0.3, rng)  # 4 blobs: the shared bit and a private nuisance bit
    x2 = embed([s, u2], 30, 0.3, rng)
    r = cluster_pid(x1, x2, s, n_clusters=6, random_state=0)
    # pure clusters determine s from either side: R = H(s) exactly, nothing else
    assert r.redundancy == pytest.approx(empirical_entropy(s), abs=1e-6)
    assert max(r.unique1, r.unique2, r.synergy) < 1e-6
    assert r.estimator == "cluster"


def test_xor_of_two_latents_is_one_bit_of_synergy(rng):
    n = 4000
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    x1, x2 = embed([a], 25, 0.5, rng), embed([b], 25, 0.5, rng)
    r = cluster_pid(x1, x2, a ^ b, n_clusters=4, random_state=0)
    assert r.synergy == pytest.approx(1.0, abs=0.01)
    assert max(r.redundancy, r.unique1, r.unique2) < 0.01


def test_unique_latent_and_no_pca_agree_with_plugin_on_the_latents(rng):
    n = 2000
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    x1, x2 = embed([a], 8, 0.2, rng), embed([b], 8, 0.2, rng)
    r = cluster_pid(x1, x2, a, n_clusters=2, n_components=None, random_state=1, method="mmi")
    ref = plugin_pid(a, b, a, method="mmi", progress=False)
    for atom in ("redundancy", "unique1", "unique2", "synergy"):
        assert getattr(r, atom) == pytest.approx(getattr(ref, atom), abs=1e-9)
    assert r.unique1 == pytest.approx(empirical_entropy(a), abs=1e-3)
    assert r.settings["n_components"] is None
    assert r.settings["components_used"] == {"x1": 8, "x2": 8}


def test_settings_record_the_clustering_and_seeds_reproduce(rng):
    n = 600
    a = rng.integers(0, 3, n)
    x1, x2 = rng.standard_normal((n, 5)) + a[:, None], rng.standard_normal((n, 7))
    r1 = cluster_pid(x1, x2, a, n_clusters=5, n_components=3, random_state=3)
    r2 = cluster_pid(x1, x2, a, n_clusters=5, n_components=3, random_state=3)
    assert r1.atoms == r2.atoms and r1.settings == r2.settings
    s = r1.settings
    assert (s["n_clusters"], s["n_components"]) == (5, 3)
    assert s["components_used"] == {"x1": 3, "x2": 3}
    assert s["clusters_used"] == {"x1": 5, "x2": 5}
    assert r1.n_samples == n


def test_fewer_distinct_points_than_clusters_uses_one_cluster_each():
    x1 = np.repeat([[0.0, 1.0], [2.0, 0.0], [5.0, 5.0]], 50, axis=0)
    y = np.repeat([0, 1, 1], 50)
    x2 = np.random.default_rng(0).standard_normal((150, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no k-means warning about lost clusters
        warnings.simplefilter("ignore", SmallSampleWarning)
        r = cluster_pid(x1, x2, y, n_clusters=10, random_state=0)
    assert r.settings["clusters_used"]["x1"] == 3
    assert r.mi_x1 == pytest.approx(empirical_entropy(y), abs=1e-9)


def test_reduce_dimension_matches_numpy_svd_of_standardised_columns(rng):
    x = rng.standard_normal((300, 6)) @ rng.standard_normal((6, 6)) + 10
    x[:, 2] = 4.0  # a constant column is left at 0
    z = reduce_dimension(x, 2)
    std = x - x.mean(axis=0)
    std /= np.where(std.std(axis=0) > 0, std.std(axis=0), 1)
    u, sv, _ = np.linalg.svd(std, full_matrices=False)
    expected = u[:, :2] * sv[:2]
    np.testing.assert_allclose(np.abs(z), np.abs(expected), atol=1e-8)
    full = reduce_dimension(x, None)
    np.testing.assert_allclose(full, std, atol=1e-12)


def test_bootstrap_intervals_come_through(rng):
    n = 800
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    r = cluster_pid(embed([a], 5, 0.2, rng), embed([b], 5, 0.2, rng), a ^ b, n_clusters=2,
                    random_state=0, n_bootstrap=20)
    lo, hi = r.ci["synergy"]
    assert lo <= r.synergy <= hi


def test_small_sample_warning_is_raised_for_too_many_clusters(rng):
    n = 200
    x1, x2 = rng.standard_normal((n, 4)), rng.standard_normal((n, 4))
    y = rng.integers(0, 2, n)
    with pytest.warns(SmallSampleWarning) as record:
        r = cluster_pid(x1, x2, y, n_clusters=30, random_state=0)
    assert any("per joint cell" in str(w.message) for w in record)
    assert all(w.filename == __file__ for w in record)  # points at the caller
    assert any("per joint cell" in w for w in r.warnings)


def test_sensitivity_shape_bias_and_stability(rng):
    n = 3000
    s, u1, u2 = (rng.integers(0, 2, n) for _ in range(3))
    x1, x2 = embed([s, u1], 12, 0.3, rng), embed([s, u2], 12, 0.3, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        sens = cluster_sensitivity(x1, x2, s, n_clusters=(4, 6, 8), random_state=0)
    assert isinstance(sens, ClusterSensitivity)
    assert sens.n_clusters == (4, 6, 8) and len(sens.results) == 3 and sens.warnings == ()
    table = sens.to_dict()
    assert set(table) == {"n_clusters", "redundancy", "unique1", "unique2", "synergy",
                          "mi_joint", "mi_x1", "mi_x2", "bias"}
    assert all(len(v) == 3 for v in table.values())
    # redundancy is H(s) for every count that separates the blobs
    assert sens.atom("redundancy") == pytest.approx([empirical_entropy(s)] * 3, abs=1e-6)
    # the Miller-Madow value with occupied cells: (R_pair,y - R_pair - R_y + 1) / (2 N ln 2)
    for k, bias in zip((4, 6, 8), sens.bias, strict=True):
        l1 = cluster_labels(reduce_dimension(x1, 2), k, 0)
        l2 = cluster_labels(reduce_dimension(x2, 2), k, 0)
        pair = l1 * 100 + l2
        r_pair, r_joint = np.unique(pair).size, np.unique(pair * 2 + s).size
        assert n >= 5 * r_pair  # enough samples per pair for the occupied-cell count
        assert bias == pytest.approx(max(0.0, (r_joint - r_pair - 2 + 1) / (2 * n * math.log(2))),
                                     rel=1e-12, abs=1e-15)
    # s is a function of the clusters: no plug-in bias worth a warning
    assert max(sens.bias) < 0.01


def test_plugin_bias_matches_the_mean_plugin_mi_of_independent_variables():
    rng = np.random.default_rng(1)
    for n, kx in ((400, 6), (300, 100)):  # well sampled; three samples per X cell
        x, y = rng.integers(0, kx, n), rng.integers(0, 3, n)
        draws = [empirical_mi(rng.integers(0, kx, n), rng.integers(0, 3, n)) for _ in range(200)]
        assert plugin_bias(x, y) == pytest.approx(np.mean(draws), rel=0.3), (n, kx)
    x, y = rng.integers(0, 6, 4000), rng.integers(0, 3, 4000)
    # every cell occupied: (|X| - 1)(|Y| - 1) / (2 N ln b)
    assert plugin_bias(x, y) == pytest.approx(5 * 2 / (2 * 4000 * math.log(2)), rel=1e-12)
    assert plugin_bias(x, y, math.e) == pytest.approx(5 * 2 / (2 * 4000), rel=1e-12)
    # Y a function of X: no joint cell beyond the marginals', no bias predicted
    assert plugin_bias(x, x % 3) == 0.0
    # too few samples per X cell: the full-occupancy value even though Y follows X
    few = np.arange(40) % 10
    assert plugin_bias(few, few % 2) == pytest.approx(9 / (2 * 40 * math.log(2)), rel=1e-12)


def test_sensitivity_warns_once_naming_the_biased_cluster_counts(rng):
    n = 300
    a = rng.integers(0, 2, n)
    x1 = embed([a], 6, 1.0, rng)
    x2 = rng.standard_normal((n, 6))
    y = np.where(rng.random(n) < 0.3, 1 - a, a)  # a noisy label: I(X1;Y) about 0.12 bits
    with pytest.warns(SmallSampleWarning) as record:
        sens = cluster_sensitivity(x1, x2, y, n_clusters=(2, 30), random_state=0)
    messages = [str(w.message) for w in record if issubclass(w.category, SmallSampleWarning)]
    assert len(messages) == 1
    assert "30 clusters" in messages[0] and "2 clusters" not in messages[0]
    assert sens.warnings == (messages[0],)
    # at most n occupied cells: the bias is bounded by (n - 1) / (2 n ln 2)
    assert sens.bias[0] < sens.bias[1] <= (n - 1) / (2 * n * math.log(2))


def test_sensitivity_in_nats_scales_the_bias():
    rng = np.random.default_rng(0)
    n = 500
    y = rng.integers(0, 2, n)
    x1, x2 = rng.standard_normal((n, 3)) + y[:, None], rng.standard_normal((n, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        bits = cluster_sensitivity(x1, x2, y, n_clusters=(3,), random_state=0)
        nats = cluster_sensitivity(x1, x2, y, n_clusters=(3,), random_state=0, base="e")
    assert nats.bias[0] == pytest.approx(bits.bias[0] * math.log(2), rel=1e-12)
    assert nats.results[0].units == "nats"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_clusters": 1}, "n_clusters"),
        ({"n_clusters": 5000}, "at most the number of samples"),
        ({"n_components": 0}, "n_components"),
        ({"random_state": -1}, "random_state"),
        ({"method": "nope"}, "method"),
    ],
)
def test_bad_settings_raise_with_the_argument_named(kwargs, message):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 3))
    with pytest.raises(InvalidInputError, match=message):
        cluster_pid(x, x[:, :2], rng.integers(0, 2, 100), **kwargs)


@pytest.mark.parametrize(
    ("x1", "x2", "y", "message"),
    [
        (np.full((10, 2), np.nan), np.zeros((10, 2)), np.arange(10) % 2, "NaN"),
        (np.array([["a", "b"]] * 10), np.zeros((10, 2)), np.arange(10) % 2, "numeric"),
        (np.zeros((10, 2)), np.zeros((9, 2)), np.arange(10) % 2, "same number of rows"),
        (np.zeros((10, 2)), np.zeros((10, 2)), np.arange(9) % 2, "same number of rows"),
        (np.random.default_rng(0).standard_normal((10, 2)), np.zeros((10, 2)), np.zeros(10),
         "at least two distinct values"),
    ],
)
def test_bad_samples_raise(x1, x2, y, message):
    with pytest.raises(InvalidInputError, match=message):
        cluster_pid(x1, x2, y, n_clusters=2)


def test_sensitivity_rejects_an_empty_or_bad_list():
    x = np.random.default_rng(0).standard_normal((50, 2))
    y = np.arange(50) % 2
    with pytest.raises(InvalidInputError, match="non-empty sequence"):
        cluster_sensitivity(x, x, y, n_clusters=())
    with pytest.raises(InvalidInputError, match="n_clusters"):
        cluster_sensitivity(x, x, y, n_clusters=(4, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        sens = cluster_sensitivity(x, x, y, n_clusters=(2,))
    with pytest.raises(InvalidInputError, match="name"):
        sens.atom("nope")


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.cluster", None)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 2))
    with pytest.raises(MissingDependencyError, match=r"interplay\[data\]"):
        cluster_pid(x, x, np.arange(60) % 2, n_clusters=3)
