"""A small causal transformer for in-context Markov chains, with the knobs the theory turns on.

Pre-norm blocks ``x + attn(LN(x))`` and ``x + mlp(LN(x))``; no absolute positions. Position
enters only through a learned relative encoding of the distance ``i - j`` between query ``i``
and key ``j`` (Shaw et al. 2018), added to the key inside the score of every head:

.. math::

    s_{ij} = \\frac{q_i^\\top (k_j + r_{i-j})}{\\sqrt{d_h}}, \\quad j \\le i,

so a head can look back a fixed number of positions (the "previous-k" head of layer 1) as well
as match content (the induction head of layer 2). LayerNorm, the MLP and the relative encoding
can be switched off to study their roles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .._validation import check_int
from ..exceptions import InvalidInputError


@dataclass(frozen=True)
class TransformerOutput:
    """What :class:`MarkovTransformer` returns.

    Attributes
    ----------
    logits : Tensor, shape (batch, length, alphabet_size)
        Position i predicts the symbol at i + 1.
    attention : list of Tensor, one per layer, shape (batch, heads, length, length)
        Row i is query position i's attention over key positions (zero above the diagonal).
    """

    logits: torch.Tensor
    attention: list[torch.Tensor]


class _Attention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, max_len: int, relative: bool) -> None:
        super().__init__()
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        self.rel = nn.Embedding(max_len, d_model) if relative else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t, d = x.shape
        h, dh = self.n_heads, self.d_head
        q, k, v = self.qkv(x).view(b, t, 3, h, dh).permute(2, 0, 3, 1, 4)  # each (b, h, t, dh)
        scores = q @ k.transpose(-1, -2)
        pos = torch.arange(t, device=x.device)
        dist = pos[:, None] - pos[None, :]  # i - j
        causal = dist >= 0
        if self.rel is not None:
            r = self.rel(dist.clamp(min=0)).view(t, t, h, dh).permute(2, 0, 1, 3)  # (h, t, t, dh)
            scores = scores + torch.einsum("bhid,hijd->bhij", q, r)
        scores = scores / math.sqrt(dh)
        scores = scores.masked_fill(~causal, float("-inf"))
        att = torch.softmax(scores, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        return self.out(y), att


class _Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, max_len: int, *, relative: bool,
                 layer_norm: bool, mlp: bool, mlp_ratio: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model) if layer_norm else nn.Identity()
        self.attn = _Attention(d_model, n_heads, max_len, relative)
        self.ln2: nn.Module | None = None
        self.mlp: nn.Module | None = None
        if mlp:
            self.ln2 = nn.LayerNorm(d_model) if layer_norm else nn.Identity()
            self.mlp = nn.Sequential(nn.Linear(d_model, mlp_ratio * d_model), nn.GELU(),
                                     nn.Linear(mlp_ratio * d_model, d_model))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, att = self.attn(self.ln1(x))
        x = x + a
        if self.mlp is not None and self.ln2 is not None:
            x = x + self.mlp(self.ln2(x))
        return x, att


class MarkovTransformer(nn.Module):
    """Causal transformer over a small alphabet; returns logits and every attention map.

    Parameters
    ----------
    alphabet_size : int
        Number of symbols m (>= 2).
    max_len : int
        Longest sequence the relative encoding covers.
    d_model : int, default 16
        Width; must be divisible by ``n_heads``.
    n_layers : int, default 2
    n_heads : int, default 1
        Heads per layer.
    relative_position : bool, default True
        Learned relative-distance encoding in the attention scores (otherwise the model has no
        positional information at all).
    layer_norm : bool, default True
        Pre-norm LayerNorm in every block and before the unembedding.
    mlp : bool, default True
        A GELU MLP (``mlp_ratio * d_model`` hidden units) after each attention.
    mlp_ratio : int, default 4
    """

    def __init__(
        self,
        alphabet_size: int,
        max_len: int,
        d_model: int = 16,
        n_layers: int = 2,
        n_heads: int = 1,
        *,
        relative_position: bool = True,
        layer_norm: bool = True,
        mlp: bool = True,
        mlp_ratio: int = 4,
    ) -> None:
        super().__init__()
        m = check_int(alphabet_size, "alphabet_size", minimum=2)
        max_len = check_int(max_len, "max_len", minimum=1)
        d_model = check_int(d_model, "d_model", minimum=1)
        n_layers = check_int(n_layers, "n_layers", minimum=1)
        n_heads = check_int(n_heads, "n_heads", minimum=1)
        mlp_ratio = check_int(mlp_ratio, "mlp_ratio", minimum=1)
        if d_model % n_heads:
            raise InvalidInputError(
                f"`d_model` ({d_model}) must be divisible by `n_heads` ({n_heads})."
            )
        self.max_len = max_len
        self.embed = nn.Embedding(m, d_model)
        self.blocks = nn.ModuleList(
            _Block(d_model, n_heads, max_len, relative=relative_position, layer_norm=layer_norm,
                   mlp=mlp, mlp_ratio=mlp_ratio)
            for _ in range(n_layers)
        )
        self.ln_f = nn.LayerNorm(d_model) if layer_norm else nn.Identity()
        self.unembed = nn.Linear(d_model, m)

    def forward(self, seqs: torch.Tensor) -> TransformerOutput:
        """Logits and attention maps for integer sequences of shape ``(batch, length)``."""
        if seqs.shape[-1] > self.max_len:
            raise InvalidInputError(
                f"sequences of length {seqs.shape[-1]} exceed the model's max_len {self.max_len}."
            )
        x = self.embed(seqs)
        maps = []
        for block in self.blocks:
            x, att = block(x)
            maps.append(att)
        return TransformerOutput(self.unembed(self.ln_f(x)), maps)
