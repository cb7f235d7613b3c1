"""FactorCL: its terms, its two optimiser groups, bound directions on Gaussian data, augmenting."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.objectives.augment import (
    Compose,
    FeatureMask,
    GaussianNoise,
    Mixup,
    TimePermute,
    UniquePreserving,
)
from interplay.objectives.factorcl import FactorCL, fit_factorcl


def _batch(n: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x1 = torch.randn(n, 5, generator=g)
    x2 = torch.randn(n, 4, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    return x1, x2, y


def test_loss_is_the_signed_sum_of_the_terms():
    torch.manual_seed(0)
    m = FactorCL((5, 4), n_classes=3)
    t = m.terms(*_batch())
    expected = -(
        t["nce_shared"] - t["club_shared_given_y"]
        + t["nce_unique1_y"] + t["nce_unique2_y"] - 2 * t["club_unique"]
        + 2 * t["nce_unique_given_y"]
    )
    assert t["loss"].item() == pytest.approx(expected.item(), rel=1e-6)
    for k in ("nce_shared", "nce_unique1_y", "nce_unique_given_y"):
        assert t[k].item() <= math.log(32) + 1e-6  # InfoNCE never exceeds log B


@pytest.mark.parametrize("mode", ["sup", "ssl"])
def test_two_optimiser_groups_get_their_own_gradients(mode):
    torch.manual_seed(0)
    m = FactorCL((5, 4), n_classes=3, mode=mode)
    x1, x2, y = _batch()
    views = (x1 + 0.1, x2 - 0.1) if mode == "ssl" else None
    m.terms(x1, x2, y if mode == "sup" else None, views)["loss"].backward()
    critic_ids = {id(p) for p in m.critic_parameters()}
    for p in m.main_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    m.zero_grad(set_to_none=True)
    m.critic_loss(x1, x2, y if mode == "sup" else None, views).backward()
    for p in m.parameters():
        if id(p) in critic_ids:
            assert p.grad is not None
        else:
            assert p.grad is None  # the critics' loss never moves encoders or heads


def test_bound_directions_on_correlated_gaussians():
    """Trained on Gaussian views with I(X1; X2) known, the shared InfoNCE term stays below it
    (a lower bound of I(Z1s; Z2s) <= I(X1; X2)) and the NCE-CLUB terms above zero."""
    rng = np.random.default_rng(0)
    n, d, rho = 1200, 2, 0.9
    x1 = rng.standard_normal((n, d))
    x2 = rho * x1 + math.sqrt(1 - rho**2) * rng.standard_normal((n, d))
    truth = -d / 2 * math.log(1 - rho**2)  # nats
    y = (x1[:, 0] > 0).astype(int)
    torch.manual_seed(0)
    m = FactorCL((d, d), n_classes=2, feat_dim=16, hidden=(64,))
    hist = fit_factorcl(m, x1, x2, y, epochs=6, batch_size=200, lr=3e-3, critic_steps=1)
    last = hist[-1]
    assert last["nce_shared"] <= truth + 0.1
    assert last["nce_shared"] > 0.1  # the shared heads did learn the shared part (nats)
    assert last["club_unique"] > -0.1
    assert last["club_shared_given_y"] > -0.1


def test_fit_is_deterministic_by_seed():
    x1, x2, y = (t.numpy() for t in _batch(64))
    out = []
    for _ in range(2):
        torch.manual_seed(1)
        m = FactorCL((5, 4), n_classes=3, feat_dim=8, hidden=(16,))
        out.append(fit_factorcl(m, x1, x2, y, epochs=2, batch_size=32, seed=3)[-1]["loss"])
    assert out[0] == out[1]


def test_ssl_trains_with_augmentations():
    x1, x2, _ = (t.numpy() for t in _batch(64))
    torch.manual_seed(0)
    m = FactorCL((5, 4), mode="ssl", feat_dim=8, hidden=(16,))
    hist = fit_factorcl(m, x1, x2, augment=(GaussianNoise(0.1), GaussianNoise(0.1)), epochs=2,
                        batch_size=32)
    assert len(hist) == 2 and math.isfinite(hist[-1]["loss"])
    emb = m.embed(torch.as_tensor(x1), torch.as_tensor(x2))
    assert emb.shape == (64, 32)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: FactorCL((5, 4)), "n_classes"),
        (lambda: FactorCL((5, 4), n_classes=3, mode="x"), "mode"),
        (lambda: FactorCL((5,), n_classes=3), "two feature counts"),
        (lambda: FactorCL((5, 4), n_classes=3).terms(torch.randn(8, 4), torch.randn(8, 4),
                                                     torch.zeros(8, dtype=torch.long)), "x1"),
        (lambda: FactorCL((5, 4), n_classes=3).terms(torch.randn(8, 5), torch.randn(8, 4),
                                                     torch.full((8,), 5)), "labels must lie"),
        (lambda: FactorCL((5, 4), mode="ssl").terms(torch.randn(8, 5), torch.randn(8, 4)),
         "augmented views"),
        (lambda: fit_factorcl(FactorCL((5, 4), mode="ssl"), np.ones((8, 5)), np.ones((8, 4))),
         "augment"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InvalidInputError, match=match):
        call()


def test_augmentations_never_modify_their_input():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4)
    before = x.clone()
    for aug in (GaussianNoise(0.5), FeatureMask(0.5), Mixup(0.4),
                Compose([GaussianNoise(0.1), FeatureMask(0.3)])):
        out = aug(x, g)
        assert out.shape == x.shape and not torch.equal(out, x)
    assert torch.equal(x, before)


def test_time_permute_and_sequence_mask():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3)
    p = TimePermute()(x, g)
    for b in range(2):  # the same time steps, reordered, each step intact
        rows = sorted(map(tuple, p[b].tolist()))
        assert rows == sorted(map(tuple, x[b].tolist()))
    m = FeatureMask(0.5)(x, g)
    step_zero = (m == 0).all(dim=2) | (m == x).all(dim=2)
    assert bool(step_zero.all())  # whole time steps dropped or kept


def test_unique_preserving_leaves_unique_features_alone():
    rng = np.random.default_rng(0)
    s = rng.standard_normal((500, 2))
    u = rng.standard_normal((500, 2))
    x1 = np.hstack([s, u])  # features 0,1 shared with x2, features 2,3 unique to x1
    x2 = s @ np.array([[1.0, 0.5], [-0.3, 1.0]]) + 0.05 * rng.standard_normal((500, 2))
    aug = UniquePreserving(GaussianNoise(1.0), threshold=0.5).fit(x1, x2)
    assert aug.augmentable_.tolist() == [True, True, False, False]
    t = torch.as_tensor(x1, dtype=torch.float32)
    out = aug(t, torch.Generator().manual_seed(0))
    assert torch.equal(out[:, 2:], t[:, 2:])
    assert not torch.equal(out[:, :2], t[:, :2])
    with pytest.raises(InvalidInputError, match="fitted"):
        UniquePreserving(GaussianNoise())(t)
