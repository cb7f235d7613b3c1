"""The contract every registered sample estimator and every redundancy measure keeps.

For each entry of the registry (and each measure of ``list_pid_methods()``): the PID identities,
intervals that contain the point estimate, the same result for the same seed, bad input refused
with an InvalidInputError naming the argument, and a registry entry that describes its function
truthfully (its options are the function's keywords).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from interplay import quantify
from interplay.estimators import (
    MAX_DISCRETE_VALUES,
    bootstrap_pid,
    choose_estimator,
    get_estimator,
    list_estimators,
)
from interplay.estimators.registry import cluster_defaults
from interplay.exceptions import InvalidInputError
from interplay.info.pid import ATOMS, list_pid_methods, pid

#: Options that keep each estimator fast on the small data sets below.
FAST = {
    "plugin": {},
    "cluster": {"n_clusters": 3},
    "gaussian": {},
    "copula": {},
    "flow": {"max_epochs": 2, "patience": 1},
    "batch": {"classifier_epochs": 2, "align_epochs": 1, "batch_size": 64},
}
#: The neural estimators train networks: their contract runs in the slow suite.
NEURAL = ("flow", "batch")


def _data(name: str, n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    if name == "plugin":
        return a, b, a ^ b
    x1 = a[:, None] + 0.3 * rng.standard_normal((n, 2))
    x2 = b[:, None] + 0.3 * rng.standard_normal((n, 2))
    if get_estimator(name).target == "label":
        return x1, x2, a ^ b
    return x1, x2, x1[:, 0] + x2[:, 0] + 0.5 * rng.standard_normal(n)


def _params(names):
    return [pytest.param(n, marks=pytest.mark.slow) if n in NEURAL else n for n in names]


def test_the_registry_lists_every_estimator_with_the_one_signature():
    assert list_estimators() == sorted(FAST)
    for name in list_estimators():
        spec = get_estimator(name)
        for field in ("base", "random_state", "progress"):
            assert field not in spec.options
        assert spec.target in ("label", "numeric") and spec.sources in ("discrete", "numeric")
        assert spec.holds_fixed and spec.summary


@pytest.mark.parametrize("name", [n for n in sorted(FAST) if n not in NEURAL])
def test_each_entry_describes_its_function_truthfully(name):
    """What the registry says an estimator takes is what its function accepts (checked here,
    never probed at run time)."""
    spec = get_estimator(name)
    params = inspect.signature(spec.load()).parameters
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for keyword in (*spec.options, "base", "random_state", "progress"):
        assert keyword in params or has_var_kw, (name, keyword)
    assert ("n_bootstrap" in spec.options) == spec.own_bootstrap


@pytest.mark.parametrize("name", _params(sorted(FAST)))
def test_identities_intervals_and_seeds(name):
    x1, x2, y = _data(name)
    kwargs = {"estimator": name, "progress": False, **FAST[name]}
    r = quantify(x1, x2, y, random_state=3, **kwargs)
    assert r.redundancy + r.unique1 == pytest.approx(r.mi_x1, abs=1e-6)
    assert r.redundancy + r.unique2 == pytest.approx(r.mi_x2, abs=1e-6)
    assert sum(r.atoms.values()) == pytest.approx(r.mi_joint, abs=1e-6)
    assert r.settings["estimator"] == name and r.units == "bits"
    again = quantify(x1, x2, y, random_state=3, **kwargs)
    assert again.atoms == r.atoms  # same seed, same numbers
    boot = quantify(x1, x2, y, random_state=3, n_bootstrap=8, **kwargs)
    assert boot.atoms == r.atoms  # the point estimate is the estimator on all rows
    for atom in ATOMS:
        lo, hi = boot.ci[atom]
        assert lo <= hi
    recorded = boot.settings["bootstrap"]
    assert (recorded["mode"], recorded["n_bootstrap"], recorded["held_fixed"]) == \
        ("refit", 8, "nothing")


@pytest.mark.parametrize("name", ["plugin", "cluster"])
def test_fixed_bootstrap_says_what_it_held_fixed(name):
    x1, x2, y = _data(name)
    r = quantify(x1, x2, y, estimator=name, n_bootstrap=8, bootstrap="fixed", progress=False,
                 **FAST[name])
    assert r.settings["bootstrap"]["held_fixed"] == get_estimator(name).holds_fixed
    assert r.settings["bootstrap"]["resampled"] == "rows, with replacement"


@pytest.mark.parametrize("name", ["plugin", "cluster", "gaussian", "copula"])
def test_basic_intervals_contain_the_point_estimate(name):
    """A basic interval [2t - q_hi, 2t - q_lo] contains t whenever the replicates' median
    lies inside [q_lo, q_hi], i.e. always; clipping at 0 keeps it when t >= 0."""
    x1, x2, y = _data(name, seed=1)
    r = bootstrap_pid(name, x1, x2, y, n_bootstrap=20, interval="basic", progress=False,
                      **FAST[name])
    for atom in ATOMS:
        lo, hi = r.ci[atom]
        assert lo - 1e-9 <= max(r.atoms[atom], 0.0) <= hi + 1e-9, (atom, lo, r.atoms[atom], hi)


@pytest.mark.parametrize("name", [n for n in sorted(FAST) if n not in NEURAL])
@pytest.mark.parametrize(("change", "message"), [
    ({"x2": "short"}, "same number"),
    ({"n_bootstrap": -1}, "`n_bootstrap` must be >= 0"),
    ({"bootstrap": "jackknife"}, "`bootstrap` must be one of"),
    ({"method": "nonsense"}, "method"),
    ({"n_permutations_typo": 3}, "is not an option of"),
])
def test_bad_input_is_refused_naming_the_argument(name, change, message):
    x1, x2, y = _data(name, n=60)
    kwargs = {"estimator": name, "progress": False, **FAST[name], **change}
    if kwargs.pop("x2", None) == "short":
        x2 = x2[:-1]
    with pytest.raises(InvalidInputError, match=message):
        quantify(x1, x2, y, **kwargs)


def test_unknown_estimators_and_options_of_other_estimators_are_refused():
    x1, x2, y = _data("plugin", n=60)
    with pytest.raises(InvalidInputError, match="`estimator` must be one of"):
        quantify(x1, x2, y, estimator="kde")
    with pytest.raises(InvalidInputError, match="`n_clusters` is not an option of the 'plugin'"):
        quantify(x1, x2, y, estimator="plugin", n_clusters=3)


@pytest.mark.filterwarnings("ignore::interplay.exceptions.SmallSampleWarning")
def test_auto_rule_is_written_once_and_recorded():
    rng = np.random.default_rng(0)
    few = np.arange(400) % MAX_DISCRETE_VALUES
    many = rng.standard_normal(400)
    assert choose_estimator(few, few, few)[0] == "plugin"
    assert choose_estimator(many, few, few)[0] == "cluster"
    assert choose_estimator(many, few, many)[0] == "copula"
    r = quantify(many[:, None], rng.standard_normal((400, 2)), few % 2, progress=False)
    assert r.settings["estimator"] == "cluster" and "cluster:" in r.settings["auto"]
    assert r.settings["n_clusters"] == cluster_defaults(400, 2)["n_clusters"] == 6


@pytest.mark.parametrize("method", list_pid_methods())
def test_every_redundancy_measure_keeps_the_identities(method):
    rng = np.random.default_rng(7)
    for _ in range(5):
        p = rng.dirichlet(np.ones(12)).reshape(2, 3, 2)
        r = pid(p, method=method)
        assert r.redundancy + r.unique1 == pytest.approx(r.mi_x1, abs=1e-7)
        assert r.redundancy + r.unique2 == pytest.approx(r.mi_x2, abs=1e-7)
        assert sum(r.atoms.values()) == pytest.approx(r.mi_joint, abs=1e-7)
        assert all(math.isfinite(v) for v in r.atoms.values())
        assert pid(p, method=method).atoms == r.atoms  # deterministic


@pytest.mark.parametrize("method", list_pid_methods())
def test_every_measure_refuses_a_bad_table(method):
    with pytest.raises(InvalidInputError, match="`p`"):
        pid(np.full((2, 2, 2), 0.2), method=method)


@pytest.mark.parametrize("method", list_pid_methods())
def test_every_measure_works_through_the_plugin_with_intervals(method):
    x1, x2, y = _data("plugin", n=300)
    r = quantify(x1, x2, y, method=method, n_bootstrap=10, progress=False)
    for atom in ATOMS:
        lo, hi = r.ci[atom]
        assert lo <= hi
    assert r.synergy == pytest.approx(1.0, abs=0.05)  # XOR
