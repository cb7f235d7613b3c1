"""A small full-batch-in-memory training loop for an objective, and representation read-out.

For runs with checkpoints, resume and DDP use :class:`~interplay.training.Task` and the
trainer; this loop is for studies and notebooks on data that fits in memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .._validation import check_float, check_int
from ..exceptions import ConvergenceError, InvalidInputError
from ._loop import EpochMeans, minibatches
from .compiler import IBObjective

__all__ = ["encode_arrays", "fit_objective"]


def _tensors(data: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in data.items():
        arr = np.asarray(v)
        out[k] = torch.as_tensor(arr, dtype=torch.float32 if arr.dtype.kind == "f" else
                                 torch.long)
    return out


def fit_objective(objective: IBObjective, data: Mapping[str, Any], target: Any = None, *,
                  epochs: int = 50, batch_size: int = 128, lr: float = 1e-3,
                  seed: int = 0) -> list[dict[str, float]]:
    """Train ``objective`` with Adam on in-memory arrays; return per-epoch mean terms.

    Parameters
    ----------
    objective : IBObjective
    data : dict of str to array
        Observed variables, ``(n_samples, ...)`` each.
    target : array, optional
        Labels for an objective with a ``target`` variable.
    epochs, batch_size, lr, seed
        Optimisation settings; ``seed`` fixes initialisation-independent randomness (batch
        order and reparameterisation noise).

    Returns
    -------
    list of dict
        One ``{"loss": ..., term: ...}`` per epoch (means over batches, nats).
    """
    if not isinstance(objective, IBObjective):
        raise InvalidInputError(f"`objective` must be an IBObjective, got "
                                f"{type(objective).__name__}.")
    epochs = check_int(epochs, "epochs", minimum=1)
    b = check_int(batch_size, "batch_size", minimum=2)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    xs = _tensors(data)
    yt = None if target is None else torch.as_tensor(np.asarray(target), dtype=torch.long)
    n = next(iter(xs.values())).shape[0]
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    opt = torch.optim.Adam(objective.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    objective.train()
    for epoch in range(epochs):
        means = EpochMeans()
        for idx in minibatches(n, b, gen, drop_last=True):
            out = objective(None, {k: v[idx] for k, v in xs.items()},
                            None if yt is None else yt[idx])
            if not torch.isfinite(out["loss"]):
                raise ConvergenceError(f"The loss became {float(out['loss'])} in epoch {epoch}; "
                                       f"lower `lr` or `beta`.")
            opt.zero_grad()
            out["loss"].backward()
            opt.step()
            means.add(out)
        if means.batches == 0:
            raise InvalidInputError(f"`batch_size`={b} is larger than the {n} samples.")
        history.append(means.means())
    objective.eval()
    if not math.isfinite(history[-1]["loss"]):
        raise ConvergenceError("Training ended with a non-finite loss.")
    return history


def encode_arrays(objective: IBObjective, data: Mapping[str, Any], latent: str,
                  target: Any = None, batch_size: int = 1024) -> np.ndarray:
    """The mean of latent ``latent`` for every row of ``data``, as ``(n_samples, dim)``."""
    if latent not in objective.graph.latents:
        raise InvalidInputError(f"`latent` must be one of {sorted(objective.graph.latents)}; "
                                f"got {latent!r}.")
    xs = _tensors(data)
    yt = None if target is None else torch.as_tensor(np.asarray(target), dtype=torch.long)
    n = next(iter(xs.values())).shape[0]
    objective.eval()
    parts = []
    with torch.no_grad():
        for i in range(0, n, batch_size):
            sl = slice(i, i + batch_size)
            enc = objective.encode({k: v[sl] for k, v in xs.items()},
                                   None if yt is None else yt[sl], latents=[latent],
                                   sample=False)
            parts.append(enc[latent][0].numpy())
    return np.concatenate(parts).astype(np.float64)
