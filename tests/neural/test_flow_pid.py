"""Flow-PID against the Gaussian oracles pushed through invertible per-variable maps."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("zuko")

from interplay.data.gaussian import doubling_system, noisy_copies, sample_gaussian  # noqa: E402
from interplay.exceptions import (  # noqa: E402
    InterplayWarning,
    InvalidInputError,
    MissingDependencyError,
)
from interplay.info.estimate.copula import copula_pid  # noqa: E402
from interplay.info.pid.gaussian import gaussian_pid_from_samples  # noqa: E402
from interplay.neural.flow import flow_pid, gaussianity  # noqa: E402

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


def _max_error(result, truth):
    return max(abs(result.atoms[a] - truth[a]) for a in ATOMS)


def _mix(u, beta=0.8):
    """An invertible map of a 2-D variable that no per-column map undoes: (a, b + beta(a^2-1))."""
    return np.column_stack([u[:, 0], u[:, 1] + beta * (u[:, 0] ** 2 - 1)])


@pytest.fixture(scope="module")
def scalar_case():
    """O1 (noisy copies, rho = 0.5) through sinh, cube and exp; 3000 rows."""
    system = noisy_copies(0.5)
    x1, x2, y = sample_gaussian(system, 3000, random_state=1)
    return system, (np.sinh(2 * x1), x2**3, np.exp(y[:, 0]))


@pytest.fixture(scope="module")
def mixed_case():
    """O4 base system (vector target, MMI wrong) through the mixing map; 3000 rows."""
    system = doubling_system(1)
    x1, x2, y = sample_gaussian(system, 3000, random_state=1)
    return system, (_mix(x1), _mix(x2), _mix(y))


FAST = {"transforms": 2, "hidden": (32, 32), "progress": False, "random_state": 0}


def test_scalar_maps_recovered_where_raw_gaussian_fails(scalar_case):
    system, data = scalar_case
    raw = gaussian_pid_from_samples(*data)
    assert _max_error(raw, system.truth) > 0.3  # the raw Gaussian PID is badly wrong
    r = flow_pid(*data, max_epochs=3, batch_size=3000, **FAST)
    assert _max_error(r, system.truth) < 0.05  # sampling error at n = 3000 is ~0.02
    assert r.estimator == "flow"
    assert r.n_samples == 3000


def test_flow_beats_copula_on_mixing_maps(mixed_case):
    """The flows learn a map across dimensions that the per-column copula cannot undo."""
    system, data = mixed_case
    cop = copula_pid(*data)
    assert _max_error(cop, system.truth) > 0.4
    r = flow_pid(*data, flow="affine", max_epochs=40, batch_size=2400, lr=3e-2,
                 **{**FAST, "transforms": 1, "hidden": (32,)})
    fit = r.settings["fit"]
    assert _max_error(r, system.truth) < 0.1  # the clean samples' own error is 0.07
    assert fit["final_val_nll"] < fit["initial_val_nll"] - 1.0
    mardia = fit["gaussianity"]
    for pair in ("x1_y", "x2_y"):
        assert mardia["before"]["mardia_z"][pair] > 5
        assert abs(mardia["after"]["mardia_z"][pair]) < 3


def test_pid_identities_and_fit_report(scalar_case):
    _, data = scalar_case
    r = flow_pid(*data, max_epochs=2, batch_size=3000, method="mmi", **FAST)
    assert r.redundancy + r.unique1 == pytest.approx(r.mi_x1, abs=1e-9)
    assert r.redundancy + r.unique2 == pytest.approx(r.mi_x2, abs=1e-9)
    assert sum(r.atoms.values()) == pytest.approx(r.mi_joint, abs=1e-9)
    assert min(r.atoms.values()) >= 0
    s = r.settings
    for key, value in {"flow": "spline", "transforms": 2, "hidden": (32, 32), "init": "copula",
                       "max_epochs": 2, "batch_size": 3000, "device": "cpu", "method": "mmi",
                       "validation_fraction": 0.2, "random_state": 0}.items():
        assert s[key] == value
    fit = s["fit"]
    assert fit["epochs"] == len(fit["train_nll"]) == len(fit["val_nll"]) == 2
    assert 0 <= fit["best_epoch"] <= 2
    kept = [fit["initial_val_nll"], *fit["val_nll"]][fit["best_epoch"]]
    assert fit["final_val_nll"] == kept
    assert kept <= min(fit["val_nll"]) + 1e-4  # within the early-stopping tolerance
    assert set(fit["gaussianity"]["after"]) == {"skewness", "excess_kurtosis", "mardia_z"}
    assert json.loads(r.to_json())["settings"]["fit"]["epochs"] == 2


def test_early_stopping_on_already_gaussian_latents(scalar_case):
    """The copula start is already exact here: training only over-fits, epoch 0 is kept."""
    _, data = scalar_case
    r = flow_pid(*data, max_epochs=50, patience=2, batch_size=3000, lr=1e-2, **FAST)
    fit = r.settings["fit"]
    assert fit["stopped_early"] is True
    assert fit["epochs"] < 50
    assert fit["best_epoch"] == 0 and fit["epochs"] == 2
    # the identity start was kept, so the estimate is exactly the copula PID
    assert r.atoms == pytest.approx(copula_pid(*data).atoms, abs=1e-12)


def test_same_seed_same_result_other_seed_other_split(scalar_case):
    _, data = scalar_case
    opts = {**FAST, "max_epochs": 2, "batch_size": 1000, "init": "standardize"}
    a = flow_pid(*data, **opts)
    b = flow_pid(*data, **opts)
    c = flow_pid(*data, **{**opts, "random_state": 1})
    assert a.atoms == b.atoms
    assert a.settings["fit"]["val_nll"] == b.settings["fit"]["val_nll"]
    assert a.settings["fit"]["val_nll"] != c.settings["fit"]["val_nll"]


def test_bootstrap_intervals_hold_the_estimate_and_the_truth(scalar_case):
    system, data = scalar_case
    r = flow_pid(*data, max_epochs=1, batch_size=3000, n_bootstrap=40, **FAST)
    assert set(r.ci) == set(ATOMS)
    lo, hi = r.ci["redundancy"]
    assert lo <= r.redundancy <= hi
    assert 0.005 < hi - lo < 0.2
    assert lo <= system.truth["redundancy"] <= hi
    assert r.settings["n_bootstrap"] == 40


@pytest.mark.parametrize("kind", ["spline", "affine"])
def test_flows_start_as_the_identity(kind):
    """At epoch 0 the latents are the inputs, so the estimate starts at the copula PID."""
    from interplay.neural._flows import PairwiseGaussianFlows

    gen = torch.Generator().manual_seed(0)
    xs = [torch.randn(64, d, generator=gen, dtype=torch.float64) for d in (1, 2, 3)]
    model = PairwiseGaussianFlows(kind, (1, 2, 3), 2, (8,), xs).double()
    zs, ladjs = model.latents(xs)
    for x, z, ladj in zip(xs, zs, ladjs, strict=True):
        torch.testing.assert_close(z, x)
        torch.testing.assert_close(ladj, torch.zeros(64, dtype=torch.float64))


def test_gaussianity_statistics_separate_gaussian_from_not():
    rng = np.random.default_rng(0)
    g = [rng.standard_normal((4000, 2)) for _ in range(3)]
    ok = gaussianity(g)
    bad = gaussianity([np.exp(v) for v in g])
    assert max(abs(s) for s in ok["skewness"]["x1"]) < 0.2
    assert all(abs(z) < 4 for z in ok["mardia_z"].values())
    assert min(bad["skewness"]["y"]) > 2
    assert all(z > 20 for z in bad["mardia_z"].values())


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"x2": np.zeros((99, 1))}, "same number of rows"),
        ({"x1": np.full(100, np.nan)}, "NaN"),
        ({"x1": np.ones((30,)), "x2": np.ones((30,)), "y": np.ones((30,))}, "at least 50"),
        ({"flow": "realnvp"}, "`flow`"),
        ({"init": "rank"}, "`init`"),
        ({"hidden": ()}, "`hidden`"),
        ({"hidden": (32, 0)}, "`hidden`"),
        ({"transforms": 0}, "`transforms`"),
        ({"validation_fraction": 0.9}, "`validation_fraction`"),
        ({"lr": 0.0}, "`lr`"),
        ({"device": "tpu:7"}, "`device`"),
        ({"method": "ccs"}, "`method`"),
        ({"progress": "yes"}, "`progress`"),
        ({"bias_correction": 1}, "`bias_correction`"),
        ({"n_bootstrap": -1}, "`n_bootstrap`"),
        ({"confidence": 1.0}, "`confidence`"),
        ({"y": np.column_stack([np.arange(100.0), np.ones(100)])}, "constant column"),
        ({"x1": np.random.default_rng(0).standard_normal((100, 30))}, "Too few rows"),
    ],
)
def test_bad_input_is_refused_with_a_named_argument(change, match):
    rng = np.random.default_rng(0)
    args = {"x1": rng.standard_normal(100), "x2": rng.standard_normal(100),
            "y": rng.standard_normal(100)}
    opts = {k: change.pop(k) for k in list(change) if k not in args}
    args.update(change)
    with pytest.raises(InvalidInputError, match=match):
        flow_pid(args["x1"], args["x2"], args["y"], **{"progress": False, "max_epochs": 1, **opts})


def test_discrete_target_warns():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    with pytest.warns(InterplayWarning, match="distinct values"):
        flow_pid(y + rng.standard_normal(200), y + rng.standard_normal(200), y,
                 max_epochs=1, transforms=1, hidden=8, progress=False, random_state=0)


def test_missing_torch_names_the_extra(monkeypatch, scalar_case):
    monkeypatch.delitem(sys.modules, "interplay.neural._flows", raising=False)
    monkeypatch.setitem(sys.modules, "zuko", None)  # `import zuko` now fails
    with pytest.raises(MissingDependencyError, match=r"interplay\[models\]"):
        flow_pid(*scalar_case[1], progress=False)


@pytest.mark.slow
def test_spline_flow_recovers_vector_target_oracle_at_large_n():
    """O4 base system through the mixing map, 20000 rows: every atom within 0.05 bits."""
    system = doubling_system(1)
    data = [_mix(v) for v in sample_gaussian(system, 20000, random_state=2)]
    assert _max_error(copula_pid(*data), system.truth) > 0.4
    r = flow_pid(*data, max_epochs=100, patience=10, random_state=0, progress=False,
                 hidden=(32, 32), batch_size=1024, lr=3e-3)
    assert _max_error(r, system.truth) < 0.05
