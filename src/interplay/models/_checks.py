"""Boundary checks for the torch models: modality dimensions, input tensors and masks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .._validation import check_int
from ..exceptions import InvalidInputError


def check_input_dims(
    input_dims: Any, name: str = "input_dims", *, minimum: int = 2
) -> dict[str, int]:
    """Return ``{modality: feature_dim}`` from a dict or a list of positive ints.

    A list names its modalities ``"0", "1", ...`` in order. Names must be non-empty strings
    without a dot (``nn.ModuleDict`` keys).
    """
    if isinstance(input_dims, Mapping):
        items = list(input_dims.items())
    elif isinstance(input_dims, Sequence) and not isinstance(input_dims, (str, bytes)):
        items = [(str(i), d) for i, d in enumerate(input_dims)]
    else:
        raise InvalidInputError(
            f"`{name}` must be a dict {{modality: feature_dim}} or a list of feature dims, "
            f"got {type(input_dims).__name__}."
        )
    if len(items) < minimum:
        raise InvalidInputError(
            f"`{name}` must name at least {minimum} modalities, got {len(items)}."
            + (" For a single modality use UnimodalModel." if minimum == 2 else "")
        )
    dims: dict[str, int] = {}
    for key, dim in items:
        if not isinstance(key, str) or not key or "." in key:
            raise InvalidInputError(
                f"`{name}` keys must be non-empty strings without '.', got {key!r}."
            )
        dims[key] = check_int(dim, f"{name}[{key!r}]", minimum=1)
    return dims


def _as_list(inputs: Any, modalities: tuple[str, ...], name: str) -> list[Any]:
    if isinstance(inputs, Mapping):
        keys = set(inputs)
        if keys != set(modalities):
            missing = sorted(set(modalities) - keys)
            extra = sorted(keys - set(modalities))
            raise InvalidInputError(
                f"`{name}` must hold exactly the modalities {list(modalities)}; "
                f"missing {missing}, unexpected {extra}. Pass a placeholder (e.g. zeros) for an "
                "absent modality and mark it False in `mask`."
            )
        return [inputs[m] for m in modalities]
    if isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
        if len(inputs) != len(modalities):
            raise InvalidInputError(
                f"`{name}` must hold {len(modalities)} tensors (one per modality "
                f"{list(modalities)}), got {len(inputs)}."
            )
        return list(inputs)
    raise InvalidInputError(
        f"`{name}` must be a dict {{modality: tensor}} or a list of tensors, "
        f"got {type(inputs).__name__}."
    )


def check_modality_inputs(
    inputs: Any,
    modalities: tuple[str, ...],
    dims: Mapping[str, int] | None,
    *,
    allowed_ndim: tuple[int, ...] | None = (2,),
    require_float: bool = True,
    name: str = "inputs",
) -> list[torch.Tensor]:
    """Validate one tensor per modality with a shared batch size.

    ``dims`` gives the expected size of each tensor's last axis (``None`` skips that check);
    ``allowed_ndim`` the accepted numbers of axes (2: ``(N, d)``, 3: ``(N, T, d)``; ``None``:
    any, with a batch axis); ``require_float`` refuses integer tensors.
    """
    xs = _as_list(inputs, modalities, name)
    batch: int | None = None
    for m, x in zip(modalities, xs, strict=True):
        if not isinstance(x, torch.Tensor):
            raise InvalidInputError(
                f"`{name}[{m!r}]` must be a torch.Tensor, got {type(x).__name__}."
            )
        if require_float and not x.is_floating_point():
            raise InvalidInputError(
                f"`{name}[{m!r}]` must be a floating-point tensor, got dtype {x.dtype}."
            )
        if allowed_ndim is None:
            if x.ndim == 0:
                raise InvalidInputError(f"`{name}[{m!r}]` must have a batch axis, got a scalar.")
        elif x.ndim not in allowed_ndim:
            shapes = " or ".join(
                {2: "(N, d)", 3: "(N, T, d)"}.get(k, f"{k}-D") for k in allowed_ndim
            )
            raise InvalidInputError(
                f"`{name}[{m!r}]` must have shape {shapes}, got shape {tuple(x.shape)}."
            )
        if dims is not None and x.shape[-1] != dims[m]:
            raise InvalidInputError(
                f"`{name}[{m!r}]` must have {dims[m]} features on its last axis, "
                f"got shape {tuple(x.shape)}."
            )
        if batch is None:
            batch = x.shape[0]
        elif x.shape[0] != batch:
            raise InvalidInputError(
                f"All modalities in `{name}` must share the batch size; "
                f"{modalities[0]!r} has {batch}, {m!r} has {x.shape[0]}."
            )
    return xs


def check_mask(mask: Any, n_samples: int, n_modalities: int, device: torch.device) -> torch.Tensor:
    """Return a boolean ``(n_samples, n_modalities)`` mask (all True when ``mask`` is None)."""
    if mask is None:
        return torch.ones(n_samples, n_modalities, dtype=torch.bool, device=device)
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        got = f"dtype {mask.dtype}" if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise InvalidInputError(
            f"`mask` must be a boolean tensor (True = modality present), got {got}."
        )
    if tuple(mask.shape) != (n_samples, n_modalities):
        raise InvalidInputError(
            f"`mask` must have shape (n_samples, n_modalities) = ({n_samples}, {n_modalities}), "
            f"got {tuple(mask.shape)}."
        )
    return mask.to(device)


def zero_missing(x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Replace the rows of ``x`` whose ``present`` flag is False by zeros (NaN-safe)."""
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    return torch.where(present.view(shape), x, torch.zeros((), dtype=x.dtype, device=x.device))
