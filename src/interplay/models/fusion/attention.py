"""Attention fusions: MulT-style cross-modal attention and a Perceiver-style latent bottleneck.

Both accept ``(N, d_m)`` vectors or ``(N, T_m, d_m)`` token sequences per modality. Tokens of a
missing modality are excluded from attention through the key-padding mask; a learned "null"
token that is always present keeps attention defined when every other modality is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import torch
from torch import nn

from ..._validation import check_int
from .._checks import zero_missing
from ._attention import AttentionBlock, ModalityTokens, check_attention_sizes
from .base import FusionModule


def _ignore_mask(tokens: list[torch.Tensor], mask: torch.Tensor, keep: list[int]) -> torch.Tensor:
    """Key-padding mask (True = ignore) for a null token followed by the tokens of ``keep``."""
    n = mask.shape[0]
    parts = [torch.zeros(n, 1, dtype=torch.bool, device=mask.device)]
    for i in keep:
        parts.append((~mask[:, i : i + 1]).expand(n, tokens[i].shape[1]))
    return torch.cat(parts, dim=1)


class _TokenAttentionFusion(FusionModule):
    """Set-up shared by the attention fusions: checked sizes, modality tokens, a null token."""

    accepts_sequences = True

    def __init__(
        self,
        input_dims: Mapping[str, int] | Sequence[int],
        output_dim: int,
        d_model: int,
        n_heads: int,
        n_layers: int,
        dropout: float,
    ) -> None:
        super().__init__(input_dims, output_dim)
        check_attention_sizes(d_model, n_heads, n_layers, dropout)
        self.tokens = ModalityTokens(self.input_dims, d_model)
        self.null = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)

    def keys(
        self, tokens: list[torch.Tensor], mask: torch.Tensor, keep: list[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys/values (the null token, then the tokens of ``keep``) and their ignore mask."""
        null = self.null.expand(mask.shape[0], -1, -1)
        kv = torch.cat([null] + [tokens[j] for j in keep], dim=1)
        return kv, _ignore_mask(tokens, mask, keep)


class CrossModalAttentionFusion(_TokenAttentionFusion):
    """Each modality's tokens attend to the tokens of all other modalities (MulT style).

    For target modality m, ``n_layers`` cross-attention blocks take m's tokens as queries and the
    other modalities' tokens (plus a null token) as keys and values; the result is mean-pooled
    over m's tokens. The pooled vectors of the present modalities are concatenated (zeros for
    missing ones) and projected to ``output_dim``.

    References
    ----------
    Tsai et al., "Multimodal Transformer for Unaligned Multimodal Language Sequences", ACL 2019.

    Examples
    --------
    >>> import torch
    >>> f = CrossModalAttentionFusion({"text": 6, "audio": 4}, 8, d_model=16, n_heads=2)
    >>> f({"text": torch.randn(3, 10, 6), "audio": torch.randn(3, 4)}).shape
    torch.Size([3, 8])
    """

    name = "cross_attention"
    description = "MulT-style cross-modal transformer: each modality attends to the others."
    represents = (
        "cross-modal attention (MulT); attention weights depend on both modalities, so it can "
        "model interactions, but trains less reliably"
    )
    simplicity = 8

    def __init__(
        self,
        input_dims: Mapping[str, int] | Sequence[int],
        output_dim: int,
        d_model: int = 32,
        n_heads: int = 4,
        n_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(input_dims, output_dim, d_model, n_heads, n_layers, dropout)
        self.blocks = nn.ModuleDict(
            {
                m: nn.ModuleList(AttentionBlock(d_model, n_heads, dropout) for _ in range(n_layers))
                for m in self.modalities
            }
        )
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.Linear(len(self.modalities) * d_model, self.output_dim)

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        toks = self.tokens(xs)
        pooled = []
        for i, m in enumerate(self.modalities):
            kv, ignore = self.keys(toks, mask, [j for j in range(len(toks)) if j != i])
            h = toks[i]
            for block in cast(nn.ModuleList, self.blocks[m]):
                h = block(h, kv, ignore)
            pooled.append(zero_missing(self.norm(h).mean(dim=1), mask[:, i]))
        return self.out(torch.cat(pooled, dim=1))


class PerceiverFusion(_TokenAttentionFusion):
    """A small set of learned latents reads all modality tokens, then self-attends (Perceiver).

    ``n_latents`` latent vectors cross-attend to the tokens of the present modalities (plus a
    null token), pass through ``n_layers`` latent self-attention blocks, and are mean-pooled and
    projected to ``output_dim``. The cost grows linearly with the number of tokens.

    References
    ----------
    Jaegle et al., "Perceiver: General Perception with Iterative Attention", ICML 2021.

    Examples
    --------
    >>> import torch
    >>> f = PerceiverFusion([6, 4, 2], 8, d_model=16, n_latents=4, n_heads=2)
    >>> f([torch.randn(3, 6), torch.randn(3, 5, 4), torch.randn(3, 2)]).shape
    torch.Size([3, 8])
    """

    name = "perceiver"
    description = "Perceiver-style bottleneck: learned latents cross-attend to all modality tokens."
    represents = (
        "a latent bottleneck attending to all modalities; can model interactions, trains less "
        "reliably on small data"
    )
    simplicity = 9

    def __init__(
        self,
        input_dims: Mapping[str, int] | Sequence[int],
        output_dim: int,
        d_model: int = 32,
        n_latents: int = 8,
        n_heads: int = 4,
        n_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(input_dims, output_dim, d_model, n_heads, n_layers, dropout)
        self.n_latents = check_int(n_latents, "n_latents", minimum=1)
        self.latents = nn.Parameter(torch.randn(self.n_latents, d_model) * 0.02)
        self.read = AttentionBlock(d_model, n_heads, dropout)
        self.process = nn.ModuleList(
            AttentionBlock(d_model, n_heads, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, self.output_dim)

    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        toks = self.tokens(xs)
        kv, ignore = self.keys(toks, mask, list(range(len(toks))))
        h = self.read(self.latents.expand(mask.shape[0], -1, -1), kv, ignore)
        for block in self.process:
            h = block(h, h)
        return self.out(self.norm(h).mean(dim=1))
