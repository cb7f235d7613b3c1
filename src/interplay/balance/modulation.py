"""Balancers that rescale each encoder's gradient by how far its modality leads: OGM-GE, AGM."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .._validation import check_float, check_int
from ..exceptions import InvalidInputError
from ._common import head_task
from .base import Balancer, Groups


class _Modulation(Balancer):
    """Shared part: per-batch mono-modal scores from the model with the others masked."""

    needs_decode = True

    def build(self, model: nn.Module) -> None:
        task, _ = head_task(model, self.name)
        if task != "classification":
            raise InvalidInputError(
                f"balancer {self.name!r} compares class probabilities; it needs a "
                "classification model."
            )
        self.step_names = tuple(f"coeff_{m}" for m in self.modalities)
        self._scores: dict[str, float] = {}

    @abstractmethod
    def scores(self, output: Any, target: torch.Tensor) -> dict[str, float]:
        """Per modality, the score of the prediction with every other modality masked."""

    def mono_logits(self, output: Any, m: str) -> torch.Tensor:
        n = output.logits.shape[0]
        return self.decode(output.embeddings, self.only(m, n, output.logits.device))

    def extra_terms(self, output: Any, batch: Mapping[str, torch.Tensor],
                    target: Any) -> dict[str, torch.Tensor]:
        if self.training:
            with torch.no_grad():
                self._scores = self.scores(output, target)
        return {}

    @abstractmethod
    def coefficients(self) -> dict[str, float]:
        """Per modality, the factor its encoder's gradient is scaled by."""

    def after_backward(self, groups: Groups) -> dict[str, float]:
        if not self._scores:  # outside the modulation window
            return {f"coeff_{m}": 1.0 for m in self.modalities}
        coeff = self.coefficients()
        for m, k in coeff.items():
            for p in groups[m]:
                self.modulate(p, k)
        return {f"coeff_{m}": k for m, k in coeff.items()}

    def modulate(self, p: nn.Parameter, k: float) -> None:
        if p.grad is not None:
            p.grad.mul_(k)


class OGMGE(_Modulation):
    """On-the-fly gradient modulation with generalisation enhancement (Peng et al., CVPR 2022).

    Per training batch, each modality's score is ``s_m = Σ_i softmax(f_m(x_i))[y_i]`` with
    ``f_m`` the model's prediction when every other modality is masked (the fusions honour
    masks; the paper's late-fusion halves are the special case). With ``ρ_m = s_m / mean_{j≠m}
    s_j`` (the paper's ratio for two modalities; the mean over the others is our choice for
    more), the gradient of a leading encoder (``ρ_m > 1``) is multiplied by
    ``1 - tanh(α ρ_m)`` and the others by 1; then, with ``ge=True``, Gaussian noise with the
    standard deviation of each parameter's gradient is added to every encoder's gradient (the
    generalisation enhancement, as the authors' code does it for all modulated encoders; we
    apply it to every encoder parameter, not only convolution weights). Modulation acts in
    epochs ``[start_epoch, end_epoch)``. The coefficients are logged as ``coeff_<m>``.

    Parameters
    ----------
    alpha : float, default 0.5
    ge : bool, default True
    start_epoch, end_epoch : int, default 0 and None (to the end)
    """

    name = "ogm_ge"
    description = "Slow the leading modality's encoder gradient, plus gradient noise (OGM-GE)."
    acts_on = frozenset({"gradients"})

    def __init__(self, alpha: float = 0.5, ge: bool = True, start_epoch: int = 0,
                 end_epoch: int | None = None) -> None:
        super().__init__()
        self.alpha = check_float(alpha, "alpha", low=0.0)
        if not isinstance(ge, bool):
            raise InvalidInputError(f"`ge` must be True or False, got {ge!r}.")
        self.ge = ge
        self.start_epoch = check_int(start_epoch, "start_epoch", minimum=0)
        self.end_epoch = None if end_epoch is None else check_int(end_epoch, "end_epoch",
                                                                  minimum=1)
        self.register_buffer("epoch", torch.zeros((), dtype=torch.long))

    def on_epoch_start(self, epoch: int) -> None:
        self.epoch.fill_(epoch)

    def _active(self) -> bool:
        e = int(self.epoch)
        return e >= self.start_epoch and (self.end_epoch is None or e < self.end_epoch)

    def scores(self, output: Any, target: torch.Tensor) -> dict[str, float]:
        if not self._active():
            return {}
        return {m: float(self.mono_logits(output, m).softmax(dim=-1)
                         .gather(1, target.reshape(-1, 1)).sum())
                for m in self.modalities}

    def coefficients(self) -> dict[str, float]:
        s = self._scores
        coeff = {}
        for m in self.modalities:
            others = [s[j] for j in self.modalities if j != m]
            rho = s[m] / max(sum(others) / len(others), 1e-12)
            coeff[m] = 1.0 - math.tanh(self.alpha * rho) if rho > 1 else 1.0
        return coeff

    def modulate(self, p: nn.Parameter, k: float) -> None:
        if p.grad is None:
            return
        p.grad.mul_(k)
        if self.ge and p.grad.numel() > 1:
            p.grad.add_(torch.randn_like(p.grad) * (float(p.grad.std()) + 1e-8))

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, ge={self.ge}"


class AGM(_Modulation):
    """Adaptive gradient modulation (Li et al., ICCV 2023).

    Per training batch, each modality's response is its mono-modal score
    ``s_m = -CE(f_m(x), y)`` with ``f_m`` the prediction when every other modality is masked
    (the paper's zero-padding). Its relative strength ``r_m = exp(s_m - mean_j s_j)`` is
    compared with the same quantity ``r̄_m`` of the running means of the scores over all
    steps so far, and the encoder's gradient is multiplied by
    ``κ_m = exp(α min(r̄_m - r_m, 7))``: a modality doing better than it usually does relative
    to the others is slowed, one doing worse is sped up. The paper modulates through the
    fused features; scaling the encoder's gradient is the same update for the encoder and
    leaves fusion and head untouched (our choice). The running means are checkpointed. The
    coefficients are logged as ``coeff_<m>``.

    Parameters
    ----------
    alpha : float, default 1.0
    """

    name = "agm"
    description = ("Scale each encoder's gradient by its mono-modal response against its "
                   "running mean (AGM).")
    acts_on = frozenset({"gradients"})

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_float(alpha, "alpha", low=0.0)

    def build(self, model: nn.Module) -> None:
        super().build(model)
        k = len(self.modalities)
        self.register_buffer("running", torch.zeros(k, dtype=torch.float64))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def scores(self, output: Any, target: torch.Tensor) -> dict[str, float]:
        return {m: -float(torch.nn.functional.cross_entropy(self.mono_logits(output, m), target))
                for m in self.modalities}

    def coefficients(self) -> dict[str, float]:
        s = torch.tensor([self._scores[m] for m in self.modalities], dtype=torch.float64,
                         device=self.running.device)
        n = int(self.steps)
        self.running.mul_(n / (n + 1)).add_(s / (n + 1))
        self.steps.add_(1)
        now = torch.exp(s - s.mean())
        usual = torch.exp(self.running - self.running.mean())
        kappa = torch.exp(self.alpha * torch.clamp(usual - now, max=7.0))
        return {m: float(k) for m, k in zip(self.modalities, kappa, strict=True)}

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
