"""Preprocessing, permutation nulls, layer-pair sweeps and the metric registry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from interplay.alignment import (
    METRICS,
    analytic_chance,
    clamp_quantile,
    l2_normalize,
    layerwise,
    list_metrics,
    metric_function,
    mutual_knn,
    permutation_null,
)
from interplay.exceptions import InvalidInputError


def test_clamp_quantile_clips_at_the_quantile_of_absolute_values():
    x = np.arange(-50.0, 50.0).reshape(20, 5)
    t = np.quantile(np.abs(x), 0.9)
    assert np.array_equal(clamp_quantile(x, 0.9), np.clip(x, -t, t))
    assert np.array_equal(clamp_quantile(x, 1.0), x)
    with pytest.raises(InvalidInputError, match="q"):
        clamp_quantile(x, 0.0)


def test_l2_normalize():
    x = np.array([[3.0, 4.0], [0.0, -2.0]])
    assert np.allclose(l2_normalize(x), [[0.6, 0.8], [0.0, -1.0]])


def test_permutation_null_p_value_and_spread():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 4))
    strong = permutation_null("mutual_knn", x, x + 0.1 * rng.standard_normal((150, 4)), 30,
                              random_state=1, k=5)
    assert strong.p_value == pytest.approx(1 / 31)
    assert strong.null_mean == pytest.approx(5 / 149, abs=0.02)
    weak = permutation_null(mutual_knn, x, rng.standard_normal((150, 4)), 30,
                            random_state=1, k=5)
    assert weak.p_value > 0.05
    assert strong.to_dict()["n_permutations"] == 30
    with pytest.raises(InvalidInputError, match="metric"):
        permutation_null("nope", x, x)


def test_layerwise_matrix_and_argmax():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((80, 5))
    layers_a = {"noise": rng.standard_normal((80, 5)), "signal": x}
    layers_b = [x @ rng.standard_normal((5, 5)), rng.standard_normal((80, 3)), 2 * x]
    r = layerwise(layers_a, layers_b, "debiased_cka")
    assert r.matrix.shape == (2, 3)
    assert r.argmax == ("signal", "2") and r.best == pytest.approx(1.0)
    m = layerwise(layers_a, layers_b, mutual_knn, reduce="none", k=4,
                  preprocess=lambda z: clamp_quantile(z, 0.95))
    assert m[1, 2] == 1.0
    with pytest.raises(InvalidInputError, match="no layers"):
        layerwise([], layers_b)


def test_registry_is_complete_and_chance_levels():
    assert set(list_metrics()) == set(METRICS)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 12))
    for name in list_metrics():
        if name == "cycle_knn":  # not 1 on identical data: kNN relations are not symmetric
            continue
        kw = {"k": 3} if METRICS[name][1] else ({"dim": 2} if name == "svcca" else {})
        assert metric_function(name)(x, x, **kw) == pytest.approx(1.0, abs=1e-9), name
    assert analytic_chance("mutual_knn", 11, 2) == 0.2
    assert analytic_chance("svcca", 11, None) is None


def test_importing_alignment_does_not_import_torch():
    code = "import sys, interplay.alignment; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
