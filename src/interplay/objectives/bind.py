"""Binding many modalities through one hub (ImageBind's recipe; Girdhar et al., CVPR 2023).

One encoder per modality maps into a common ``dim``-dimensional space. Each non-hub modality is
aligned *only with the hub* by a contrastive loss (CLIP's symmetric InfoNCE with a learnable
temperature, or SigLIP); pairs of non-hub modalities are never trained together. Whether two
non-hub modalities become retrievable from each other anyway (*emergent* alignment) is then a
measurement: :func:`interplay.alignment.retrieval_metrics` on their embeddings.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> data = {m: rng.standard_normal((64, 3)) for m in ("img", "aud", "txt")}
>>> model = BindModel({m: 3 for m in data}, hub="img", dim=4)
>>> sorted(model.pairs())
[('aud', 'img'), ('txt', 'img')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError
from ._loop import EpochMeans, minibatches
from .contrastive import ClipLoss, SigLipLoss
from .critics import mlp

__all__ = ["BindModel", "fit_bind"]

LOSSES = ("clip", "siglip")


class BindModel(nn.Module):
    """Encoders for several modalities, each aligned with a hub modality only.

    Parameters
    ----------
    dims : dict of str to int
        Feature count of each modality (vectors).
    hub : str
        The modality every other one is aligned with.
    dim : int, default 64
        Width of the shared embedding space.
    hidden : sequence of int, default (256,)
        Hidden widths of each encoder.
    loss : {"clip", "siglip"}, default "clip"
        Contrastive loss of each (modality, hub) pair; each pair has its own learnable scale.
    pairs : sequence of (str, str), optional
        Train these pairs instead of every (modality, hub) pair; used to train a *direct*
        reference model on a non-hub pair.
    """

    def __init__(self, dims: Mapping[str, int], hub: str, *, dim: int = 64,
                 hidden: Sequence[int] = (256,), loss: str = "clip",
                 pairs: Sequence[tuple[str, str]] | None = None) -> None:
        super().__init__()
        if not isinstance(dims, Mapping) or len(dims) < 2:
            raise InvalidInputError(f"dims must map at least two modality names to feature counts; "
                                    f"got {dims!r}")
        if hub not in dims:
            raise InvalidInputError(f"hub {hub!r} is not among the modalities {sorted(dims)}")
        self.hub = hub
        self.loss_name = check_choice(loss, "loss", LOSSES)
        width = check_int(dim, "dim", minimum=1)
        self.encoders = nn.ModuleDict({
            m: mlp(check_int(d, f"dims[{m!r}]", minimum=1), width, hidden) for m, d in dims.items()
        })
        chosen = [(m, hub) for m in dims if m != hub] if pairs is None else list(pairs)
        for a, b in chosen:
            if a not in dims or b not in dims or a == b:
                raise InvalidInputError(f"pair ({a!r}, {b!r}) must name two different modalities "
                                        f"among {sorted(dims)}")
        self._pairs = [tuple(p) for p in chosen]
        make = ClipLoss if self.loss_name == "clip" else SigLipLoss
        self.losses = nn.ModuleDict({f"{a}|{b}": make() for a, b in self._pairs})

    def pairs(self) -> list[tuple[str, str]]:
        """The (modality, partner) pairs that are trained together."""
        return list(self._pairs)

    def embed(self, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Embeddings of every modality present in ``batch``."""
        out = {}
        for m, x in batch.items():
            if m not in self.encoders:
                raise InvalidInputError(f"unknown modality {m!r}; the model has "
                                        f"{sorted(self.encoders)}")
            if not bool(torch.isfinite(x).all()):
                raise InvalidInputError(f"modality {m!r} contains NaN or infinite values")
            out[m] = self.encoders[m](x)
        return out

    def forward(self, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """One loss term per trained pair (``"a|b"``) and ``loss``, their sum."""
        z = self.embed(batch)
        terms = {f"{a}|{b}": self.losses[f"{a}|{b}"](z[a], z[b]) for a, b in self._pairs}
        terms["loss"] = torch.stack(list(terms.values())).sum()
        return terms


def fit_bind(model: BindModel, data: Mapping[str, Any], *, epochs: int = 30,
             batch_size: int = 128, lr: float = 1e-3, seed: int = 0) -> list[dict[str, float]]:
    """Train a :class:`BindModel` with Adam on row-paired arrays; per-epoch mean terms (nats)."""
    epochs = check_int(epochs, "epochs", minimum=1)
    b = check_int(batch_size, "batch_size", minimum=2)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    needed = {m for pair in model.pairs() for m in pair}
    missing = needed - set(data)
    if missing:
        raise InvalidInputError(f"data lacks modalities {sorted(missing)} that the model trains")
    tensors = {m: torch.as_tensor(np.asarray(data[m], dtype=np.float32)) for m in needed}
    n = {len(t) for t in tensors.values()}
    if len(n) != 1:
        raise InvalidInputError(f"every modality must hold the same number of rows; got {n}")
    rows = n.pop()
    if rows < 2:
        raise InvalidInputError("binding needs at least two rows (a batch of one has no negatives)")
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        means = EpochMeans()
        for idx in minibatches(rows, b, gen):
            terms = model({m: t[idx] for m, t in tensors.items()})
            opt.zero_grad()
            terms["loss"].backward()
            opt.step()
            means.add(terms)
        history.append(means.means())
    return history
