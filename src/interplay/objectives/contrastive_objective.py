"""Contrastive training objectives on a fusion model's per-modality embeddings.

:class:`ContrastiveObjective` (registered as ``"contrastive"``) reads
``output.embeddings`` of a :class:`~interplay.models.ModelOutput` and sums a contrastive loss
over chosen pairs of modalities, each pair with its own learnable temperature. With ``hub`` it
is ImageBind's binding recipe: every modality is paired only with the hub. A YAML run selects
it with::

    objective: {name: contrastive, options: {modalities: [fou, kar, pix], hub: pix}}

Sequence embeddings ``(N, T, d)`` are mean-pooled over time. All paired embeddings must have
the same width: give every encoder the same ``output_dim``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import check_choice, check_float
from ..exceptions import InvalidInputError
from ..models.output import ModelOutput
from ..training.objective import Objective, predictions
from .contrastive import ClipLoss, SigLipLoss, barlow_twins_loss

__all__ = ["ContrastiveObjective"]

KINDS = ("clip", "siglip", "barlow")


class _Barlow(nn.Module):
    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return barlow_twins_loss(a, b)


class ContrastiveObjective(Objective):
    """Contrastive alignment of modality embeddings, optionally with a supervised term.

    Parameters
    ----------
    modalities : sequence of str, optional
        The model's modalities; with no ``pairs``, every pair of them is trained (or, with
        ``hub``, every pair with the hub).
    hub : str, optional
        Align each modality only with this one (binding).
    pairs : sequence of (str, str), optional
        Explicit pairs to align, instead of ``modalities``/``hub``.
    loss : {"clip", "siglip", "barlow"}, default "clip"
    supervised_weight : float, default 0.0
        Weight of a cross-entropy term on the model's predictions (0: purely contrastive).
    """

    name = "contrastive"
    description = ("Contrastive alignment of modality embeddings (CLIP, SigLIP or Barlow Twins) "
                   "over all pairs or through a hub (binding).")
    learns_representations = True
    min_batch_size = 2

    def __init__(self, modalities: Sequence[str] | None = None, *, hub: str | None = None,
                 pairs: Sequence[Sequence[str]] | None = None, loss: str = "clip",
                 supervised_weight: float = 0.0) -> None:
        super().__init__()
        self.kind = check_choice(loss, "loss", KINDS)
        self.supervised_weight = check_float(supervised_weight, "supervised_weight", low=0.0)
        self._pairs = self._resolve_pairs(modalities, hub, pairs)
        make = {"clip": ClipLoss, "siglip": SigLipLoss, "barlow": _Barlow}[self.kind]
        self.losses = nn.ModuleDict({f"{a}|{b}": make() for a, b in self._pairs})
        self.term_names = tuple(f"align_{a}_{b}" for a, b in self._pairs) + (
            ("supervised",) if self.supervised_weight else ())

    @staticmethod
    def _resolve_pairs(modalities: Sequence[str] | None, hub: str | None,
                       pairs: Sequence[Sequence[str]] | None) -> list[tuple[str, str]]:
        if pairs is not None:
            out = [tuple(p) for p in pairs]
            if not out or any(len(p) != 2 or p[0] == p[1] for p in out):
                raise InvalidInputError(
                    f"`pairs` must list pairs of two different modalities; got {pairs!r}")
            return [(str(a), str(b)) for a, b in out]
        mods = [str(m) for m in (modalities or [])]
        if len(mods) < 2:
            raise InvalidInputError(
                f"`modalities` must name at least two modalities to align; got {modalities!r}")
        if hub is None:
            return [(a, b) for i, a in enumerate(mods) for b in mods[i + 1:]]
        if hub not in mods:
            raise InvalidInputError(f"`hub` {hub!r} is not among the modalities {mods}")
        return [(m, hub) for m in mods if m != hub]

    def forward(self, output: Any, batch: Mapping[str, Tensor],
                target: Any) -> dict[str, Tensor]:
        if not isinstance(output, ModelOutput):
            raise InvalidInputError(
                "The contrastive objective needs a model that returns a ModelOutput with "
                f"per-modality embeddings; got {type(output).__name__}.")
        emb = {m: (z.mean(dim=1) if z.ndim == 3 else z) for m, z in output.embeddings.items()}
        result: dict[str, Tensor] = {}
        for a, b in self._pairs:
            for m in (a, b):
                if m not in emb:
                    raise InvalidInputError(
                        f"modality {m!r} has no embedding in the model's output; it has "
                        f"{sorted(emb)}")
            if emb[a].shape[-1] != emb[b].shape[-1]:
                raise InvalidInputError(
                    f"embeddings of {a!r} ({emb[a].shape[-1]}) and {b!r} ({emb[b].shape[-1]}) "
                    "differ in width: give both encoders the same output_dim")
            result[f"align_{a}_{b}"] = self.losses[f"{a}|{b}"](emb[a], emb[b])
        total = torch.stack(list(result.values())).sum()
        if self.supervised_weight:
            result["supervised"] = F.cross_entropy(predictions(output), target)
            total = total + self.supervised_weight * result["supervised"]
        result["loss"] = total
        return result
