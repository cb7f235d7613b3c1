"""Unimodal baselines and their ensemble: the comparisons every fusion model should face.

Both take the same dict of modality inputs (and optional presence mask) as
:class:`~interplay.models.MultimodalModel`, so they drop into the same training and evaluation
code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from .._validation import check_choice
from ..exceptions import InvalidInputError
from ._checks import check_mask, zero_missing
from .output import ModelOutput


class UnimodalModel(nn.Module):
    """``head(encoder(x[modality]))``: a model that sees one modality only.

    Other entries of the input dict are ignored. When ``mask`` marks the modality missing, the
    input is replaced by zeros, so the prediction does not depend on the placeholder.

    Examples
    --------
    >>> import torch
    >>> from interplay.models import create_encoder, create_head
    >>> enc, head = create_encoder("vector", 4, 8), create_head("classification", 8, 3)
    >>> m = UnimodalModel("audio", enc, head)
    >>> m({"audio": torch.randn(2, 4), "image": torch.randn(2, 1, 8, 8)}).logits.shape
    torch.Size([2, 3])
    """

    def __init__(self, modality: str, encoder: nn.Module, head: nn.Module) -> None:
        super().__init__()
        if not isinstance(modality, str) or not modality:
            raise InvalidInputError(f"`modality` must be a non-empty string, got {modality!r}.")
        for name, mod in (("encoder", encoder), ("head", head)):
            if not isinstance(mod, nn.Module):
                raise InvalidInputError(f"`{name}` must be an nn.Module, got {type(mod).__name__}.")
        self.modality = modality
        self.encoder = encoder
        self.head = head

    @property
    def modalities(self) -> tuple[str, ...]:
        """The one modality this model reads."""
        return (self.modality,)

    @property
    def encoders(self) -> dict[str, nn.Module]:
        """``{modality: encoder}``, the per-modality structure balancers read."""
        return {self.modality: self.encoder}

    def forward(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None
    ) -> ModelOutput:
        """Prediction from ``inputs[modality]``; ``mask`` is ``(N,)`` or ``(N, 1)`` booleans.

        The output's ``embeddings`` and ``fused`` hold the encoding the head read."""
        if not isinstance(inputs, Mapping) or self.modality not in inputs:
            got = sorted(inputs) if isinstance(inputs, Mapping) else type(inputs).__name__
            raise InvalidInputError(
                f"`inputs` must be a dict holding modality {self.modality!r}, got {got}."
            )
        x = inputs[self.modality]
        if not isinstance(x, torch.Tensor) or x.ndim == 0:
            raise InvalidInputError(
                f"`inputs[{self.modality!r}]` must be a tensor with a batch axis, got {x!r:.60}."
            )
        if mask is not None:
            m = mask.unsqueeze(1) if isinstance(mask, torch.Tensor) and mask.ndim == 1 else mask
            x = zero_missing(x, check_mask(m, x.shape[0], 1, x.device)[:, 0])
        z = self.encoder(x)
        return ModelOutput(self.head(z), {self.modality: z}, z)


