"""Heads: shapes, normalized embeddings, a trainable classifier, and bad arguments."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from interplay.exceptions import InvalidInputError
from interplay.models import ClassificationHead, EmbeddingHead, RegressionHead, create_head


@pytest.mark.parametrize(
    ("task", "cls", "out"),
    [
        ("classification", ClassificationHead, 3),
        ("regression", RegressionHead, 2),
        ("embedding", EmbeddingHead, 5),
    ],
)
@pytest.mark.parametrize("hidden_dim", [None, 7])
def test_create_head_shapes(task, cls, out, hidden_dim):
    head = create_head(task, 8, out, hidden_dim=hidden_dim)
    assert isinstance(head, cls) and head.output_dim == out
    assert head(torch.randn(4, 8)).shape == (4, out)


def test_embeddings_are_unit_norm_unless_asked_otherwise():
    torch.manual_seed(0)
    z = torch.randn(6, 8)
    e = EmbeddingHead(8, 4)(z)
    torch.testing.assert_close(e.norm(dim=1), torch.ones(6))
    raw = EmbeddingHead(8, 4, normalize=False)(z)
    assert not torch.allclose(raw.norm(dim=1), torch.ones(6))


def test_classification_head_fits_separable_data():
    torch.manual_seed(0)
    z = torch.randn(64, 4)
    y = (z[:, 0] + z[:, 1] > 0).long()
    head = ClassificationHead(4, 2)
    opt = torch.optim.Adam(head.parameters(), lr=0.1)
    for _ in range(100):
        opt.zero_grad()
        F.cross_entropy(head(z), y).backward()
        opt.step()
    assert (head(z).argmax(1) == y).float().mean() >= 0.95


def test_regression_head_recovers_a_linear_map():
    torch.manual_seed(0)
    z = torch.randn(128, 3)
    y = z @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    head = RegressionHead(3)
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        F.mse_loss(head(z), y).backward()
        opt.step()
    torch.testing.assert_close(
        head.net[1].weight, torch.tensor([[1.0, -2.0, 0.5]]), atol=1e-2, rtol=0
    )
    torch.testing.assert_close(head.net[1].bias, torch.tensor([0.3]), atol=1e-2, rtol=0)


def test_bad_head_arguments():
    with pytest.raises(InvalidInputError, match="`task` must be one of"):
        create_head("ranking", 8, 3)
    with pytest.raises(InvalidInputError, match="n_classes"):
        create_head("classification", 8, 1)
    with pytest.raises(InvalidInputError, match="input_dim"):
        RegressionHead(0)
    with pytest.raises(InvalidInputError, match="dropout"):
        ClassificationHead(8, 3, dropout=1.0)
    with pytest.raises(InvalidInputError, match="Bad option"):
        create_head("embedding", 8, 3, dropout=0.1)
    with pytest.raises(InvalidInputError, match=r"\(N, 8\)"):
        ClassificationHead(8, 3)(torch.randn(4, 9))
