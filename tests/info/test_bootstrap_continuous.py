"""Bootstrap intervals of continuous estimators: coverage of Gaussian oracles, width ~ 1/sqrt(n)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from interplay.data.gaussian import doubling_system, sample_gaussian
from interplay.data.latent import make_latent_blocks
from interplay.estimators import bootstrap_pid
from interplay.exceptions import InvalidInputError, SmallSampleWarning
from interplay.info.estimate.cluster import cluster_pid
from interplay.info.pid.gaussian import gaussian_pid_from_samples

ATOMS = ("redundancy", "unique1", "unique2", "synergy")
#: Oracle O4 (gain 2, vector target): every atom is away from 0, so intervals can cover it.
SYSTEM = doubling_system(1)


def width(result) -> float:
    return float(np.mean([result.ci[a][1] - result.ci[a][0] for a in ATOMS]))


@pytest.mark.parametrize("estimator", ["gaussian", "copula"])
def test_intervals_cover_the_oracle(estimator):
    x1, x2, y = sample_gaussian(SYSTEM, 2000, random_state=3)
    if estimator == "copula":  # monotone distortions do not matter to the copula
        x1 = np.exp(x1)
    r = bootstrap_pid(estimator, x1, x2, y, n_bootstrap=60, random_state=0, progress=False)
    assert r.estimator == estimator and r.settings["n_bootstrap"] == 60
    for atom in ATOMS:
        lo, hi = r.ci[atom]
        assert lo <= SYSTEM.truth[atom] <= hi, (atom, lo, hi)
        assert 0 < hi - lo < 0.4


def test_width_shrinks_like_one_over_root_n():
    widths = []
    for n in (1000, 4000):
        x1, x2, y = sample_gaussian(SYSTEM, n, random_state=n)
        widths.append(width(bootstrap_pid("gaussian", x1, x2, y, n_bootstrap=60,
                                          random_state=1, progress=False)))
    assert 1.4 < widths[0] / widths[1] < 2.8  # sqrt(4) = 2


def test_point_estimate_is_the_estimator_on_the_full_data():
    x1, x2, y = sample_gaussian(SYSTEM, 1500, random_state=4)
    direct = gaussian_pid_from_samples(x1, x2, y, bias_correction=False)
    def gaussian(x1, x2, y, *, base, random_state, progress, **options):  # a user's estimator
        return gaussian_pid_from_samples(x1, x2, y, base=base, **options)

    r = bootstrap_pid(gaussian, x1, x2, y, n_bootstrap=5, random_state=0, progress=False,
                      bias_correction=False)
    assert r.atoms == direct.atoms and r.settings["bias_correction"] is False


def test_basic_intervals_reflect_the_percentile_ones_around_the_estimate():
    x1, x2, y = sample_gaussian(SYSTEM, 1000, random_state=5)
    kwargs = {"n_bootstrap": 30, "random_state": 2, "progress": False}
    per = bootstrap_pid("gaussian", x1, x2, y, **kwargs)
    basic = bootstrap_pid("gaussian", x1, x2, y, interval="basic", **kwargs)
    for atom in ATOMS:
        t = getattr(per, atom)
        assert basic.ci[atom][0] == pytest.approx(max(2 * t - per.ci[atom][1], 0.0), abs=1e-12)
        assert basic.ci[atom][1] == pytest.approx(max(2 * t - per.ci[atom][0], 0.0), abs=1e-12)


def test_same_seed_same_intervals_and_parallel_equals_serial():
    x1, x2, y = sample_gaussian(SYSTEM, 800, random_state=6)
    kwargs = {"n_bootstrap": 12, "random_state": 9, "progress": False}
    a = bootstrap_pid("gaussian", x1, x2, y, **kwargs)
    b = bootstrap_pid("gaussian", x1, x2, y, **kwargs)
    c = bootstrap_pid("gaussian", x1, x2, y, n_jobs=2, **kwargs)
    assert a.ci == b.ci
    for atom in ATOMS:
        assert c.ci[atom] == pytest.approx(a.ci[atom], abs=1e-12)


def test_cluster_pid_with_replicate_warnings_counted_once():
    ds, truth = make_latent_blocks(300, shared=0, unique1=0, unique2=0, synergy=1, nuisance=0,
                                   dims=(4, 4), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        r = bootstrap_pid("cluster", ds.modalities["x1"], ds.modalities["x2"], ds.target,
                          n_bootstrap=10, random_state=0, progress=False, n_clusters=12)
        point = cluster_pid(ds.modalities["x1"], ds.modalities["x2"], ds.target, n_clusters=12,
                            n_components=r.settings["n_components"],
                            random_state=r.settings["random_state"])
    assert r.synergy == point.synergy
    lo, hi = r.ci["synergy"]
    assert lo <= hi
    # 12 x 12 x 2 cells with 300 samples: every replicate warns about the plug-in bias
    assert any("10 of the 10 bootstrap replicates" in note for note in r.warnings)


def test_an_estimator_error_names_the_replicate():
    def fragile(x1, x2, y, **_):
        if len(np.unique(x1)) < len(x1):  # every resample has repeated rows
            raise InvalidInputError("repeated rows")
        return gaussian_pid_from_samples(x1, x2, y)

    x1, x2, y = sample_gaussian(SYSTEM, 100, random_state=0)
    with pytest.raises(InvalidInputError, match="task 'bootstrap replicate 0' failed: repeated"):
        bootstrap_pid(fragile, x1[:, 0], x2[:, 0], y[:, 0], n_bootstrap=3, progress=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_bootstrap": 1}, "`n_bootstrap` must be >= 2"),
    ({"confidence": 1.0}, "`confidence` must be < 1"),
    ({"interval": "bca"}, "`interval` must be one of"),
    ({"estimate": "spline"}, "`estimator` must be one of"),
    ({"y": np.zeros(7)}, "same number of rows"),
])
def test_bad_arguments(kwargs, message):
    x1, x2, y = sample_gaussian(SYSTEM, 50, random_state=0)
    args = {"estimate": "gaussian", "x1": x1, "x2": x2, "y": y, "progress": False, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        bootstrap_pid(args.pop("estimate"), args.pop("x1"), args.pop("x2"), args.pop("y"),
                      **args)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["gaussian", "copula"])
def test_coverage_rate_over_many_data_sets(estimator):
    hits = dict.fromkeys(ATOMS, 0)
    runs = 20
    for seed in range(runs):
        x1, x2, y = sample_gaussian(SYSTEM, 2000, random_state=100 + seed)
        r = bootstrap_pid(estimator, x1, x2, y, n_bootstrap=100, random_state=seed,
                          progress=False)
        for atom in ATOMS:
            hits[atom] += r.ci[atom][0] <= SYSTEM.truth[atom] <= r.ci[atom][1]
    # nominal 95 %: 20 runs give at least 16 hits with probability > 0.98 per atom
    assert min(hits.values()) >= 16, hits


def _xor_data(n: int = 400):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    x1 = a[:, None] + 0.1 * rng.standard_normal((n, 2))
    x2 = b[:, None] + 0.1 * rng.standard_normal((n, 2))
    return x1, x2, a ^ b, rng


def test_flow_pid_runs_under_the_bootstrap():
    pytest.importorskip("interplay.neural.flow")
    x1, x2, y, rng = _xor_data()
    level = y + rng.standard_normal(y.size)
    r = bootstrap_pid("flow", x1, x2, level, n_bootstrap=3, random_state=0, progress=False,
                      max_epochs=2, patience=1)
    assert "flow" in r.estimator.lower() and r.settings["n_bootstrap"] == 3
    assert all(lo <= hi for lo, hi in r.ci.values())


@pytest.mark.slow
def test_batch_pid_runs_under_the_bootstrap():
    pytest.importorskip("interplay.neural.batch")
    x1, x2, y, _ = _xor_data()
    r = bootstrap_pid("batch", x1, x2, y, n_bootstrap=3, random_state=0, progress=False,
                      classifier_epochs=3, align_epochs=1, batch_size=64)
    lo, hi = r.ci["synergy"]
    assert 0.8 < lo <= hi <= 1.0 + 1e-9  # XOR: one bit of synergy


def test_the_examples_of_choosing_an_estimator_run():
    import doctest
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "choosing-an-estimator.md"
    outcome = doctest.testfile(str(page), module_relative=False, verbose=False,
                               optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 10 and outcome.failed == 0
