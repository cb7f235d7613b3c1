"""Shared pieces of the attention fusions: modality tokens and a pre-norm attention block."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..._validation import check_float, check_int
from ...exceptions import InvalidInputError


def check_attention_sizes(d_model: int, n_heads: int, n_layers: int, dropout: float) -> None:
    """Validate the common transformer options."""
    check_int(d_model, "d_model", minimum=1)
    check_int(n_heads, "n_heads", minimum=1)
    check_int(n_layers, "n_layers", minimum=1)
    check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
    if d_model % n_heads:
        raise InvalidInputError(
            f"`d_model` ({d_model}) must be divisible by `n_heads` ({n_heads})."
        )


class ModalityTokens(nn.Module):
    """Project each modality's tokens to ``d_model`` and add a learned modality embedding.

    A ``(N, d_m)`` input becomes one token; a ``(N, T, d_m)`` input becomes T tokens. Order
    within a sequence is not encoded here: it is the encoder's job.
    """

    def __init__(self, input_dims: Mapping[str, int], d_model: int) -> None:
        super().__init__()
        self.proj = nn.ModuleDict({m: nn.Linear(d, d_model) for m, d in input_dims.items()})
        self.embed = nn.Parameter(torch.randn(len(input_dims), d_model) * 0.02)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for i, (m, x) in enumerate(zip(self.proj, xs, strict=True)):
            seq = x.unsqueeze(1) if x.ndim == 2 else x
            out.append(self.proj[m](seq) + self.embed[i])
        return out


class AttentionBlock(nn.Module):
    """Pre-norm block: ``q + Attn(LN(q), LN(kv))`` then ``+ FFN(LN(.))``."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.norm_q = nn.LayerNorm(d_model)
        self.norm_kv = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.norm_ff = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(
            nn.Linear(d_model, 2 * d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(2 * d_model, d_model),
        )

    def forward(
        self, q: torch.Tensor, kv: torch.Tensor, ignore: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``ignore`` (N, S) is True for key tokens to leave out."""
        kv_n = self.norm_kv(kv)
        h = (
            q
            + self.attn(self.norm_q(q), kv_n, kv_n, key_padding_mask=ignore, need_weights=False)[0]
        )
        return h + self.ff(self.norm_ff(h))
