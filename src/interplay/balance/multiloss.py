"""Balancers that add unimodal heads: multi-loss training, gradient blending, MMPareto."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .._validation import check_float, check_int
from ._common import (
    UnimodalHeads,
    encoder_dims,
    flat_grad,
    head_task,
    set_flat_grad,
    supervised_loss,
)
from .base import Balancer, Groups


class MultiLoss(Balancer):
    """Multi-loss training: a linear head on each modality's encoding, trained with the same
    supervised loss, its loss added to the model's with weight ``weight``.

    Every encoder then gets a gradient of its own, however much the fusion leans on another
    modality. The terms ``uni_<m>`` are logged each epoch. The unimodal heads are trained and
    checkpointed with the model; predictions still come from the model's own head.

    Parameters
    ----------
    weight : float, default 1.0
        Weight of each unimodal loss.

    Examples
    --------
    >>> MultiLoss(weight=0.5).weight
    0.5
    """

    name = "multi_loss"
    description = "Add a unimodal head and loss per modality (multi-loss training)."
    acts_on = frozenset({"loss"})
    needs_decode = False

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = check_float(weight, "weight", low=0.0)

    def build(self, model: nn.Module) -> None:
        self.task, n_out = head_task(model, self.name)
        self.unimodal = UnimodalHeads(encoder_dims(model, self.modalities, self.name), n_out)
        self.term_names = tuple(f"uni_{m}" for m in self.modalities)

    def unimodal_losses(self, output: Any, target: Any) -> dict[str, torch.Tensor]:
        logits = self.unimodal(output.embeddings)
        return {m: supervised_loss(self.task, logits[m], target) for m in self.modalities}

    def extra_terms(self, output: Any, batch: Mapping[str, torch.Tensor],
                    target: Any) -> dict[str, torch.Tensor]:
        return {f"uni_{m}": self.weight * loss
                for m, loss in self.unimodal_losses(output, target).items()}

    def extra_repr(self) -> str:
        return f"weight={self.weight}"


class GradientBlending(Balancer):
    """Gradient blending (Wang, Tran & Feiszli, CVPR 2020): weigh the multimodal loss and one
    unimodal loss per modality by how well each head generalises.

    Each head ``k`` (the model's, ``"fused"``, and one linear head per modality) has its
    training and validation loss measured every epoch. After ``interval`` epochs its
    overfitting-to-generalisation ratio gives its weight,
    ``w_k ∝ ΔG_k / ΔO_k²`` with ``ΔG_k`` the drop of its validation loss and ``ΔO_k`` the change
    of its overfitting (validation minus training loss) over those epochs; weights are
    normalised to sum to 1 and start uniform. The total loss is then
    ``w_fused L_fused + Σ_m w_m L_m`` (added as the terms ``blend_fused`` -- the correction to
    the objective's own supervised loss -- and ``uni_<m>``).

    Choices the paper leaves open (ours): the validation split that the trainer already uses
    for early stopping is the held-out set of the ratio; a head whose validation loss did not
    drop gets ``ΔG = 0`` (weight 0 unless every head stalls, then uniform); ``ΔO`` is clipped
    below at ``1e-3`` (the paper's ratio explodes as overfitting vanishes); the unimodal losses
    are logged unweighted as ``gb_loss_<k>`` and the weights as ``gb_w_<k>``. It needs
    validation data.

    Parameters
    ----------
    interval : int, default 1
        Epochs between weight updates (the paper's "super-epoch").
    """

    name = "gradient_blending"
    description = "Weigh multimodal and unimodal losses by overfitting-to-generalisation ratio."
    acts_on = frozenset({"loss"})

    def __init__(self, interval: int = 1) -> None:
        super().__init__()
        self.interval = check_int(interval, "interval", minimum=1)

    def build(self, model: nn.Module) -> None:
        self.task, n_out = head_task(model, self.name)
        self.unimodal = UnimodalHeads(encoder_dims(model, self.modalities, self.name), n_out)
        k = len(self.modalities) + 1
        self.register_buffer("weights", torch.full((k,), 1.0 / k, dtype=torch.float64))
        self.register_buffer("reference", torch.full((k, 2), float("nan"), dtype=torch.float64))
        self.term_names = ("blend_fused", *(f"uni_{m}" for m in self.modalities))
        self.metric_names = tuple(f"gb_loss_{k}" for k in self.heads)
        self._raw: dict[str, torch.Tensor] = {}

    @property
    def heads(self) -> tuple[str, ...]:
        return ("fused", *self.modalities)

    def extra_terms(self, output: Any, batch: Mapping[str, torch.Tensor],
                    target: Any) -> dict[str, torch.Tensor]:
        w = self.weights.to(output.logits.dtype)
        fused = supervised_loss(self.task, output.logits, target)
        logits = self.unimodal(output.embeddings)
        uni = {m: supervised_loss(self.task, logits[m], target) for m in self.modalities}
        self._raw = {"gb_loss_fused": fused.detach(),
                     **{f"gb_loss_{m}": v.detach() for m, v in uni.items()}}
        terms = {"blend_fused": (w[0] - 1.0) * fused}
        terms.update({f"uni_{m}": w[i + 1] * uni[m] for i, m in enumerate(self.modalities)})
        return terms

    def metrics(self, output: Any, batch: Mapping[str, torch.Tensor],
                target: Any) -> dict[str, torch.Tensor]:
        return self._raw

    def _losses(self, logs: Mapping[str, float], split: str) -> list[float] | None:
        keys = [f"{split}_gb_loss_{k}" for k in self.heads]
        return [logs[k] for k in keys] if all(k in logs for k in keys) else None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> dict[str, float]:
        train, val = self._losses(logs, "train"), self._losses(logs, "val")
        if train is None or val is None:
            return {}
        now = torch.tensor([train, val], dtype=torch.float64,
                           device=self.reference.device).T  # (k, 2): train, val
        if (epoch + 1) % self.interval == 0:
            before = self.reference
            if bool(torch.isfinite(before).all()) and bool(torch.isfinite(now).all()):
                gain = (before[:, 1] - now[:, 1]).clamp(min=0.0)
                over = ((now[:, 1] - now[:, 0]) - (before[:, 1] - before[:, 0])).clamp(min=1e-3)
                raw = gain / over**2
                total = raw.sum()
                self.weights.copy_(raw / total if total > 0
                                   else torch.full_like(raw, 1.0 / raw.numel()))
            if bool(torch.isfinite(now).all()):
                self.reference.copy_(now)
        return {f"gb_w_{k}": float(w) for k, w in zip(self.heads, self.weights, strict=True)}

    def extra_repr(self) -> str:
        return f"interval={self.interval}"


class MMPareto(MultiLoss):
    """MMPareto (Wei & Hu, ICML 2024): unimodal heads as in :class:`MultiLoss`, and for each
    modality's encoder a Pareto-integrated gradient of the multimodal and its unimodal loss.

    For encoder ``m`` with multimodal gradient ``g_mm`` and unimodal gradient ``g_u`` (each
    over all of the encoder's parameters as one vector): without conflict (``cos >= 0``) the
    update is ``g_mm + g_u``; with conflict it takes the minimum-norm convex combination
    ``d = a g_mm + (1 - a) g_u``, ``a = clip((g_u - g_mm)·g_u / |g_mm - g_u|², 0, 1)`` (the
    two-task closed form), rescaled to the norm of ``g_mm + g_u`` -- our reading of the paper's
    magnitude enhancement, which keeps the step as large as plain multi-loss training would
    take. Fusion, head and unimodal heads keep their ordinary gradients. The fraction of
    conflicting encoders is logged as ``pareto_conflict``. Computing ``g_u`` needs
    ``torch.autograd.grad``, so this balancer runs in one process (no DDP).

    Parameters
    ----------
    weight : float, default 1.0
        Weight of each unimodal loss.
    """

    name = "mmpareto"
    description = "Pareto-integrate multimodal and unimodal gradients per encoder (MMPareto)."
    acts_on = frozenset({"loss", "gradients"})
    supports_distributed = False
    step_names = ("pareto_conflict",)

    def backward(self, loss: torch.Tensor, terms: Mapping[str, torch.Tensor]) -> None:
        unimodal = {}
        for m in self.modalities:
            params = self.groups[m]
            grads = torch.autograd.grad(terms[f"uni_{m}"], params, retain_graph=True,
                                        allow_unused=True)
            unimodal[m] = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                                     for g, p in zip(grads, params, strict=True)])
        loss.backward()
        conflicts = 0
        for m in self.modalities:
            params = self.groups[m]
            g_u = unimodal[m]
            total = flat_grad(params)
            g_mm = total - g_u
            if float(g_mm @ g_u) < 0:
                conflicts += 1
                diff = g_mm - g_u
                a = (float((g_u - g_mm) @ g_u) / float(diff @ diff)) if float(diff @ diff) > 0 \
                    else 0.5
                a = min(max(a, 0.0), 1.0)
                d = a * g_mm + (1 - a) * g_u
                norm = float(d.norm())
                if norm > 0:
                    set_flat_grad(params, d * (float(total.norm()) / norm))
        self._conflict = conflicts / len(self.modalities)

    def after_backward(self, groups: Groups) -> dict[str, float]:
        return {"pareto_conflict": getattr(self, "_conflict", 0.0)}


