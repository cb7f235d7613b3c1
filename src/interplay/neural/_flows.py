"""The torch side of Flow-PID: per-variable flows, pairwise Gaussian heads, the training loop.

:func:`interplay.neural.flow.flow_pid` is the public entry point; this module imports torch and
zuko at import time and is only loaded once both are known to be installed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import zuko
from torch import nn

from .._progress import progress_bar as _progress
from ..exceptions import InvalidInputError

#: Gradient-norm clip: keeps one bad minibatch from throwing a spline out of its domain.
_CLIP_NORM = 10.0
#: A validation NLL must drop by this many nats to count as an improvement.
_MIN_DELTA = 1e-4
_LOG_2PI = math.log(2 * math.pi)


class PairGaussian(nn.Module):
    """A learnable Gaussian ``N(loc, L L^T)`` with ``L`` lower triangular, ``diag(L) > 0``."""

    def __init__(self, sample: torch.Tensor) -> None:
        super().__init__()
        d = sample.shape[1]
        eye = torch.eye(d, dtype=sample.dtype, device=sample.device)
        cov = torch.cov(sample.T).reshape(d, d) + 1e-6 * eye
        chol = torch.linalg.cholesky(cov)
        self.loc = nn.Parameter(sample.mean(dim=0).clone())
        self.lower = nn.Parameter(torch.tril(chol, -1))
        self.log_diag = nn.Parameter(torch.log(torch.diagonal(chol)).clone())

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        chol = torch.tril(self.lower, -1) + torch.diag(torch.exp(self.log_diag))
        u = torch.linalg.solve_triangular(chol, (z - self.loc).T, upper=False)
        d = z.shape[1]
        return -0.5 * (u**2).sum(dim=0) - self.log_diag.sum() - 0.5 * d * _LOG_2PI


def _identity_start(transform: zuko.lazy.LazyComposedTransform) -> None:
    """Zero the parameters that produce each univariate map, making the flow the identity.

    Zero unconstrained parameters give zuko's rational-quadratic spline uniform bins on the
    diagonal with unit knot slopes, and its affine map a unit scale and no shift: the identity.
    Autoregressive layers get them from the last layer of their masked MLP, one-dimensional
    (element-wise) layers hold them directly.
    """
    for layer in transform.transforms:
        if hasattr(layer, "hyper"):
            last = layer.hyper[-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        else:
            for p in layer.parameters():
                nn.init.zeros_(p)


def _make_flow(kind: str, features: int, transforms: int, hidden: tuple[int, ...]
               ) -> zuko.lazy.LazyComposedTransform:
    maker = zuko.flows.NSF if kind == "spline" else zuko.flows.MAF
    transform = maker(features, transforms=transforms, hidden_features=hidden).transform
    if not isinstance(transform, zuko.lazy.LazyComposedTransform):
        raise TypeError(f"zuko returned an unexpected flow layout: {type(transform).__name__}")
    _identity_start(transform)
    return transform


class PairwiseGaussianFlows(nn.Module):
    """Invertible maps ``f1, f2, fy``; Gaussians ``q1`` of ``(z1, zy)`` and ``q2`` of ``(z2, zy)``.

    ``nll`` is the per-sample negative composite log-likelihood (nats) of the two pairs:
    ``-[log q1(z1, zy) + log q2(z2, zy) + ld1 + ld2 + 2 ldy]`` with ``zi = fi(xi)`` and ``ldi``
    the log-determinant of ``fi``'s Jacobian at ``xi``.
    """

    def __init__(self, kind: str, sizes: Sequence[int], transforms: int,
                 hidden: tuple[int, ...], start: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.flows = nn.ModuleList(_make_flow(kind, d, transforms, hidden) for d in sizes)
        x1, x2, y = start  # the flows start as the identity, so these are the first latents
        self.q1 = PairGaussian(torch.cat([x1, y], dim=1))
        self.q2 = PairGaussian(torch.cat([x2, y], dim=1))

    def latents(self, xs: Sequence[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        outs = [flow().call_and_ladj(x) for flow, x in zip(self.flows, xs, strict=True)]
        return [z for z, _ in outs], [ladj for _, ladj in outs]

    def nll(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        (z1, z2, zy), (l1, l2, ly) = self.latents(xs)
        log_q = self.q1.log_prob(torch.cat([z1, zy], dim=1))
        log_q = log_q + self.q2.log_prob(torch.cat([z2, zy], dim=1))
        return -(log_q + l1 + l2 + 2 * ly)


def check_device(device: Any) -> torch.device:
    """``device`` as a torch device that can hold a tensor, or an error naming it."""
    try:
        dev = torch.device(device)
        torch.zeros(1, device=dev)
    except (RuntimeError, TypeError, AssertionError) as exc:
        raise InvalidInputError(
            f"`device` must name an available torch device such as 'cpu' or 'cuda', "
            f"got {device!r} ({exc})."
        ) from exc
    return dev


def fit_latents(starts: Sequence[np.ndarray], train_idx: np.ndarray, val_idx: np.ndarray,
                rng: np.random.Generator, device: torch.device, *, flow: str, transforms: int,
                hidden: tuple[int, ...], **fit_options: Any
                ) -> tuple[list[np.ndarray], FitReport]:
    """Fit the flows on the training rows of ``starts``; the latents of every row, and the report.

    ``fit_options`` go to :func:`fit`. The initial weights are drawn from ``rng`` without
    touching torch's global generator.
    """
    tensors = [torch.as_tensor(a, dtype=torch.float64, device=device) for a in starts]
    train = [t[torch.as_tensor(train_idx, device=device)] for t in tensors]
    val = [t[torch.as_tensor(val_idx, device=device)] for t in tensors]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(rng.integers(2**31)))
        model = PairwiseGaussianFlows(flow, [a.shape[1] for a in starts], transforms, hidden,
                                      train)
    model = model.to(device=device, dtype=torch.float64)
    report = fit(model, train, val, rng=rng, **fit_options)
    return transform(model, tensors), report


@dataclass
class FitReport:
    """How the flows were trained and why training stopped.

    ``train_nll`` holds each epoch's mean minibatch loss (taken while the parameters moved),
    ``val_nll`` the validation loss after each epoch; both in nats per sample.
    """

    initial_val_nll: float
    train_nll: list[float] = field(default_factory=list)
    val_nll: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    message: str = ""

    @property
    def epochs(self) -> int:
        return len(self.train_nll)


def fit(model: PairwiseGaussianFlows, train: Sequence[torch.Tensor],
        val: Sequence[torch.Tensor], *, max_epochs: int, patience: int, batch_size: int,
        lr: float, rng: np.random.Generator, progress: bool) -> FitReport:
    """Adam on minibatches of ``train``; keep the parameters with the lowest validation NLL.

    Stops after ``patience`` epochs without a validation improvement of at least
    ``_MIN_DELTA`` nats, after ``max_epochs``, or at the first non-finite loss; the model is
    left at its best epoch (epoch 0 is the starting map).
    """
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    report = FitReport(initial_val_nll=_mean_nll(model, val))
    best, best_state, wait = report.initial_val_nll, copy.deepcopy(model.state_dict()), 0
    n = train[0].shape[0]
    with _progress(not progress) as bar:
        task = bar.add_task("Flow-PID training", total=max_epochs)
        for epoch in range(1, max_epochs + 1):
            total, finite = 0.0, True
            order = torch.as_tensor(rng.permutation(n), device=train[0].device)
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                loss = model.nll([t[idx] for t in train]).mean()
                if not torch.isfinite(loss):
                    finite = False
                    break
                optimiser.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), _CLIP_NORM)
                optimiser.step()
                total += float(loss.detach()) * idx.shape[0]
            if not finite:
                report.message = f"non-finite training loss in epoch {epoch}; kept epoch " \
                                 f"{report.best_epoch}"
                break
            val_nll = _mean_nll(model, val)
            report.train_nll.append(total / n)
            report.val_nll.append(val_nll)
            bar.advance(task)
            if val_nll < best - _MIN_DELTA:
                best, best_state, wait = val_nll, copy.deepcopy(model.state_dict()), 0
                report.best_epoch = epoch
            else:
                wait += 1
                if wait >= patience:
                    report.stopped_early = True
                    break
    model.load_state_dict(best_state)
    if not report.message:
        how = "stopped early" if report.stopped_early else "reached max_epochs"
        report.message = f"{how} after {report.epochs} epochs; kept epoch {report.best_epoch}"
    return report


@torch.no_grad()
def _mean_nll(model: PairwiseGaussianFlows, xs: Sequence[torch.Tensor]) -> float:
    return float(model.nll(xs).mean())


@torch.no_grad()
def transform(model: PairwiseGaussianFlows, xs: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """The latents ``f1(x1), f2(x2), fy(y)`` as float64 arrays."""
    zs, _ = model.latents(xs)
    return [z.detach().cpu().numpy().astype(np.float64) for z in zs]