class UnimodalEnsemble(nn.Module):
    """Average of unimodal models over the modalities present in each sample.

    Parameters
    ----------
    models : dict of str to UnimodalModel, or list of UnimodalModel
        One model per modality; a list is keyed by each model's ``modality``.
    combine : {"probabilities", "mean"}
        ``"probabilities"`` (classification): average the softmax probabilities and return their
        log, so ``argmax`` and ``nn.CrossEntropyLoss``/``nn.NLLLoss`` work on the output; a sample
        with no modality gets the uniform distribution. ``"mean"`` (regression, embeddings):
        average the outputs; a sample with no modality gets zeros.

    Attributes
    ----------
    modalities : tuple of str
        Column order of ``mask``.

    Examples
    --------
    >>> import torch
    >>> from interplay.models import create_encoder, create_head
    >>> models = [
    ...     UnimodalModel(m, create_encoder("vector", 4, 8), create_head("classification", 8, 3))
    ...     for m in ("a", "b")
    ... ]
    >>> ens = UnimodalEnsemble(models)
    >>> logp = ens({"a": torch.randn(2, 4), "b": torch.randn(2, 4)}).logits
    >>> torch.allclose(logp.exp().sum(dim=1), torch.ones(2))
    True
    """

    def __init__(
        self,
        models: Mapping[str, UnimodalModel] | Sequence[UnimodalModel],
        combine: str = "probabilities",
    ) -> None:
        super().__init__()
        self.combine = check_choice(combine, "combine", ("probabilities", "mean"))
        items: list[tuple[Any, Any]]
        if isinstance(models, Mapping):
            items = list(models.items())
        elif isinstance(models, Sequence) and not isinstance(models, (str, bytes)):
            items = [(getattr(m, "modality", None), m) for m in models]
        else:
            raise InvalidInputError(
                f"`models` must be a dict or list of UnimodalModel, got {type(models).__name__}."
            )
        if len(items) < 2:
            raise InvalidInputError(
                f"`models` must hold at least 2 unimodal models, got {len(items)}."
            )
        for key, model in items:
            if not isinstance(model, UnimodalModel) or key != model.modality:
                raise InvalidInputError(
                    "`models` must map each modality to a UnimodalModel of that modality; "
                    f"got key {key!r} for {type(model).__name__} "
                    f"{getattr(model, 'modality', '')!r}."
                )
        if len({k for k, _ in items}) != len(items):
            raise InvalidInputError("`models` must hold one model per modality, got duplicates.")
        self.modalities = tuple(k for k, _ in items)
        self.models = nn.ModuleDict(dict(items))

    def forward_each(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Each unimodal model's own prediction, ``{modality: (N, k)}`` (e.g. for per-model
        losses)."""
        return {m: out.logits for m, out in self._each(inputs, self._present(inputs, mask)).items()}

    def _present(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None
    ) -> torch.Tensor:
        if not isinstance(inputs, Mapping) or not set(self.modalities) <= set(inputs):
            got = sorted(inputs) if isinstance(inputs, Mapping) else type(inputs).__name__
            raise InvalidInputError(
                f"`inputs` must be a dict holding the modalities {list(self.modalities)}; "
                f"got {got}."
            )
        x0 = inputs[self.modalities[0]]
        return check_mask(mask, x0.shape[0], len(self.modalities), x0.device)

    def _each(
        self, inputs: Mapping[str, torch.Tensor], present: torch.Tensor
    ) -> dict[str, ModelOutput]:
        return {m: self.models[m](inputs, present[:, i]) for i, m in enumerate(self.modalities)}

    @property
    def encoders(self) -> dict[str, nn.Module]:
        """``{modality: that modality's whole model}``: every parameter belongs to one
        modality."""
        return dict(self.models.items())

    def forward(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None
    ) -> ModelOutput:
        """Combined prediction ``(N, k)`` as ``.logits`` (log of averaged probabilities, or
        averaged outputs), with each model's encoding in ``.embeddings``."""
        present = self._present(inputs, mask)
        each = self._each(inputs, present)
        embeddings = {m: next(iter(out.embeddings.values())) for m, out in each.items()}
        return ModelOutput(self._combine(each, present), embeddings)

    def _combine(self, each: dict[str, ModelOutput], present: torch.Tensor) -> torch.Tensor:
        stacked = torch.stack([each[m].logits for m in self.modalities], dim=1)
        count = present.sum(dim=1, keepdim=True).to(stacked.dtype)
        if self.combine == "mean":
            w = (present.to(stacked.dtype) / count.clamp(min=1.0)).unsqueeze(-1)
            return (stacked * w).sum(dim=1)
        # log sum_m w_m p_m, computed in log space; rows with nothing present get log(1/k).
        logp = torch.log_softmax(stacked, dim=-1) - torch.log(count.clamp(min=1.0)).unsqueeze(-1)
        logp = logp.masked_fill(~present.unsqueeze(-1), torch.finfo(stacked.dtype).min)
        mixed = torch.logsumexp(logp, dim=1)
        uniform = torch.full_like(mixed, -math.log(stacked.shape[-1]))
        return torch.where(count > 0, mixed, uniform)
