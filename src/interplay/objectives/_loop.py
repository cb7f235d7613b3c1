"""Pieces shared by the small in-memory training loops (IB objectives, FactorCL, binding)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch


def minibatches(n: int, batch_size: int, generator: torch.Generator, *,
                drop_last: bool = False) -> Iterator[torch.Tensor]:
    """Row indices of one epoch in a random order, ``batch_size`` at a time.

    A short last batch is kept when it has at least two rows (contrastive losses need a
    negative) unless ``drop_last``.
    """
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        if len(idx) == batch_size or (not drop_last and len(idx) >= 2):
            yield idx


class EpochMeans:
    """Running means of named scalar terms over the batches of one epoch."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.batches = 0

    def add(self, terms: Mapping[str, torch.Tensor]) -> None:
        for k, v in terms.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v.detach())
        self.batches += 1

    def means(self) -> dict[str, float]:
        return {k: v / max(self.batches, 1) for k, v in self.sums.items()}
