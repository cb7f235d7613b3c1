"""The base class of fusion modules and the registry behind :func:`create_fusion`.

A fusion module maps one encoded tensor per modality, ``(N, d_m)``, to one fused
representation ``(N, output_dim)``. An optional boolean mask ``(N, n_modalities)`` marks which
modalities are present per sample (columns in the order of ``input_dims``); a missing
modality never influences the output. A new fusion is one small subclass with a ``name``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from ..._validation import check_choice, check_int
from ...exceptions import InvalidInputError
from .._checks import check_input_dims, check_mask, check_modality_inputs, zero_missing

_REGISTRY: dict[str, type[FusionModule]] = {}


class FusionModule(nn.Module, ABC):
    """Fuse encoded modalities into one vector per sample.

    Parameters
    ----------
    input_dims : dict of str to int, or list of int
        Feature size of each modality; a list names the modalities ``"0", "1", ...``.
    output_dim : int
        Size of the fused representation.

    Attributes
    ----------
    modalities : tuple of str
        Modality names, in the column order of ``mask``.
    input_dims : dict of str to int
    output_dim : int
    """

    name: ClassVar[str]
    description: ClassVar[str]
    #: True when inputs may also be token sequences ``(N, T, d_m)``.
    accepts_sequences: ClassVar[bool] = False
    #: What interactions it can represent, in one sentence (the reasons of
    #: :func:`interplay.recommend_fusion`).
    represents: ClassVar[str] = ""
    #: Rank by simplicity (fewer parameters and cross-modal terms first); breaks ties between
    #: fusions predicted equally accurate by :func:`interplay.recommend_fusion`.
    simplicity: ClassVar[int] = 100

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _REGISTRY[cls.name] = cls

    def __init__(self, input_dims: Mapping[str, int] | Sequence[int], output_dim: int) -> None:
        super().__init__()
        self.input_dims = check_input_dims(input_dims)
        self.modalities = tuple(self.input_dims)
        self.output_dim = check_int(output_dim, "output_dim", minimum=1)

    def prepare(
        self, inputs: Mapping[str, torch.Tensor] | Sequence[torch.Tensor], mask: torch.Tensor | None
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Validate inputs and mask; return the inputs with missing rows zeroed, and the mask."""
        ndim = (2, 3) if self.accepts_sequences else (2,)
        xs = check_modality_inputs(inputs, self.modalities, self.input_dims, allowed_ndim=ndim)
        m = check_mask(mask, xs[0].shape[0], len(xs), xs[0].device)
        return [zero_missing(x, m[:, i]) for i, x in enumerate(xs)], m

    def forward(
        self,
        inputs: Mapping[str, torch.Tensor] | Sequence[torch.Tensor],
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Fused representation of shape ``(N, output_dim)``.

        Parameters
        ----------
        inputs : dict of str to Tensor, or list of Tensor
            One tensor of shape ``(N, d_m)`` per modality (``(N, T, d_m)`` also for fusions with
            ``accepts_sequences``). Values of missing modalities are ignored; any finite or
            non-finite placeholder will do.
        mask : Tensor of bool, shape (N, n_modalities), optional
            True where a modality is present. Default: all present.
        """
        xs, m = self.prepare(inputs, mask)
        return self.fuse(xs, m)

    @abstractmethod
    def fuse(self, xs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        """Fuse validated inputs (missing rows already zero) under a boolean mask."""

    def extra_repr(self) -> str:
        return f"input_dims={self.input_dims}, output_dim={self.output_dim}"


def list_fusions() -> dict[str, str]:
    """Names of the registered fusion modules with a one-line description each.

    Examples
    --------
    >>> "tensor" in list_fusions()
    True
    """
    return {name: cls.description for name, cls in sorted(_REGISTRY.items())}


def fusion_class(name: str) -> type[FusionModule]:
    """The registered fusion class called ``name`` (one of :func:`list_fusions`)."""
    check_choice(name, "name", tuple(sorted(_REGISTRY)))
    return _REGISTRY[name]


def create_fusion(
    name: str,
    input_dims: Mapping[str, int] | Sequence[int],
    output_dim: int,
    **kwargs: Any,
) -> FusionModule:
    """Build a registered fusion module by name.

    Parameters
    ----------
    name : str
        One of :func:`list_fusions`.
    input_dims : dict of str to int, or list of int
        Feature size of each (encoded) modality, at least two modalities.
    output_dim : int
        Size of the fused representation.
    **kwargs
        Options of that fusion (e.g. ``rank`` for ``"low_rank_tensor"``).

    Returns
    -------
    FusionModule

    Examples
    --------
    >>> import torch
    >>> f = create_fusion("low_rank_tensor", {"image": 8, "audio": 4}, 16, rank=3)
    >>> f({"image": torch.randn(5, 8), "audio": torch.randn(5, 4)}).shape
    torch.Size([5, 16])
    """
    check_choice(name, "name", tuple(sorted(_REGISTRY)))
    cls = _REGISTRY[name]
    params = inspect.signature(cls.__init__).parameters
    allowed = [p for p in params if p not in ("self", "input_dims", "output_dim")]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise InvalidInputError(
            f"Fusion {name!r} got unknown option(s) {unknown}; it accepts {allowed}."
        )
    return cls(input_dims, output_dim, **kwargs)
