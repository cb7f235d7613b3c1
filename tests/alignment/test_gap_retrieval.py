"""Modality gap on a constructed case; retrieval equal to open_clip's and CLIP_benchmark's rules."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.alignment import gap_sweep, modality_gap, retrieval_metrics, shift_along_gap
from interplay.exceptions import InvalidInputError


def open_clip_style(sim: np.ndarray, ks=(1, 5, 10)) -> dict[str, float]:
    """open_clip get_clip_metrics restated: rank of the diagonal in a descending argsort."""
    out = {}
    for name, s in (("a_to_b", sim), ("b_to_a", sim.T)):
        order = np.argsort(-s, axis=1, kind="stable")
        preds = np.array([int(np.where(order[i] == i)[0][0]) for i in range(len(s))])
        out[f"{name}_mean_rank"] = preds.mean() + 1
        out[f"{name}_median_rank"] = np.floor(np.median(preds)) + 1
        for k in ks:
            out[f"{name}_R@{k}"] = np.mean(preds < k)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_retrieval_equals_open_clip_on_random_similarities(seed):
    rng = np.random.default_rng(seed)
    n = 50 + seed
    sim = rng.standard_normal((n, n)) + 1.5 * np.eye(n) * rng.random(n)
    got = retrieval_metrics(sim)
    want = open_clip_style(sim)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-12), key


def test_retrieval_from_embeddings_uses_cosine():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((30, 5)), rng.standard_normal((30, 5))
    u = lambda z: z / np.linalg.norm(z, axis=1, keepdims=True)  # noqa: E731
    assert retrieval_metrics(a, 7 * b) == retrieval_metrics(u(a) @ u(b).T)


def test_several_positives_count_a_hit_when_any_is_in_top_k():
    rng = np.random.default_rng(3)
    n_img, per = 12, 3
    sim = rng.standard_normal((n_img, n_img * per))
    pos = np.zeros_like(sim, dtype=bool)
    for i in range(n_img):
        pos[i, i * per:(i + 1) * per] = True
    got = retrieval_metrics(sim, positives=pos, ks=(1, 5))
    for name, s, p in (("a_to_b", sim, pos), ("b_to_a", sim.T, pos.T)):
        order = np.argsort(-s, axis=1)
        for k in (1, 5):
            hits = [p[i, order[i, :k]].any() for i in range(len(s))]
            assert got[f"{name}_R@{k}"] == pytest.approx(np.mean(hits))
        best = [min(np.flatnonzero(p[i][order[i]])) for i in range(len(s))]
        assert got[f"{name}_mean_rank"] == pytest.approx(np.mean(best) + 1)


def test_retrieval_bad_input():
    with pytest.raises(InvalidInputError, match="square"):
        retrieval_metrics(np.ones((3, 4)))
    with pytest.raises(InvalidInputError, match="without any positive"):
        retrieval_metrics(np.ones((2, 2)), positives=[[True, False], [True, False]])
    with pytest.raises(InvalidInputError, match="shape"):
        retrieval_metrics(np.ones((2, 2)), positives=np.eye(3, dtype=bool))


def test_gap_on_a_constructed_case():
    t = 0.3
    c, s = np.cos(t), np.sin(t)
    a = np.array([[c, s, 0.0], [c, -s, 0.0]])
    b = np.array([[0.0, s, c], [0.0, -s, c]]) * 5.0  # scale is removed by normalisation
    g = modality_gap(a, b)
    assert np.allclose(g.vector, [c, 0.0, -c])
    assert g.norm == pytest.approx(np.sqrt(2) * c)
    assert g.cone_a == pytest.approx(c * c - s * s)
    assert g.cone_b == pytest.approx(c * c - s * s)


def test_shift_along_gap_moves_means_along_the_gap():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((200, 6)) + np.array([3, 0, 0, 0, 0, 0])
    b = rng.standard_normal((200, 6)) + np.array([0, 3, 0, 0, 0, 0])
    g0 = modality_gap(a, b)
    sa, sb = shift_along_gap(a, b, 0.0)
    assert np.allclose(np.linalg.norm(sa, axis=1), 1.0)
    assert modality_gap(sa, sb).norm == pytest.approx(g0.norm)
    closer = modality_gap(*shift_along_gap(a, b, g0.norm)).norm
    wider = modality_gap(*shift_along_gap(a, b, -0.5)).norm
    assert closer < 0.2 * g0.norm < g0.norm < wider
    lams = [-1.0, 0.0, g0.norm, 4.0]
    rows = gap_sweep(a, b, lambda x, y: float(np.mean(x @ y.T)), lambdas=lams)
    assert [r["lambda"] for r in rows] == lams
    assert rows[1]["gap"] == pytest.approx(g0.norm)
    assert rows[3]["gap"] < 0  # shifted past the other modality: the gap points the other way
    values = [r["value"] for r in rows]
    assert values[0] < values[1] < values[2]  # cross-modal cosine rises as the gap closes


def test_gap_bad_input():
    with pytest.raises(InvalidInputError, match="same number of features"):
        modality_gap(np.ones((3, 2)), np.ones((3, 4)))
    with pytest.raises(InvalidInputError, match="no direction"):
        shift_along_gap(np.eye(3), np.eye(3), 1.0)
