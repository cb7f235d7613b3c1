"""MCR: multimodal competition regularisation (Kontras et al., NeurIPS 2025)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError
from ._common import encoder_dims, head_task, pooled
from .base import Balancer

#: The game's coupling ``k`` of each player's gradient to the other players' influence.
GAMES = {"greedy": -1.0, "independent": 0.0, "collaborative": 1.0}


def jensen_shannon(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """Mean over rows of the Jensen-Shannon divergence (nats) between two softmax outputs."""
    log_p, log_q = p_logits.log_softmax(dim=-1), q_logits.log_softmax(dim=-1)
    log_m = torch.logaddexp(log_p, log_q) - torch.log(torch.tensor(2.0, dtype=log_p.dtype))
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(dim=-1)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(dim=-1)
    return (0.5 * (kl_pm + kl_qm)).mean()


def derangement(n: int, device: torch.device) -> torch.Tensor:
    """A random permutation of ``range(n)`` without fixed points (n >= 2): a cyclic shift along
    a random order."""
    order = torch.randperm(n).to(device)
    perm = torch.empty_like(order)
    perm[order] = order.roll(1)
    return perm


def sup_con(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, the ``L_out`` form) of L2-normalised
    rows ``z`` whose positives share a label (the row itself excluded)."""
    sim = z @ z.T / temperature
    n = z.shape[0]
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    count = positives.sum(dim=1)
    keep = count > 0
    if not bool(keep.any()):
        return z.sum() * 0.0
    mean_log = log_prob.masked_fill(~positives, 0.0).sum(dim=1)[keep] / count[keep]
    return -mean_log.mean()


