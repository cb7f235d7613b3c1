"""Log-domain Sinkhorn scaling of per-label score matrices onto fixed marginals.

For every label ``y`` a score matrix ``S[y]`` of shape ``(n, m)`` is turned into the coupling

.. math:: q(a, b, y) = \\exp(S_y(a, b) + f_y(a) + g_y(b))

whose row sums are ``r[y, a]`` and column sums ``c[y, b]``. This is the Kullback-Leibler
projection of ``exp(S[y])`` onto the transport polytope of ``(r[y], c[y])`` (Sinkhorn 1967;
Cuturi 2013); it exists when ``sum_a r[y, a] == sum_b c[y, b]`` for every ``y``. Working on the
potentials ``f``, ``g`` with log-sum-exp keeps large scores from overflowing, which the
multiplicative form does as soon as the scores are sharp.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class SinkhornState(NamedTuple):
    """Potentials of a Sinkhorn projection and how far it got.

    Attributes
    ----------
    f, g : Tensor of shape (n_labels, n) and (n_labels, m)
        Row and column potentials; ``log q = S + f[..., None] + g[:, None, :]``.
    residual : float
        Total row-marginal violation ``sum |q.sum(cols) - r|`` before the last column update
        (the columns are exact after it), in probability mass.
    iterations : int
        Row-and-column updates done.
    """

    f: torch.Tensor
    g: torch.Tensor
    residual: float
    iterations: int


def log_sinkhorn(
    scores: torch.Tensor,
    log_rows: torch.Tensor,
    log_cols: torch.Tensor,
    *,
    max_iter: int,
    tol: float,
    init: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> SinkhornState:
    """Alternate exact row and column fits of ``exp(scores + f + g)`` until the rows match.

    Parameters
    ----------
    scores : Tensor of shape (n_labels, n, m)
        Log-scale similarities.
    log_rows, log_cols : Tensor of shape (n_labels, n) and (n_labels, m)
        Logarithms of the target row and column sums (finite); per label both must sum to the
        same mass.
    max_iter : int
        Most row-and-column updates.
    tol : float
        Stop once the total row violation (L1, in probability mass) is at most ``tol``.
    init : pair of Tensors, optional
        Starting potentials ``(f, g)``; zeros by default.

    Returns
    -------
    SinkhornState
        Differentiable in ``scores`` when gradients are enabled (the loop is unrolled).
    """
    f, g = init if init is not None else (torch.zeros_like(log_rows), torch.zeros_like(log_cols))
    rows = log_rows.exp()
    residual = float("inf")
    it = 0
    while it < max_iter:
        lse_rows = torch.logsumexp(scores + g[:, None, :], dim=2)
        residual = float((torch.exp(f + lse_rows) - rows).abs().sum())
        if residual <= tol:
            break
        f = log_rows - lse_rows
        g = log_cols - torch.logsumexp(scores + f[:, :, None], dim=1)
        it += 1
    return SinkhornState(f, g, residual, it)
