"""The transformer's causal masking and the attention diagnostics on hand-built patterns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay.dynamics import (
    MarkovTransformer,
    attention_by_offset,
    induction_chance,
    induction_score,
    kl_bits,
    matching_mask,
)
from interplay.exceptions import InvalidInputError


@pytest.mark.parametrize("layers,heads", [(1, 1), (2, 1), (3, 2)])
@pytest.mark.parametrize("switches", [
    dict(), dict(mlp=False), dict(layer_norm=False), dict(relative_position=False),
])
def test_no_position_sees_the_future(layers, heads, switches):
    torch.manual_seed(0)
    model = MarkovTransformer(3, 20, d_model=8, n_layers=layers, n_heads=heads, **switches)
    model.eval()
    x = torch.randint(0, 3, (4, 20))
    for t0 in (0, 7, 19):
        y = x.clone()
        y[:, t0] = (y[:, t0] + 1) % 3
        with torch.no_grad():
            a, b = model(x), model(y)
        torch.testing.assert_close(a.logits[:, :t0], b.logits[:, :t0], rtol=0, atol=1e-6)
        for att_a, att_b in zip(a.attention, b.attention, strict=True):
            torch.testing.assert_close(att_a[..., :t0, :], att_b[..., :t0, :], rtol=0, atol=1e-6)
        # the changed position and later ones do see it (the check could fail)
        assert not torch.allclose(a.logits[:, t0:], b.logits[:, t0:], atol=1e-4)
    for att in a.attention:
        assert att.shape == (4, heads, 20, 20)
        assert torch.all(torch.triu(att, diagonal=1) == 0)
        torch.testing.assert_close(att.sum(-1), torch.ones(4, heads, 20))


def test_model_bad_input():
    with pytest.raises(InvalidInputError, match="divisible"):
        MarkovTransformer(2, 10, d_model=10, n_heads=3)
    with pytest.raises(InvalidInputError, match="`n_layers` must be >= 1"):
        MarkovTransformer(2, 10, n_layers=0)
    with pytest.raises(InvalidInputError, match="max_len"):
        MarkovTransformer(2, 10)(torch.zeros(1, 11, dtype=torch.long))


# x = 0 1 1 0 1, k = 1. Query i's context is x_i; key j (1 <= j <= i) matches when x_{j-1} = x_i:
# i=2 -> {2}, i=3 -> {1}, i=4 -> {2, 3}; queries 0 and 1 have no matching key.
SEQ = np.array([[0, 1, 1, 0, 1]])
MATCH = {2: [2], 3: [1], 4: [2, 3]}


def test_matching_mask_by_hand():
    mask = matching_mask(SEQ, 1)[0]
    want = np.zeros((5, 5), dtype=bool)
    for i, js in MATCH.items():
        want[i, js] = True
    np.testing.assert_array_equal(mask, want)


def test_matching_mask_order_two():
    # x = 0 1 0 1 0 1, k = 2: query i's context (x_{i-1}, x_i); key j's (x_{j-2}, x_{j-1})
    mask = matching_mask(np.array([[0, 1, 0, 1, 0, 1]]), 2)[0]
    assert mask[3].tolist() == [False, False, True, False, False, False]  # (0,1) before j=2
    assert mask[5].tolist() == [False, False, True, False, True, False]
    assert not mask[:2].any()


def _attention(rows: dict[int, dict[int, float]]) -> np.ndarray:
    att = np.zeros((1, 5, 5))
    for i in range(5):
        att[0, i, i] = 1.0
    for i, keys in rows.items():
        att[0, i] = 0
        for j, w in keys.items():
            att[0, i, j] = w
    return att


def test_induction_score_hand_built_patterns():
    perfect = _attention({i: {j: 1 / len(js) for j in js} for i, js in MATCH.items()})
    assert induction_score(perfect, SEQ, 1) == pytest.approx([1.0])
    previous = _attention({i: {i - 1: 1.0} for i in range(1, 5)})
    assert induction_score(previous, SEQ, 1) == pytest.approx([1 / 3])  # only i=4 -> 3 matches
    half = _attention({2: {2: 0.5, 0: 0.5}, 3: {1: 0.25, 2: 0.75}, 4: {0: 1.0}})
    assert induction_score(half, SEQ, 1) == pytest.approx([(0.5 + 0.25 + 0.0) / 3])
    uniform = np.tril(np.ones((5, 5))) / np.arange(1, 6)[:, None]
    chance = (1 / 3 + 1 / 4 + 2 / 5) / 3
    assert induction_score(uniform[None], SEQ, 1) == pytest.approx([chance])
    assert induction_chance(SEQ, 1) == pytest.approx(chance)
    # several heads at once: (n_seqs, heads, length, length)
    both = np.stack([perfect[0], previous[0]])[None]
    np.testing.assert_allclose(induction_score(both, SEQ, 1), [1.0, 1 / 3])


def test_induction_score_bad_input():
    with pytest.raises(InvalidInputError, match="does not fit"):
        induction_score(np.zeros((1, 4, 4)), SEQ, 1)
    with pytest.raises(InvalidInputError, match="shape"):
        induction_score(np.zeros((5, 5)), SEQ, 1)


def test_attention_by_offset():
    n = 6
    prev = np.zeros((1, n, n))
    prev[0, 0, 0] = 1
    for i in range(1, n):
        prev[0, i, i - 1] = 1
    prof = attention_by_offset(prev, max_offset=3)
    np.testing.assert_allclose(prof, [[1 / 6, 1.0, 0.0, 0.0]])
    assert attention_by_offset(prev).shape == (1, n)


def test_kl_bits():
    p = np.array([[0.5, 0.5], [1.0, 0.0]])
    q = np.array([[0.25, 0.75], [0.5, 0.5]])
    want0 = 0.5 * np.log2(0.5 / 0.25) + 0.5 * np.log2(0.5 / 0.75)
    np.testing.assert_allclose(kl_bits(p, q), [want0, 1.0])
    np.testing.assert_allclose(kl_bits(q, q), 0.0, atol=1e-15)
