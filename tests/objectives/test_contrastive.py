"""Contrastive losses against direct, loop-by-loop formulas computed in numpy float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.objectives.contrastive import (
    ClipLoss,
    SigLipLoss,
    barlow_twins_loss,
    clip_loss,
    multi_positive_clip_loss,
    nt_xent_loss,
    siglip_loss,
    supcon_loss,
)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _ce(row: np.ndarray, target: int) -> float:
    m = row.max()
    return float(-(row[target] - (m + math.log(np.exp(row - m).sum()))))


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(7, 5, generator=g, dtype=torch.float64), torch.randn(
        7, 5, generator=g, dtype=torch.float64
    )


def test_clip_loss_equals_direct_cross_entropy(pair):
    a, b = pair
    s = 3.7
    A, B = _unit(a.numpy()), _unit(b.numpy())
    sim = s * A @ B.T
    n = len(A)
    direct = (sum(_ce(sim[i], i) for i in range(n)) + sum(_ce(sim[:, j], j) for j in range(n)))
    direct /= 2 * n
    assert float(clip_loss(a, b, s)) == pytest.approx(direct, rel=1e-12)


def test_clip_loss_is_symmetric_and_scale_invariant_inputs(pair):
    a, b = pair
    assert float(clip_loss(a, b, 2.0)) == pytest.approx(float(clip_loss(b, a, 2.0)), rel=1e-12)
    # rows are L2-normalised inside: rescaling a row changes nothing
    assert float(clip_loss(3 * a, b, 2.0)) == pytest.approx(float(clip_loss(a, b, 2.0)), rel=1e-12)


def test_siglip_loss_equals_direct_sum(pair):
    a, b = pair
    s, t = 4.0, -2.5
    A, B = _unit(a.numpy()), _unit(b.numpy())
    n = len(A)
    total = 0.0
    for i in range(n):
        for j in range(n):
            z = 1.0 if i == j else -1.0
            total += -math.log(1.0 / (1.0 + math.exp(-z * (s * A[i] @ B[j] + t))))
    assert float(siglip_loss(a, b, s, t)) == pytest.approx(total / n, rel=1e-12)


def test_nt_xent_equals_direct_formula(pair):
    a, b = pair
    tau = 0.3
    Z = _unit(np.concatenate([a.numpy(), b.numpy()]))
    n = len(a)
    total = 0.0
    for i in range(2 * n):
        pos = i + n if i < n else i - n
        others = [k for k in range(2 * n) if k != i]
        denom = sum(math.exp(Z[i] @ Z[k] / tau) for k in others)
        total += -math.log(math.exp(Z[i] @ Z[pos] / tau) / denom)
    assert float(nt_xent_loss(a, b, tau)) == pytest.approx(total / (2 * n), rel=1e-10)


def test_supcon_equals_direct_formula(pair):
    z, _ = pair
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 3])  # 2 and 3 are alone: no positives
    tau = 0.2
    Z = _unit(z.numpy())
    lab = labels.numpy()
    n = len(Z)
    losses = []
    for i in range(n):
        pos = [p for p in range(n) if p != i and lab[p] == lab[i]]
        if not pos:
            continue
        denom = sum(math.exp(Z[i] @ Z[k] / tau) for k in range(n) if k != i)
        losses.append(-np.mean([math.log(math.exp(Z[i] @ Z[p] / tau) / denom) for p in pos]))
    assert float(supcon_loss(z, labels, tau)) == pytest.approx(np.mean(losses), rel=1e-10)


def test_multi_positive_clip_reduces_to_clip_on_identity(pair):
    a, b = pair
    eye = torch.eye(7, dtype=torch.bool)
    assert float(multi_positive_clip_loss(a, b, eye, 2.5)) == pytest.approx(
        float(clip_loss(a, b, 2.5)), rel=1e-12
    )


def test_multi_positive_clip_direct_formula():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(4, 3, generator=g, dtype=torch.float64)
    b = torch.randn(5, 3, generator=g, dtype=torch.float64)
    pos = torch.zeros(4, 5, dtype=torch.bool)
    for i, js in enumerate([(0, 1), (2,), (3,), (4, 0)]):
        pos[i, list(js)] = True
    s = 2.0
    sim = s * _unit(a.numpy()) @ _unit(b.numpy()).T
    P = pos.numpy()

    def direction(m: np.ndarray, p: np.ndarray) -> float:
        out = []
        for i in range(m.shape[0]):
            lse = math.log(np.exp(m[i]).sum())
            out.append(-np.mean([m[i, j] - lse for j in np.flatnonzero(p[i])]))
        return float(np.mean(out))

    direct = (direction(sim, P) + direction(sim.T, P.T)) / 2
    assert float(multi_positive_clip_loss(a, b, pos, s)) == pytest.approx(direct, rel=1e-12)


def test_barlow_twins_direct_formula(pair):
    a, b = pair
    lam = 0.1
    A, B = a.numpy(), b.numpy()
    za = (A - A.mean(0)) / A.std(0)
    zb = (B - B.mean(0)) / B.std(0)
    c = np.zeros((5, 5))
    for i in range(5):
        for j in range(5):
            c[i, j] = np.mean(za[:, i] * zb[:, j])
    direct = sum((1 - c[i, i]) ** 2 for i in range(5)) + lam * sum(
        c[i, j] ** 2 for i in range(5) for j in range(5) if i != j
    )
    assert float(barlow_twins_loss(a, b, lam)) == pytest.approx(direct, rel=1e-6)


def test_losses_fall_as_pairs_align():
    g = torch.Generator().manual_seed(2)
    a = torch.randn(16, 8, generator=g)
    noisy = a + 2.0 * torch.randn(16, 8, generator=g)
    for fn in (clip_loss, siglip_loss, nt_xent_loss):
        assert float(fn(a, a)) < float(fn(a, noisy))


def test_clip_module_scale_init_and_clamp(pair):
    a, b = pair
    m = ClipLoss()
    assert m.log_scale.item() == pytest.approx(math.log(1 / 0.07))
    with torch.no_grad():
        m.log_scale.fill_(10.0)
    assert m.scale.item() == pytest.approx(100.0)
    loss = m(a.float(), b.float())
    loss.backward()
    # clamped: no gradient flows to the log-scale above the ceiling
    assert float(m.log_scale.grad) == 0.0


def test_siglip_module_init_and_gradients(pair):
    a, b = pair
    m = SigLipLoss()
    assert m.log_scale.exp().item() == pytest.approx(10.0)
    assert m.bias.item() == pytest.approx(-10.0)
    m(a.float(), b.float()).backward()
    assert m.log_scale.grad is not None and m.bias.grad is not None


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: clip_loss(torch.randn(1, 4), torch.randn(1, 4)), "no negatives"),
        (lambda: clip_loss(torch.randn(4, 3), torch.randn(4, 5)), "same width"),
        (lambda: clip_loss(torch.randn(4, 3), torch.randn(5, 3)), "same number of rows"),
        (lambda: clip_loss(torch.full((3, 2), float("nan")), torch.randn(3, 2)), "NaN"),
        (lambda: clip_loss(np.ones((3, 2)), torch.randn(3, 2)), "torch.Tensor"),
        (lambda: clip_loss(torch.randn(3), torch.randn(3)), "shape"),
        (lambda: nt_xent_loss(torch.randn(3, 2), torch.randn(3, 2), 0.0), "temperature"),
        (lambda: supcon_loss(torch.randn(3, 2), torch.tensor([0, 1, 2])), "same label"),
        (lambda: supcon_loss(torch.randn(3, 2), torch.tensor([0, 1])), "labels"),
        (
            lambda: multi_positive_clip_loss(
                torch.randn(3, 2), torch.randn(3, 2), torch.zeros(3, 3, dtype=torch.bool)
            ),
            "at least one match",
        ),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(InvalidInputError, match=match):
        call()
