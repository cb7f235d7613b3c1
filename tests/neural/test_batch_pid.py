"""BATCH neural PID: canonical gates against the exact PID, streaming, determinism, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from interplay import pid  # noqa: E402
from interplay.data import make_gate  # noqa: E402
from interplay.exceptions import (  # noqa: E402
    InterplayWarning,
    InvalidInputError,
    MissingDependencyError,
)
from interplay.info.pid import ATOMS  # noqa: E402
from interplay.info.pid.broja import _sinkhorn  # noqa: E402
from interplay.neural import batch as batch_module  # noqa: E402
from interplay.neural.batch import batch_pid  # noqa: E402
from interplay.neural.sinkhorn import log_sinkhorn, sinkhorn  # noqa: E402

#: Small networks and few epochs keep every fit to about a second on one core.
FAST = {"hidden": 32, "classifier_epochs": 15, "align_epochs": 2, "progress": False}


def embedded_gate(name: str, n: int = 2000, seed: int = 0, dim: int = 6, noise: float = 0.3,
                  alphabet: int = 2):
    """A gate whose inputs are embedded as well-separated noisy points of R^dim.

    The inputs are recoverable from the embeddings (means ~ sqrt(2 dim) apart, noise 0.3),
    so the PID of the embeddings equals the exact discrete PID of the gate.
    """
    rng = np.random.default_rng(seed)
    g = make_gate(name, n, alphabet=alphabet, random_state=seed)
    means1 = rng.standard_normal((alphabet, dim))
    means2 = rng.standard_normal((alphabet, dim))
    x1 = means1[g.x1] + noise * rng.standard_normal((n, dim))
    x2 = means2[g.x2] + noise * rng.standard_normal((n, dim))
    return x1, x2, g.y, pid(g.pmf, "broja")


def check_identities(r) -> None:
    assert all(getattr(r, a) >= 0 for a in ATOMS)
    assert math.isclose(r.redundancy + r.unique1, r.mi_x1, abs_tol=1e-12)
    assert math.isclose(r.redundancy + r.unique2, r.mi_x2, abs_tol=1e-12)
    assert math.isclose(sum(r.atoms.values()), r.mi_joint, abs_tol=1e-12)


@pytest.mark.parametrize(
    ("gate", "tol"),
    [("xor", 0.06), ("rdn", 0.06), ("unq", 0.06), ("and", 0.08)],
)
def test_canonical_gates_match_the_exact_pid(gate, tol):
    x1, x2, y, truth = embedded_gate(gate)
    r = batch_pid(x1, x2, y, random_state=0, **FAST)
    check_identities(r)
    for atom in ATOMS:
        assert abs(getattr(r, atom) - getattr(truth, atom)) < tol, (atom, r, truth)
    assert r.estimator == "batch" and r.method == "broja" and r.units == "bits"
    assert r.n_samples == 2000
    assert r.diagnostics.primal_residual <= r.settings["sinkhorn_tol"]


@pytest.mark.parametrize(("gate", "tol"), [("xor", 0.06), ("copy", 0.1)])
def test_ternary_inputs_and_many_classes(gate, tol):
    # xor: 3 classes, S = log2(3); copy: 9 classes, U1 = U2 = log2(3).
    x1, x2, y, truth = embedded_gate(gate, n=3000, alphabet=3)
    r = batch_pid(x1, x2, y, random_state=0, **FAST)
    check_identities(r)
    assert r.settings["n_classes"] == (3 if gate == "xor" else 9)
    for atom in ATOMS:
        assert abs(getattr(r, atom) - getattr(truth, atom)) < tol, (atom, r, truth)


def test_alignment_moves_the_coupling_towards_the_optimum():
    # Without training, the coupling is X1 _|_ X2 | Y, whose union information for AND is far
    # above V* = I(X1;Y): the redundancy would be 0.1 bits instead of 0.311.
    x1, x2, y, truth = embedded_gate("and")
    untrained = batch_pid(x1, x2, y, random_state=0, **{**FAST, "align_epochs": 0})
    trained = batch_pid(x1, x2, y, random_state=0, **FAST)
    fit_u, fit_t = untrained.settings["fit"], trained.settings["fit"]
    assert fit_t["union_information_raw"] < fit_u["union_information_raw"] - 0.1
    assert untrained.redundancy < truth.redundancy - 0.1
    assert abs(trained.redundancy - truth.redundancy) < 0.08


@pytest.mark.filterwarnings("ignore::interplay.exceptions.InterplayWarning")  # tiny budgets
def test_same_seed_same_result_and_settings_recorded():
    x1, x2, y, _ = embedded_gate("and", n=1000)
    kw = {**FAST, "classifier_epochs": 5, "align_epochs": 1, "random_state": 3}
    a, b = batch_pid(x1, x2, y, **kw), batch_pid(x1, x2, y, **kw)
    c = batch_pid(x1, x2, y, **{**kw, "random_state": 4})
    assert _without_seconds(a) == _without_seconds(b)
    assert a.atoms != c.atoms
    s = a.settings
    assert s["random_state"] == 3 and s["batch_size"] == 256 and s["device"] == "cpu"
    assert s["n_train"] + s["n_validation"] == 1000 and s["n_validation"] == 200
    for view in ("x1", "x2", "x1x2"):
        assert set(s["fit"]["classifiers"][view]) == {"cross_entropy", "accuracy", "best_epoch",
                                                      "temperature"}
    assert a.to_dict()["diagnostics"]["duality_gap"] is None  # no certificate: NaN -> null


def _without_seconds(r):
    d = r.to_dict()
    d["diagnostics"].pop("seconds")
    d["diagnostics"].pop("message")
    return d


@pytest.mark.filterwarnings("ignore::interplay.exceptions.InterplayWarning")  # tiny budgets
def test_base_e_rescales_bits_and_bootstrap_intervals():
    x1, x2, y, _ = embedded_gate("xor", n=1000)
    kw = {**FAST, "classifier_epochs": 5, "align_epochs": 1, "random_state": 1,
          "batch_size": 50, "n_bootstrap": 100}
    bits, nats = batch_pid(x1, x2, y, **kw), batch_pid(x1, x2, y, base="e", **kw)
    assert nats.units == "nats"
    for atom in ATOMS:
        assert math.isclose(getattr(nats, atom), getattr(bits, atom) * math.log(2),
                            rel_tol=1e-9, abs_tol=1e-12)
        lo, hi = bits.ci[atom]
        assert lo <= hi and math.isclose(nats.ci[atom][1], hi * math.log(2), rel_tol=1e-9,
                                         abs_tol=1e-12)
    lo, hi = bits.ci["synergy"]
    assert 0 < hi - lo < 0.3 and lo - 0.05 <= bits.synergy <= hi + 0.05


@pytest.mark.filterwarnings("ignore::interplay.exceptions.InterplayWarning")  # tiny budgets
def test_memory_mapped_sources_stream_to_the_same_result(tmp_path):
    x1, x2, y, _ = embedded_gate("and", n=1000)
    np.save(tmp_path / "x1.npy", x1.astype(np.float32))
    np.save(tmp_path / "x2.npy", x2.astype(np.float32))
    m1 = np.load(tmp_path / "x1.npy", mmap_mode="r")
    m2 = np.load(tmp_path / "x2.npy", mmap_mode="r")
    kw = {**FAST, "classifier_epochs": 4, "align_epochs": 1, "random_state": 0}
    stream = batch_module._Stream.build(m1, m2, y, 256)
    assert isinstance(stream.x1, np.memmap)  # read per minibatch, never loaded whole
    from_disk = batch_pid(m1, m2, y, **kw)
    in_memory = batch_pid(np.array(m1), np.array(m2), y, **kw)
    assert from_disk.atoms == in_memory.atoms


def test_chunked_moments_match_numpy(monkeypatch):
    monkeypatch.setattr(batch_module, "SCAN_ROWS", 7)
    x = np.random.default_rng(0).normal(1e4, 3.0, size=(100, 3))
    mean, std = batch_module._scan(x, "x1")
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, x.std(axis=0), rtol=1e-9)


@pytest.mark.filterwarnings("ignore::interplay.exceptions.InterplayWarning")  # tiny budgets
def test_label_types_and_steps_per_epoch():
    x1, x2, y, _ = embedded_gate("rdn", n=1000)
    words = np.where(y == 1, "yes", "no")
    kw = {**FAST, "classifier_epochs": 5, "align_epochs": 1, "random_state": 0}
    a = batch_pid(x1, x2, y.astype(float), **kw)
    b = batch_pid(x1, x2, words, **kw)
    assert a.atoms == b.atoms  # same classes in the same (sorted) order
    capped = batch_pid(x1, x2, y, steps_per_epoch=1, **kw)
    assert capped.diagnostics.iterations == 1  # one alignment epoch of one step
    assert capped.settings["steps_per_epoch"] == 1


def test_poor_classifier_is_reported_and_its_information_zeroed():
    # An untrained classifier (lr ~ 0) predicts about 1/2 for labels that are 1 in 10 % of the
    # rows: worse than the label frequencies on held-out rows.
    x1, x2, _, _ = embedded_gate("rdn", n=600)
    y = (np.arange(600) % 10 == 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = batch_pid(x1, x2, y, classifier_epochs=1, align_epochs=1, lr=1e-9, random_state=0,
                      progress=False)
    assert all(issubclass(w.category, InterplayWarning) for w in caught)
    assert any("worse than the label frequencies" in str(w.message) for w in caught)
    assert any("worse than the label frequencies" in w for w in r.warnings)
    check_identities(r)
    assert r.mi_x1 == r.mi_x2 == r.mi_joint == 0.0


def test_identities_survive_inconsistent_classifiers():
    # Too little training: the clamp keeps the atoms >= 0 and the identities exact, and says so.
    x1, x2, y, _ = embedded_gate("and", n=1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = batch_pid(x1, x2, y, classifier_epochs=2, align_epochs=0, random_state=4,
                      progress=False, hidden=32)
    assert all(issubclass(w.category, InterplayWarning) for w in caught)
    assert any("clamped" in str(w.message) for w in caught)
    check_identities(r)
    fit = r.settings["fit"]
    assert fit["union_information"] != fit["union_information_raw"]


def test_sinkhorn_solvers_match_the_reference_and_survive_huge_scores():
    gen = torch.Generator().manual_seed(0)
    k, n, m = 3, 5, 4
    scores = torch.randn(k, n, m, generator=gen, dtype=torch.float64)
    rows = torch.rand(k, n, generator=gen, dtype=torch.float64) + 0.1
    cols = torch.rand(k, m, generator=gen, dtype=torch.float64) + 0.1
    cols = cols * (rows.sum(1) / cols.sum(1))[:, None]
    rows, cols = rows / rows.sum(), cols / rows.sum()
    st = log_sinkhorn(scores, rows.log(), cols.log(), max_iter=5000, tol=1e-13)
    q = (scores + st.f[:, :, None] + st.g[:, None, :]).exp()
    assert st.residual <= 1e-13
    np.testing.assert_allclose(q.sum(2), rows, atol=1e-12)
    np.testing.assert_allclose(q.sum(1), cols, atol=1e-15)
    ref = _sinkhorn(scores.exp().permute(1, 2, 0).numpy(), rows.T.numpy(), cols.T.numpy(),
                    iters=5000)
    np.testing.assert_allclose(q.permute(1, 2, 0).numpy(), ref, atol=1e-12)
    fast = sinkhorn(scores, rows.log(), cols.log(), max_iter=5000, tol=1e-13)
    q_fast = (scores + fast.f[:, :, None] + fast.g[:, None, :]).exp()
    np.testing.assert_allclose(q_fast.numpy(), q.numpy(), atol=1e-12)
    # Huge scores (exp(1000) overflows float64) with a spread of 40 nats: the stabilised solver
    # keeps its kernel finite and absorbs the growing scalings into the potentials.
    big = 1000.0 + 8 * scores
    sharp = sinkhorn(big, rows.log(), cols.log(), max_iter=5000, tol=1e-10)
    assert torch.isfinite(sharp.f).all() and torch.isfinite(sharp.g).all()
    assert sharp.residual <= 1e-10
    q_big = (big + sharp.f[:, :, None] + sharp.g[:, None, :]).exp()
    np.testing.assert_allclose(q_big.sum(2), rows, atol=1e-10)
    np.testing.assert_allclose(q_big.sum(1), cols, atol=1e-12)


BAD = [
    ({"x1": np.ones((10, 2))}, "same number of rows"),
    ({"x1": "abc"}, "numeric"),
    ({"x1": np.full((200, 2), np.nan)}, "NaN"),
    ({"x2": np.ones((200, 2, 2))}, "shape"),
    ({"y": np.linspace(0, 1, 200)}, "discrete class labels"),
    ({"y": np.zeros(200)}, "at least 2 classes"),
    ({"y": np.r_[np.zeros(197), np.ones(3)]}, "at least 5 samples of every class"),
    ({"y": np.r_[np.zeros(199), np.nan]}, "NaN"),
    ({"y": np.ones((200, 2))}, "one class label per row"),
    ({"batch_size": 4096}, "batch_size"),
    ({"batch_size": 1}, "batch_size"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"validation_fraction": 0.001}, "validation_fraction"),
    ({"sinkhorn_tol": 0}, "sinkhorn_tol"),
    ({"steps_per_epoch": 0}, "steps_per_epoch"),
    ({"n_bootstrap": 10}, "n_bootstrap"),
    ({"confidence": 1.0}, "confidence"),
    ({"random_state": -1}, "random_state"),
    ({"device": "nonsense"}, "device"),
    ({"base": 1}, "base"),
]


@pytest.mark.parametrize(("change", "match"), BAD)
def test_bad_input_names_the_argument(change, match):
    rng = np.random.default_rng(0)
    args = {"x1": rng.standard_normal((200, 2)), "x2": rng.standard_normal((200, 2)),
            "y": rng.integers(0, 2, 200)}
    kwargs = {k: change.pop(k) for k in list(change) if k not in args}
    args.update(change)
    with pytest.raises(InvalidInputError, match=match):
        batch_pid(args["x1"], args["x2"], args["y"], progress=False, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_is_a_clear_error():
    x = np.zeros((50, 2))
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        batch_pid(x, x, np.arange(50) % 2, device="cuda", progress=False)


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setattr(batch_module, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"interplay\[models\]"):
        batch_pid(np.zeros((50, 2)), np.zeros((50, 2)), np.arange(50) % 2)


@pytest.mark.slow
@pytest.mark.parametrize("gate", ["and", "or", "xor", "rdn", "unq"])
def test_noisy_gates_with_defaults(gate):
    rng = np.random.default_rng(1)
    g = make_gate(gate, 20_000, noise=0.1, random_state=1)
    truth = pid(g.pmf, "broja")
    means = rng.standard_normal((2, 2, 16))
    x1 = means[0][g.x1] + 0.3 * rng.standard_normal((20_000, 16))
    x2 = means[1][g.x2] + 0.3 * rng.standard_normal((20_000, 16))
    r = batch_pid(x1, x2, g.y, random_state=0, progress=False)
    check_identities(r)
    for atom in ATOMS:
        assert abs(getattr(r, atom) - getattr(truth, atom)) < 0.05, (atom, r, truth)
