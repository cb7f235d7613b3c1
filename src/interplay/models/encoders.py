"""Encoders that map one modality's raw input to a vector ``(N, output_dim)``.

One small module per kind of input, and :func:`create_encoder` to build one by kind:

========== ================= ==========================================================
kind        input per sample  encoder
========== ================= ==========================================================
vector      ``(F,)``          :class:`MLPEncoder`
image       ``(C, H, W)``     :class:`ConvEncoder` (strided 2-D convolutions, any H, W)
sequence    ``(T, F)``        :class:`SequenceEncoder` (1-D convolutions or a transformer)
audio       ``(T, F)``        :class:`SequenceEncoder` on feature frames (e.g. MFCCs)
embedding   ``(D,)``          :class:`ProjectionEncoder` (linear map, or identity)
========== ================= ==========================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError


def _check_tensor(x: Any, ndim: int, shape_text: str, last: int | None, owner: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = f"dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise InvalidInputError(f"{owner} expects a floating-point torch.Tensor, got {got}.")
    if x.ndim != ndim or (last is not None and x.shape[-1 if ndim != 4 else 1] != last):
        raise InvalidInputError(
            f"{owner} expects input of shape {shape_text}, got {tuple(x.shape)}."
        )
    return x


def _hidden_sizes(hidden_dims: Sequence[int], name: str) -> list[int]:
    if isinstance(hidden_dims, (str, bytes)) or not isinstance(hidden_dims, Sequence):
        raise InvalidInputError(f"`{name}` must be a sequence of ints, got {hidden_dims!r}.")
    return [check_int(h, f"{name}[{i}]", minimum=1) for i, h in enumerate(hidden_dims)]


class MLPEncoder(nn.Module):
    """Multi-layer perceptron for feature vectors ``(N, input_dim) -> (N, output_dim)``.

    Examples
    --------
    >>> import torch
    >>> MLPEncoder(5, 3, hidden_dims=(8,))(torch.randn(4, 5)).shape
    torch.Size([4, 3])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        hidden_dims: Sequence[int] = (64,),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.input_dim = check_int(input_dim, "input_dim", minimum=1)
        self.output_dim = check_int(output_dim, "output_dim", minimum=1)
        p = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        layers: list[nn.Module] = []
        d = self.input_dim
        for h in _hidden_sizes(hidden_dims, "hidden_dims"):
            layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(p)]
            d = h
        layers.append(nn.Linear(d, self.output_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tensor(x, 2, f"(N, {self.input_dim})", self.input_dim, "MLPEncoder")
        return self.net(x)


class ConvEncoder(nn.Module):
    """Small CNN for images ``(N, C, H, W) -> (N, output_dim)``.

    Each stage is a 3x3 convolution with stride 2 and a ReLU (no normalization layer, so a
    sample's encoding never depends on the rest of the batch); global average pooling and a
    linear map follow, so any image size works.

    Examples
    --------
    >>> import torch
    >>> ConvEncoder(1, 10, channels=(8, 16))(torch.randn(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self, in_channels: int, output_dim: int, channels: Sequence[int] = (16, 32)
    ) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.output_dim = check_int(output_dim, "output_dim", minimum=1)
        layers: list[nn.Module] = []
        c = self.in_channels
        for h in _hidden_sizes(channels, "channels"):
            layers += [nn.Conv2d(c, h, kernel_size=3, stride=2, padding=1), nn.ReLU()]
            c = h
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, self.output_dim)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tensor(x, 4, f"(N, {self.in_channels}, H, W)", self.in_channels, "ConvEncoder")
        return self.net(x)


def sinusoidal_positions(
    length: int, dim: int, *, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """Sinusoidal position codes of shape ``(length, dim)`` (Vaswani et al. 2017)."""
    pos = torch.arange(length, device=device, dtype=dtype).unsqueeze(1)
    freq = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=dtype) * (-math.log(10000.0) / dim)
    )
    pe = torch.zeros(length, dim, device=device, dtype=dtype)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class SequenceEncoder(nn.Module):
    """Encoder for sequences of feature frames ``(N, T, input_dim)``.

    ``arch="conv"`` stacks 1-D convolutions over time (kernel 3, same length);
    ``arch="transformer"`` adds sinusoidal positions and runs a transformer encoder. The frames
    are then mean-pooled to ``(N, output_dim)``, or, with ``return_sequence=True``, projected
    frame by frame to ``(N, T, output_dim)`` for the attention fusions.

    Examples
    --------
    >>> import torch
    >>> enc = SequenceEncoder(13, 8, arch="transformer", hidden_dim=16, n_heads=2)
    >>> enc(torch.randn(2, 20, 13)).shape
    torch.Size([2, 8])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        arch: str = "conv",
        hidden_dim: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        dropout: float = 0.0,
        return_sequence: bool = False,
    ) -> None:
        super().__init__()
        self.input_dim = check_int(input_dim, "input_dim", minimum=1)
        self.output_dim = check_int(output_dim, "output_dim", minimum=1)
        self.arch = check_choice(arch, "arch", ("conv", "transformer"))
        hidden = check_int(hidden_dim, "hidden_dim", minimum=1)
        layers = check_int(n_layers, "n_layers", minimum=1)
        p = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.return_sequence = bool(return_sequence)
        self.inp = nn.Linear(self.input_dim, hidden)
        if self.arch == "conv":
            self.body: nn.Module = nn.Sequential(
                *[
                    m
                    for _ in range(layers)
                    for m in (nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU())
                ]
            )
        else:
            heads = check_int(n_heads, "n_heads", minimum=1)
            if hidden % heads or hidden % 2:
                raise InvalidInputError(
                    f"`hidden_dim` ({hidden}) must be even and divisible by `n_heads` ({heads})."
                )
            layer = nn.TransformerEncoderLayer(
                hidden, heads, dim_feedforward=2 * hidden, dropout=p, batch_first=True
            )
            self.body = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(hidden, self.output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tensor(x, 3, f"(N, T, {self.input_dim})", self.input_dim, "SequenceEncoder")
        h = self.inp(x)
        if self.arch == "conv":
            h = self.body(h.transpose(1, 2)).transpose(1, 2)
        else:
            h = self.body(
                h + sinusoidal_positions(h.shape[1], h.shape[2], device=h.device, dtype=h.dtype)
            )
        return self.out(h) if self.return_sequence else self.out(h.mean(dim=1))


class ProjectionEncoder(nn.Module):
    """Precomputed embeddings ``(N, input_dim)``: a linear map, or the identity.

    With ``project=False`` the encoder has no parameters and ``output_dim`` must equal
    ``input_dim``.

    Examples
    --------
    >>> import torch
    >>> ProjectionEncoder(4, 4, project=False)(torch.ones(1, 4)).tolist()
    [[1.0, 1.0, 1.0, 1.0]]
    """

    def __init__(self, input_dim: int, output_dim: int, project: bool = True) -> None:
        super().__init__()
        self.input_dim = check_int(input_dim, "input_dim", minimum=1)
        self.output_dim = check_int(output_dim, "output_dim", minimum=1)
        if not project and self.output_dim != self.input_dim:
            raise InvalidInputError(
                f"With `project=False`, `output_dim` must equal `input_dim` ({self.input_dim}), "
                f"got {self.output_dim}."
            )
        self.proj: nn.Module = (
            nn.Linear(self.input_dim, self.output_dim) if project else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tensor(x, 2, f"(N, {self.input_dim})", self.input_dim, "ProjectionEncoder")
        return self.proj(x)


#: kind -> (number of axes of ``input_shape``, what they mean)
_KINDS: dict[str, tuple[int, str]] = {
    "vector": (1, "(n_features,)"),
    "image": (3, "(channels, height, width)"),
    "sequence": (2, "(n_steps, n_features)"),
    "audio": (2, "(n_frames, n_features)"),
    "embedding": (1, "(embedding_dim,)"),
}


def list_encoders() -> dict[str, str]:
    """Encoder kinds accepted by :func:`create_encoder`, with the per-sample input shape."""
    return {k: f"input_shape {text}" for k, (_, text) in _KINDS.items()}


def create_encoder(
    kind: str, input_shape: int | Sequence[int | None], output_dim: int, **kwargs: Any
) -> nn.Module:
    """Build the encoder for one modality.

    Parameters
    ----------
    kind : {"vector", "image", "sequence", "audio", "embedding"}
        What one sample of the modality is (see the module docstring).
    input_shape : int or tuple
        Shape of one sample, without the batch axis: ``(F,)`` (or ``F``) for vectors and
        embeddings, ``(C, H, W)`` for images, ``(T, F)`` for sequences and audio (``T`` may be
        None: any length works).
    output_dim : int
        Size of the encoding.
    **kwargs
        Options of the encoder class, e.g. ``hidden_dims`` for vectors or ``arch`` for sequences.

    Returns
    -------
    torch.nn.Module
        Maps ``(N, *input_shape)`` to ``(N, output_dim)``.

    Examples
    --------
    >>> import torch
    >>> enc = create_encoder("image", (3, 32, 32), 16)
    >>> enc(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 16])
    """
    check_choice(kind, "kind", tuple(_KINDS))
    ndim, text = _KINDS[kind]
    shape: Any = (
        (input_shape,)
        if isinstance(input_shape, (int,)) and not isinstance(input_shape, bool)
        else input_shape
    )
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or len(shape) != ndim:
        raise InvalidInputError(
            f"`input_shape` for kind {kind!r} must be {text}, got {input_shape!r}."
        )
    try:
        if kind == "vector":
            return MLPEncoder(shape[0], output_dim, **kwargs)
        if kind == "image":
            check_int(shape[1], "input_shape[1]", minimum=1)
            check_int(shape[2], "input_shape[2]", minimum=1)
            return ConvEncoder(shape[0], output_dim, **kwargs)
        if kind in ("sequence", "audio"):
            if shape[0] is not None:
                check_int(shape[0], "input_shape[0]", minimum=1)
            return SequenceEncoder(shape[1], output_dim, **kwargs)
        return ProjectionEncoder(shape[0], output_dim, **kwargs)
    except TypeError as exc:
        raise InvalidInputError(f"Bad option for a {kind!r} encoder: {exc}.") from exc
