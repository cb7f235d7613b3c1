"""Gated fusion (GMU): the formula, the gate's shape and law, and both kinds of gate."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from interplay.exceptions import InvalidInputError
from interplay.models import create_fusion

DIMS = {"a": 3, "b": 2, "c": 4}
MASK = torch.tensor([[True, True, True], [True, False, True], [False, True, False],
                     [False, False, False], [True, True, False]])


def _inputs(n: int = 5, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(n, d, generator=g, dtype=torch.float64) for m, d in DIMS.items()}


def _fusion(gate: str = "feature"):
    torch.manual_seed(0)
    return create_fusion("gated", DIMS, 6, gate=gate).double()


def _by_hand(f, x, mask):
    """The GMU written out sample by sample, modality by modality."""
    rows = []
    for i in range(mask.shape[0]):
        present = [m for j, m in enumerate(DIMS) if mask[i, j]]
        if not present:
            rows.append(torch.zeros(6, dtype=torch.float64))
            continue
        normed = [F.layer_norm(x[m][i], (DIMS[m],), f.norm[m].weight, f.norm[m].bias)
                  if m in present else torch.zeros(DIMS[m], dtype=torch.float64) for m in DIMS]
        logits = (f.gate.weight @ torch.cat(normed) + f.gate.bias).view(len(DIMS), -1)
        keep = [j for j, m in enumerate(DIMS) if m in present]
        weights = torch.softmax(logits[keep], dim=0)  # over the present modalities
        h = torch.stack([torch.tanh(f.proj[m](x[m][i])) for m in present])
        rows.append((weights * h).sum(0))
    return torch.stack(rows)


@pytest.mark.parametrize("gate", ["feature", "modality"])
def test_output_is_the_gated_sum_of_projections(gate):
    f, x = _fusion(gate), _inputs()
    torch.testing.assert_close(f(x, MASK), _by_hand(f, x, MASK))


def test_feature_gate_is_a_distribution_over_present_modalities_per_feature():
    f, x = _fusion(), _inputs()
    a = f.weights(x, MASK, per_feature=True)
    assert a.shape == (5, 3, 6)
    expected = MASK.any(dim=1).double().view(5, 1).expand(5, 6)
    torch.testing.assert_close(a.sum(dim=1), expected)
    assert torch.equal(a[~MASK], torch.zeros(int((~MASK).sum()), 6, dtype=torch.float64))
    # features of one sample get different weights: the gate is not one scalar per modality
    assert a[0].std(dim=1).min() > 1e-4
    torch.testing.assert_close(f.weights(x, MASK), a.mean(dim=-1))


def test_modality_gate_shares_one_weight_across_features():
    f, x = _fusion("modality"), _inputs()
    a = f.weights(x, MASK, per_feature=True)
    assert a.shape == (5, 3, 1)
    assert sum(p.numel() for p in f.gate.parameters()) == (3 + 2 + 4 + 1) * 3
    torch.testing.assert_close(f.weights(x, MASK).sum(dim=1), MASK.any(dim=1).double())


@pytest.mark.parametrize("gate", ["feature", "modality"])
def test_missing_modalities_change_nothing_and_get_no_gradient(gate):
    f = _fusion(gate)
    x = {m: v.requires_grad_() for m, v in _inputs().items()}
    out = f(x, MASK)
    filled = {m: torch.where(MASK[:, j:j + 1], v.detach(), torch.nan)
              for j, (m, v) in enumerate(x.items())}
    assert torch.equal(f(filled, MASK), out)
    out.pow(2).sum().backward()
    for j, m in enumerate(DIMS):
        assert torch.equal(x[m].grad[~MASK[:, j]], torch.zeros_like(x[m].grad[~MASK[:, j]]))
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in f.parameters())


def test_unknown_gate_is_refused():
    with pytest.raises(InvalidInputError, match="`gate` must be one of 'feature', 'modality'"):
        create_fusion("gated", DIMS, 6, gate="scalar")
    assert "gate='modality'" in repr(_fusion("modality"))
