"""Known answers for individual fusions: closed forms, the LRTF factors, and XOR synergy."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn import functional as F

from interplay.exceptions import InvalidInputError
from interplay.models import create_fusion


def _x(n=5, dims=(3, 2), seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, generator=g) for d in dims]


def test_early_is_a_linear_map_of_the_concatenation():
    f = create_fusion("early", [3, 2], 4)
    a, b = _x()
    torch.testing.assert_close(
        f([a, b]), F.linear(torch.cat([a, b], 1), f.proj.weight, f.proj.bias)
    )


def test_late_with_one_modality_present_is_that_modalitys_head():
    f = create_fusion("late", {"a": 3, "b": 2}, 4)
    a, b = _x()
    mask = torch.tensor([[True, False]] * 5)
    torch.testing.assert_close(f({"a": a, "b": b}, mask), f.heads["a"](a))
    both = (f.heads["a"](a) + f.heads["b"](b)) / 2
    torch.testing.assert_close(f({"a": a, "b": b}), both)


def test_tensor_fusion_matches_the_explicit_outer_product():
    f = create_fusion("tensor", [3, 2], 4)
    a, b = _x()
    a1 = torch.cat([a, torch.ones(5, 1)], 1)
    b1 = torch.cat([b, torch.ones(5, 1)], 1)
    w = f.proj.weight.view(4, 4, 3)  # (out, d_a + 1, d_b + 1)
    expected = torch.einsum("ni,nj,oij->no", a1, b1, w) + f.proj.bias
    torch.testing.assert_close(f([a, b]), expected)


def test_tensor_fusion_refuses_huge_products():
    with pytest.raises(InvalidInputError, match="low_rank_tensor"):
        create_fusion("tensor", [100, 100, 100], 4)


def test_low_rank_tensor_matches_the_full_tensor_it_factorizes():
    f = create_fusion("low_rank_tensor", [3, 2], 4, rank=2)
    a, b = _x()
    a1 = torch.cat([a, torch.ones(5, 1)], 1)
    b1 = torch.cat([b, torch.ones(5, 1)], 1)
    wa, wb = f.factors
    full = torch.einsum("r,rio,rjo->ijo", f.rank_weights, wa, wb)  # the rank-2 weight tensor
    expected = torch.einsum("ni,nj,ijo->no", a1, b1, full) + f.bias
    torch.testing.assert_close(f([a, b]), expected)


def test_low_rank_factors_are_registered_saved_and_trained():
    f = create_fusion("low_rank_tensor", [3, 2, 2], 4, rank=3)
    keys = set(f.state_dict())
    assert {"factors.0", "factors.1", "factors.2", "rank_weights", "bias"} <= keys
    before = [w.detach().clone() for w in f.factors]
    opt = torch.optim.SGD(f.parameters(), lr=0.1)
    f(_x(dims=(3, 2, 2))).pow(2).mean().backward()
    opt.step()
    assert all(not torch.equal(w0, w1) for w0, w1 in zip(before, f.factors, strict=True))


def test_multiplicative_matches_bilinear_plus_linear_terms():
    f = create_fusion("multiplicative", [3, 2], 4)
    a, b = _x()
    w = f.bilinear[0].weight  # (out, d_a, d_b)
    expected = (
        torch.einsum("ni,oij,nj->no", a, w, b)
        + a @ f.linear[0].weight.T
        + b @ f.linear[1].weight.T
        + f.bias
    )
    torch.testing.assert_close(f([a, b]), expected)


def test_gated_weights_are_a_distribution_over_present_modalities():
    f = create_fusion("gated", [3, 2, 2], 4)
    x = _x(n=4, dims=(3, 2, 2))
    mask = torch.tensor(
        [[True, True, True], [True, False, True], [False, True, False], [False] * 3]
    )
    w = f.weights(x, mask)
    torch.testing.assert_close(w.sum(1), torch.tensor([1.0, 1.0, 1.0, 0.0]))
    assert torch.equal(w[~mask], torch.zeros(int((~mask).sum())))
    assert torch.equal(f(x, mask)[3], torch.zeros(4))
    # The gate is per sample: different inputs give different weights.
    assert not torch.allclose(w[0], f.weights([v.flip(0) for v in x])[0])


def test_product_of_experts_closed_form():
    f = create_fusion("poe", [3, 2], 2, min_variance=1e-3)
    a, b = _x(n=4)
    mask = torch.tensor([[True, True], [True, False], [False, True], [False, False]])
    mean, var = f.posterior([a, b], mask)
    params = {}
    for m, x in (("0", a), ("1", b)):
        mu, raw = f.experts[m](x).chunk(2, 1)
        params[m] = (mu, 1.0 / (F.softplus(raw) + 1e-3))
    (mu_a, t_a), (mu_b, t_b) = params["0"], params["1"]
    torch.testing.assert_close(
        mean[0], (t_a[0] * mu_a[0] + t_b[0] * mu_b[0]) / (1 + t_a[0] + t_b[0])
    )
    torch.testing.assert_close(var[1], 1 / (1 + t_a[1]))
    torch.testing.assert_close(mean[2], t_b[2] * mu_b[2] / (1 + t_b[2]))
    torch.testing.assert_close(mean[3], torch.zeros(2))
    torch.testing.assert_close(var[3], torch.ones(2))
    # Losing an expert can only increase the variance.
    _, var_all = f.posterior([a, b])
    assert (var_all <= var).all() and (var_all[:3] < var[:3]).any()


def test_attention_fusions_validate_head_sizes():
    for name in ("cross_attention", "perceiver"):
        with pytest.raises(InvalidInputError, match="divisible"):
            create_fusion(name, [3, 2], 4, d_model=10, n_heads=4)
        with pytest.raises(InvalidInputError, match="dropout"):
            create_fusion(name, [3, 2], 4, dropout=1.5)


def _fit_xor(name: str, steps: int = 300, **kwargs) -> float:
    """Fit y = x1 XOR x2 (pure synergy) from +-1 codes; return the final accuracy."""
    torch.manual_seed(0)
    pairs = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=2)))
    y = (pairs[:, 0] != pairs[:, 1]).long()
    f = create_fusion(name, [1, 1], 2, **kwargs)
    opt = torch.optim.Adam(f.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(f([pairs[:, :1], pairs[:, 1:]]), y)
        loss.backward()
        opt.step()
    return float((f([pairs[:, :1], pairs[:, 1:]]).argmax(1) == y).float().mean())


@pytest.mark.parametrize("name", ["tensor", "low_rank_tensor", "multiplicative"])
def test_interaction_fusions_learn_xor(name):
    assert _fit_xor(name) == 1.0


@pytest.mark.parametrize("name", ["early", "late"])
def test_additive_fusions_cannot_learn_xor(name):
    # A linear function of x1 and x2 separates at most 3 of the 4 XOR points.
    assert _fit_xor(name) <= 0.75
