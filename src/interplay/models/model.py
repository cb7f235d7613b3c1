"""``MultimodalModel``: encoders per modality, a fusion module and a head."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..exceptions import InvalidInputError
from ._checks import check_mask, check_modality_inputs, zero_missing
from .fusion.base import FusionModule
from .output import ModelOutput


class MultimodalModel(nn.Module):
    """``head(fusion({m: encoder_m(x_m)}, mask))`` on a dict of modality inputs.

    Parameters
    ----------
    encoders : dict of str to nn.Module
        One encoder per modality of ``fusion``; each maps ``(N, ...)`` to what the fusion expects.
    fusion : FusionModule
        From :func:`~interplay.models.create_fusion`.
    head : nn.Module
        Maps ``(N, fusion.output_dim)`` to the prediction.

    Notes
    -----
    Inputs of missing modalities (``mask`` False) are replaced by zeros before their encoder, so
    any placeholder (even NaN) leaves the outputs and the gradients untouched. The forward pass
    returns a :class:`~interplay.models.ModelOutput`: the predictions (``.logits``), each
    modality's encoding, the fused representation, and for a product-of-experts fusion its
    Gaussian posterior as a latent. :meth:`decode` maps (possibly altered) encodings to
    predictions, which is how balancers and imbalance measures re-predict with a modality
    masked or permuted without encoding again.

    Examples
    --------
    >>> import torch
    >>> from interplay.models import create_encoder, create_fusion, create_head
    >>> model = MultimodalModel(
    ...     {"image": create_encoder("image", (1, 8, 8), 6), "tab": create_encoder("vector", 4, 6)},
    ...     create_fusion("gated", {"image": 6, "tab": 6}, 8),
    ...     create_head("classification", 8, 3),
    ... )
    >>> model({"image": torch.randn(2, 1, 8, 8), "tab": torch.randn(2, 4)}).logits.shape
    torch.Size([2, 3])
    """

    def __init__(
        self, encoders: Mapping[str, nn.Module], fusion: FusionModule, head: nn.Module
    ) -> None:
        super().__init__()
        if not isinstance(fusion, FusionModule):
            raise InvalidInputError(
                f"`fusion` must be a FusionModule (see create_fusion), got {type(fusion).__name__}."
            )
        if not isinstance(encoders, Mapping) or set(encoders) != set(fusion.modalities):
            got = sorted(encoders) if isinstance(encoders, Mapping) else type(encoders).__name__
            raise InvalidInputError(
                f"`encoders` must be a dict with one encoder per fusion modality "
                f"{list(fusion.modalities)}, got {got}."
            )
        if not isinstance(head, nn.Module):
            raise InvalidInputError(f"`head` must be an nn.Module, got {type(head).__name__}.")
        self.modalities = fusion.modalities
        self.encoders = nn.ModuleDict({m: encoders[m] for m in self.modalities})
        self.fusion = fusion
        self.head = head

    def encode(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Encoded modalities ``{m: (N, d_m)}``; missing inputs are zeroed before encoding."""
        xs = check_modality_inputs(
            inputs, self.modalities, None, allowed_ndim=None, require_float=False
        )
        m = check_mask(mask, xs[0].shape[0], len(xs), xs[0].device)
        return {
            name: self.encoders[name](zero_missing(x, m[:, i]))
            for i, (name, x) in enumerate(zip(self.modalities, xs, strict=True))
        }

    def fuse(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Fused representation ``(N, fusion.output_dim)``, before the head."""
        return self.fusion(self.encode(inputs, mask), mask)

    def decode(
        self, embeddings: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Predictions ``head(fusion(embeddings, mask))`` from encodings ``{m: (N, d_m)}``."""
        return self.head(self.fusion(embeddings, mask))

    def forward(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None
    ) -> ModelOutput:
        """Predictions and representations for a dict of modality inputs and an optional
        presence mask ``(N, n_modalities)`` (columns in :attr:`modalities` order)."""
        embeddings = self.encode(inputs, mask)
        latents = None
        posterior = getattr(self.fusion, "posterior", None)
        if callable(posterior):
            mean, var = posterior(embeddings, mask)
            fused, latents = mean, {"fused": (mean, var.log())}
        else:
            fused = self.fusion(embeddings, mask)
        return ModelOutput(self.head(fused), embeddings, fused, latents)
