"""The Markov-chain generator, the add-alpha k-gram estimator and the reference losses."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.dynamics import context_ids, kgram_estimator, reference_losses, sample_markov
from interplay.dynamics.markov import cross_entropy_bits, true_predictions
from interplay.exceptions import InvalidInputError


def _direct(seq: list[int], k: int, alpha: float, m: int) -> np.ndarray:
    """The estimator written out: count earlier transitions out of the same context."""
    out = np.full((len(seq), m), 1.0 / m)
    for t in range(k, len(seq)):
        ctx = tuple(seq[t - k:t])
        counts = np.zeros(m)
        for s in range(k, t):
            if tuple(seq[s - k:s]) == ctx:
                counts[seq[s]] += 1
        if counts.sum() + m * alpha > 0:
            out[t] = (counts + alpha) / (counts.sum() + m * alpha)
    return out


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("m", [2, 3])
def test_estimator_matches_direct_count(k, alpha, m):
    rng = np.random.default_rng(10 * k + m)
    seqs = rng.integers(0, m, size=(5, 17))
    got = kgram_estimator(seqs, k, alpha=alpha, alphabet_size=m)
    assert got.shape == (5, 17, m)
    for i, seq in enumerate(seqs.tolist()):
        np.testing.assert_allclose(got[i], _direct(seq, k, alpha, m), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0)


def test_estimator_by_hand():
    # k = 2: contexts (x_{t-2}, x_{t-1}); the first two positions are uniform
    p = kgram_estimator([[0, 1, 1, 0, 1, 1, 1]], order=2)[0]
    np.testing.assert_allclose(p[:2], 0.5)
    np.testing.assert_allclose(p[2], [1 / 2, 1 / 2])  # context 01 unseen
    np.testing.assert_allclose(p[3], [1 / 2, 1 / 2])  # context 11 unseen
    np.testing.assert_allclose(p[4], [1 / 2, 1 / 2])  # context 10 unseen
    np.testing.assert_allclose(p[5], [1 / 3, 2 / 3])  # 01 seen once, followed by 1
    np.testing.assert_allclose(p[6], [2 / 3, 1 / 3])  # 11 seen once, followed by 0
    # alpha = 0: maximum likelihood where the context was seen, uniform where it was not
    q = kgram_estimator([[0, 1, 1, 0, 1, 1, 1]], order=2, alpha=0.0)[0]
    np.testing.assert_allclose(q[4], [0.5, 0.5])
    np.testing.assert_allclose(q[5], [0.0, 1.0])


def test_estimator_is_causal():
    rng = np.random.default_rng(0)
    seqs = rng.integers(0, 2, size=(3, 30))
    base = kgram_estimator(seqs, 2)
    changed = seqs.copy()
    changed[:, 20] = 1 - changed[:, 20]
    after = kgram_estimator(changed, 2)
    np.testing.assert_array_equal(base[:, :21], after[:, :21])  # row 20 predicts symbol 20
    assert not np.allclose(base[:, 21:], after[:, 21:])


def test_context_ids_encoding():
    seqs = np.array([[2, 0, 1, 2, 2]])
    ids = context_ids(seqs, 2, 3)
    # c_t = x_{t-1} + 3 x_{t-2}
    np.testing.assert_array_equal(ids[0], [-1, -1, 0 + 3 * 2, 1 + 3 * 0, 2 + 3 * 1])


def test_generator_shapes_and_fresh_tables():
    seqs, tables = sample_markov(50, 40, order=2, alphabet_size=3, random_state=1)
    assert seqs.shape == (50, 40) and seqs.dtype == np.int64
    assert tables.shape == (50, 9, 3)
    assert seqs.min() >= 0 and seqs.max() <= 2
    np.testing.assert_allclose(tables.sum(axis=-1), 1.0)
    # a fresh table for every sequence
    assert np.unique(tables.reshape(50, -1), axis=0).shape[0] == 50
    again, _ = sample_markov(50, 40, order=2, alphabet_size=3, random_state=1)
    np.testing.assert_array_equal(seqs, again)


@pytest.mark.parametrize("k,m", [(1, 2), (2, 3), (3, 2)])
def test_generator_follows_its_tables(k, m):
    """Summed over every symbol with a context, one-hot(x_t) - P[c_t] is a martingale: ~0."""
    seqs, tables = sample_markov(400, 60, order=k, alphabet_size=m, random_state=7)
    ctx = context_ids(seqs, k, m)[:, k:]
    onehot = np.eye(m)[seqs[:, k:]]
    expected = tables[np.arange(400)[:, None], ctx]
    resid = np.zeros((m**k, m))
    count = np.zeros(m**k)
    np.add.at(resid, ctx, onehot - expected)
    np.add.at(count, ctx, 1)
    # each entry is a sum of `count` terms with variance <= 1/4: allow 5 standard deviations
    assert np.all(np.abs(resid) <= 5 * 0.5 * np.sqrt(count)[:, None])
    # the check has power: the reverse digit order misreads the contexts and fails it
    if k >= 2:
        length = seqs.shape[1]
        rev = sum(seqs[:, k - j: length - j] * m ** (k - j) for j in range(1, k + 1))
        bad = np.zeros((m**k, m))
        np.add.at(bad, rev, onehot - tables[np.arange(400)[:, None], rev])
        assert np.any(np.abs(bad) > 5 * 0.5 * np.sqrt(count)[:, None])


def test_generator_first_symbols_uniform_and_dirichlet_rows():
    m, conc = 3, 0.5
    seqs, tables = sample_markov(6000, 4, order=2, alphabet_size=m, concentration=conc,
                                 random_state=3)
    freq = np.bincount(seqs[:, :2].ravel(), minlength=m) / seqs[:, :2].size
    np.testing.assert_allclose(freq, 1 / m, atol=0.015)
    rows = tables.reshape(-1, m)
    # Dirichlet(conc, ..., conc): mean 1/m, variance (1/m)(1 - 1/m) / (m conc + 1)
    np.testing.assert_allclose(rows.mean(axis=0), 1 / m, atol=0.005)
    var = (1 / m) * (1 - 1 / m) / (m * conc + 1)
    np.testing.assert_allclose(rows.var(axis=0), var, rtol=0.05)


def test_estimator_is_bayes_optimal_for_its_prior():
    """On chains drawn with a Dirichlet(1) prior, add-1 beats add-0.25 and add-4."""
    seqs, _ = sample_markov(3000, 48, order=2, random_state=11)
    loss = {a: cross_entropy_bits(kgram_estimator(seqs, 2, alpha=a), seqs)[:, 2:].mean()
            for a in (0.25, 1.0, 4.0)}
    assert loss[1.0] < loss[0.25] - 0.01
    assert loss[1.0] < loss[4.0] - 0.005


def test_reference_losses():
    seqs, tables = sample_markov(500, 64, order=1, random_state=5)
    refs = reference_losses(seqs, 1, tables)
    direct = cross_entropy_bits(kgram_estimator(seqs, 1), seqs)[:, 1:].mean()
    assert refs["kgram"] == pytest.approx(direct)
    assert refs["true"] < refs["kgram"] < refs["unigram"] < 1.0
    true_ce = cross_entropy_bits(true_predictions(seqs, tables, 1), seqs)
    assert refs["true"] == pytest.approx(true_ce[:, 1:].mean())
    assert len(refs["by_position"]["kgram"]) == 64
    # unigram estimator = order-0 counts
    t = 10
    ones = seqs[:, :t].sum(axis=1)
    p1 = (ones + 1) / (t + 2)
    ce = -np.log2(np.where(seqs[:, t] == 1, p1, 1 - p1))
    assert refs["by_position"]["unigram"][t] == pytest.approx(ce.mean())


@pytest.mark.parametrize("kwargs,match", [
    (dict(seqs=[[0, 1, 0]], order=0), "`order` must be >= 1"),
    (dict(seqs=[[0, 0, 0]], order=1), "single symbol"),
    (dict(seqs=[[0, 1, 0]], order=1, alphabet_size=1), "`alphabet_size` must be >= 2"),
    (dict(seqs=[[0, 1]], order=2), "longer than `order`"),
    (dict(seqs=[[0, 1, 0]], order=1, alpha=-0.5), "`alpha` must be >= 0"),
    (dict(seqs=[[0, 3, 0]], order=1, alphabet_size=2), "outside the alphabet"),
    (dict(seqs=[0, 1, 0], order=1), "2-D"),
    (dict(seqs=[[0.5, 1, 0]], order=1), "integer"),
    (dict(seqs=[[0, -1, 0]], order=1), ">= 0"),
])
def test_estimator_bad_input(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        kgram_estimator(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(order=0), "`order` must be >= 1"),
    (dict(alphabet_size=1), "`alphabet_size` must be >= 2"),
    (dict(length=2, order=2), "longer than `order`"),
    (dict(concentration=0.0), "`concentration` must be > 0"),
    (dict(order=30), "table cells"),
])
def test_generator_bad_input(kwargs, match):
    args = dict(n_seqs=2, length=10, order=1) | kwargs
    with pytest.raises(InvalidInputError, match=match):
        sample_markov(**args)
