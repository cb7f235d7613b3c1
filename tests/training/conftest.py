"""Shared tiny models and data for the training tests (plain nn.Modules taking a dict)."""

from __future__ import annotations

import pytest
import torch
from torch import nn


class TwoModalNet(nn.Module):
    """Encode two modalities, concatenate, classify. ``fail_at`` simulates a crash."""

    def __init__(self, hidden: int = 16, dropout: float = 0.2, fail_at: int | None = None):
        super().__init__()
        self.enc_a = nn.Linear(3, hidden)
        self.enc_b = nn.Linear(2, hidden)
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(dropout), nn.Linear(2 * hidden, 2))
        self.calls = 0
        self.fail_at = fail_at

    def forward(self, inputs):
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise RuntimeError("simulated crash")
        return self.head(torch.cat([self.enc_a(inputs["a"]), self.enc_b(inputs["b"])], dim=-1))


def make_xor(n: int, seed: int):
    """y = [a0 > 0] xor [b0 > 0]: a synergistic two-modality task."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 3, generator=g)
    b = torch.randn(n, 2, generator=g)
    y = ((a[:, 0] > 0) ^ (b[:, 0] > 0)).long()
    return {"a": a, "b": b}, y


@pytest.fixture
def net_cls():
    return TwoModalNet


@pytest.fixture
def xor_data():
    return make_xor(96, seed=1), make_xor(32, seed=2)