class MCR(Balancer):
    """Multimodal competition regularisation (Kontras et al., "Balancing Multimodal Training
    Through Game-Theoretic Regularization", NeurIPS 2025).

    Three terms on top of the supervised loss:

    * **Unique influence, played as a game** (``L_MIPD``). For modality ``j`` its encodings are
      permuted within the batch (a derangement, ``n_permutations`` times) and the model's
      prediction is recomputed from the altered encodings (:meth:`MultimodalModel.decode`);
      the Jensen-Shannon divergence ``JSD_j`` between the original and the perturbed
      prediction estimates how much the prediction rests on information only ``x_j`` carries.
      Each modality is a player whose encoder ``θ_m`` follows
      ``λ ∇θ_m (-JSD_m + k Σ_{j≠m} -JSD_j)``, with ``k = -1`` (``greedy``: raise your own
      influence, lower the others'), ``0`` (``independent``) or ``+1`` (``collaborative``).
      Each player's gradient is taken with the other encodings detached, and reaches the
      encoders only (not fusion or head), through ``torch.autograd.grad`` after the ordinary
      backward.
    * **Shared information** (``L_Con``): supervised contrastive loss (temperature
      ``temperature``) between the modalities' encodings of the batch, each through a linear
      projection to ``projection_dim``, with weight ``contrastive_weight``; for regression the
      positives are the same sample's other modalities.
    * **Task-irrelevant information** (``L_CEB``): the mean squared error between the
      concatenated encodings and a small MLP's prediction of them from the (detached) fused
      logits, with weight ``ceb_weight``: encodings are pulled toward what the prediction
      explains.

    Choices the paper and its code leave open, and ours: permutation partners are any other
    sample of the batch (not label-restricted); projections for ``L_Con`` are always used, so
    encoders of different sizes work; the JSD is in nats and averaged over the
    permutations; logged values are ``jsd_<m>`` (each modality's influence, training and
    validation), ``contrastive`` and ``ceb``. Needs a classification model with ``decode``
    (a :class:`~interplay.models.MultimodalModel`) and runs in one process (no DDP).

    Parameters
    ----------
    game : {"greedy", "independent", "collaborative"}, default "greedy"
    mipd_weight : float, default 0.1
    n_permutations : int, default 2
    contrastive_weight : float, default 0.1
    temperature : float, default 0.5
    projection_dim : int, default 32
    ceb_weight : float, default 0.01
    """

    name = "mcr"
    description = "Game-theoretic unique-influence, contrastive and bottleneck terms (MCR)."
    acts_on = frozenset({"loss", "gradients"})
    needs_decode = True
    supports_distributed = False

    def __init__(self, game: str = "greedy", mipd_weight: float = 0.1, n_permutations: int = 2,
                 contrastive_weight: float = 0.1, temperature: float = 0.5,
                 projection_dim: int = 32, ceb_weight: float = 0.01) -> None:
        super().__init__()
        self.game = check_choice(game, "game", tuple(GAMES))
        self.mipd_weight = check_float(mipd_weight, "mipd_weight", low=0.0)
        self.n_permutations = check_int(n_permutations, "n_permutations", minimum=1)
        self.contrastive_weight = check_float(contrastive_weight, "contrastive_weight", low=0.0)
        self.temperature = check_float(temperature, "temperature", low=0.0, low_open=True)
        self.projection_dim = check_int(projection_dim, "projection_dim", minimum=1)
        self.ceb_weight = check_float(ceb_weight, "ceb_weight", low=0.0)

    def build(self, model: nn.Module) -> None:
        task, n_out = head_task(model, self.name)
        if task != "classification":
            raise InvalidInputError(
                "balancer 'mcr' compares predicted class distributions; it needs a "
                "classification model."
            )
        dims = encoder_dims(model, self.modalities, self.name)
        self.projections = nn.ModuleDict(
            {m: nn.Linear(d, self.projection_dim) for m, d in dims.items()})
        total = sum(dims.values())
        self.bottleneck = nn.Sequential(nn.Linear(n_out, 64), nn.ReLU(), nn.Linear(64, total))
        self.term_names = ("contrastive", "ceb")
        self.metric_names = tuple(f"jsd_{m}" for m in self.modalities)
        self._step: tuple[dict[str, torch.Tensor], torch.Tensor] | None = None

    # ------------------------------------------------------------------ the terms
    def influence(self, embeddings: Mapping[str, torch.Tensor], logits: torch.Tensor,
                  modality: str) -> torch.Tensor:
        """``JSD_modality``: mean JSD between ``logits`` and the prediction with the
        modality's encodings permuted within the batch."""
        n = logits.shape[0]
        values = []
        for _ in range(self.n_permutations):
            perm = derangement(n, logits.device)
            altered = dict(embeddings)
            altered[modality] = embeddings[modality][perm]
            values.append(jensen_shannon(logits, self.decode(altered)))
        return torch.stack(values).mean()

    def extra_terms(self, output: Any, batch: Mapping[str, torch.Tensor],
                    target: Any) -> dict[str, torch.Tensor]:
        emb = {m: output.embeddings[m] for m in self.modalities}
        terms: dict[str, torch.Tensor] = {}
        if output.logits.shape[0] >= 2:
            z = torch.cat([F.normalize(self.projections[m](pooled(emb[m])), dim=-1)
                           for m in self.modalities])
            labels = target.repeat(len(self.modalities)) if target.ndim == 1 else \
                torch.arange(target.shape[0], device=z.device).repeat(len(self.modalities))
            terms["contrastive"] = self.contrastive_weight * sup_con(z, labels,
                                                                     self.temperature)
        else:
            terms["contrastive"] = output.logits.sum() * 0.0
        features = torch.cat([pooled(emb[m]) for m in self.modalities], dim=-1)
        guess = self.bottleneck(output.logits.detach())
        terms["ceb"] = self.ceb_weight * F.mse_loss(guess, features)
        self._step = (emb, output.logits) if self.training else None
        return terms

    def metrics(self, output: Any, batch: Mapping[str, torch.Tensor],
                target: Any) -> dict[str, torch.Tensor]:
        if output.logits.shape[0] < 2:
            return {f"jsd_{m}": torch.zeros(()) for m in self.modalities}
        emb = {m: e.detach() for m, e in output.embeddings.items()}
        logits = output.logits.detach()
        return {f"jsd_{m}": self.influence(emb, logits, m) for m in self.modalities}

    def backward(self, loss: torch.Tensor, terms: Mapping[str, torch.Tensor]) -> None:
        loss.backward(retain_graph=self._step is not None)
        if self._step is None or self.mipd_weight == 0.0:
            return
        emb, _ = self._step
        self._step = None
        if next(iter(emb.values())).shape[0] < 2:
            return
        k = GAMES[self.game]
        objective = torch.zeros((), device=loss.device)
        for player in self.modalities:
            # only the player's encodings carry gradient: the rest of the batch is fixed
            live = {m: e if m == player else e.detach() for m, e in emb.items()}
            logits = self.decode(live)
            jsd = {j: self.influence(live, logits, j) for j in self.modalities}
            objective = objective - jsd[player] - k * sum(
                (jsd[j] for j in self.modalities if j != player), loss.new_zeros(()))
        params = [p for m in self.modalities for p in self.groups[m]]
        grads = torch.autograd.grad(self.mipd_weight * objective, params, allow_unused=True)
        for p, g in zip(params, grads, strict=True):
            if g is not None:
                p.grad = g if p.grad is None else p.grad + g

    def extra_repr(self) -> str:
        return (f"game={self.game!r}, mipd_weight={self.mipd_weight}, "
                f"contrastive_weight={self.contrastive_weight}, ceb_weight={self.ceb_weight}")
