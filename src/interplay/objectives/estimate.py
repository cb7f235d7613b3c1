"""``estimate_mi``: fit a neural bound on one split of the data, report it on the other."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from .. import __version__
from .._validation import check_base, check_choice, check_float, check_int, check_samples, units_of
from ..exceptions import ConvergenceWarning, InterplayWarning, InvalidInputError
from .bounds import BOUNDS, make_bound
from .critics import CRITICS

__all__ = ["BoundCeilingWarning", "MIEstimate", "estimate_mi"]

#: An InfoNCE estimate above this fraction of ``log B`` is reported as saturated.
CEILING_FRACTION = 0.9


class BoundCeilingWarning(InterplayWarning):
    """An estimate sits at its bound's ceiling (InfoNCE near ``log B``): the truth may be larger."""


@dataclass
class MIEstimate:
    """Result of :func:`estimate_mi`.

    Attributes
    ----------
    estimate : float
        The bound's value on the held-out split, in ``units``.
    bound, direction : str
        Bound name and ``"lower"`` or ``"upper"``: which side of the truth the value is on.
    units : str
        ``"bits"`` by default.
    batch_size : int
        Pairs per batch (``B``); InfoNCE cannot exceed ``log B``.
    ceiling : float or None
        ``log B`` in ``units`` for InfoNCE, else None.
    curve : list of dict
        ``{"step", "train", "held_out"}`` every ``eval_every`` steps, in ``units``.
    n_train, n_held_out : int
        Rows used to fit and to report.
    critic : str
        Critic family.
    notes : list of str
        Warnings raised while estimating (also emitted as warnings).
    """

    estimate: float
    bound: str
    direction: str
    units: str
    batch_size: int
    ceiling: float | None
    curve: list[dict[str, float]]
    n_train: int
    n_held_out: int
    critic: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``kind`` and ``interplay_version``."""
        return {"kind": "mi_estimate", "interplay_version": __version__, **asdict(self)}


def _held_out(bound: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, b: int) -> float:
    bound.eval()
    with torch.no_grad():
        values = [float(bound(x[i:i + b], y[i:i + b])) for i in range(0, x.shape[0] - b + 1, b)]
    bound.train()
    return float(np.mean(values))


def estimate_mi(
    x: Any,
    y: Any,
    bound: str = "infonce",
    *,
    critic: str = "separable",
    hidden: Sequence[int] = (128,),
    embed_dim: int = 32,
    steps: int = 1000,
    batch_size: int = 128,
    lr: float = 1e-3,
    held_out: float = 0.3,
    eval_every: int = 50,
    base: float = 2.0,
    seed: int = 0,
) -> MIEstimate:
    """Estimate ``I(X; Y)`` with a neural bound fitted on one split and read on the other.

    The columns of ``x`` and ``y`` are standardised with the training split's statistics (an
    invertible map of each variable, which leaves the mutual information unchanged). The bound
    is trained with Adam for ``steps`` minibatches of ``batch_size`` pairs; the reported value is
    its mean over held-out batches of the same size.

    Parameters
    ----------
    x : array, shape (n_samples, d_x)
    y : array, shape (n_samples, d_y)
    bound : {"infonce", "nwj", "dv", "club", "nce_club"}
        Lower bounds: InfoNCE (at most ``log B``), NWJ, Donsker-Varadhan/MINE. Upper bounds:
        CLUB (Gaussian ``q(y|x)``), NCE-CLUB (see :mod:`interplay.objectives.bounds`).
    critic : {"separable", "bilinear", "concat"}
        Critic family (ignored by CLUB). ``"concat"`` costs ``O(B^2)`` network passes.
    hidden, embed_dim
        Critic network widths.
    steps : int
        Optimiser steps.
    batch_size : int
        Pairs per batch ``B``, at least 2 and at most the held-out rows.
    lr : float
        Adam learning rate.
    held_out : float
        Fraction of rows kept out of training and used for the reported value.
    eval_every : int
        Steps between points of the training curve.
    base : float
        Logarithm base of the result (2: bits).
    seed : int
        Seeds the split, the initialisation and the minibatches.

    Returns
    -------
    MIEstimate

    Warns
    -----
    BoundCeilingWarning
        When an InfoNCE estimate exceeds 90% of ``log B``: the truth may be far above it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 1)); y = 0.8 * x + 0.6 * rng.normal(size=(2000, 1))
    >>> r = estimate_mi(x, y, "infonce", hidden=(32,), steps=150, seed=0)  # truth 0.737 bits
    >>> r.direction, 0.4 < r.estimate < 0.85
    ('lower', True)
    """
    xa = check_samples(x, "x", min_samples=4)
    ya = check_samples(y, "y", min_samples=4)
    if xa.shape[0] != ya.shape[0]:
        raise InvalidInputError(
            f"`x` and `y` must have the same number of rows; got {xa.shape[0]} and {ya.shape[0]}."
        )
    bound = check_choice(bound, "bound", tuple(BOUNDS))
    critic = check_choice(critic, "critic", CRITICS)
    steps = check_int(steps, "steps", minimum=1)
    b = check_int(batch_size, "batch_size", minimum=2)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    frac = check_float(held_out, "held_out", low=0.0, high=1.0, low_open=True, high_open=True)
    eval_every = check_int(eval_every, "eval_every", minimum=1)
    base = check_base(base)
    seed = check_int(seed, "seed", minimum=0)

    n = xa.shape[0]
    n_val = int(round(frac * n))
    if n_val < b or n - n_val < b:
        raise InvalidInputError(
            f"`batch_size`={b} needs at least {b} rows in each split; {n} rows with "
            f"`held_out`={frac} give {n - n_val} to train and {n_val} held out."
        )
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    tr, va = perm[n_val:], perm[:n_val]
    mx, sx = xa[tr].mean(0), xa[tr].std(0) + 1e-12
    my, sy = ya[tr].mean(0), ya[tr].std(0) + 1e-12
    xt = torch.as_tensor((xa - mx) / sx, dtype=torch.float32)
    yt = torch.as_tensor((ya - my) / sy, dtype=torch.float32)

    torch.manual_seed(seed)
    est = make_bound(bound, xa.shape[1], ya.shape[1], critic=critic, hidden=tuple(hidden),
                     embed_dim=embed_dim)
    opt = torch.optim.Adam(est.parameters(), lr=lr)
    scale = 1.0 / math.log(base)
    xtr, ytr, xva, yva = xt[tr], yt[tr], xt[va], yt[va]
    curve: list[dict[str, float]] = []
    running: list[float] = []
    for step in range(1, steps + 1):
        idx = torch.as_tensor(rng.choice(len(tr), size=b, replace=False))
        loss = est.learning_loss(xtr[idx], ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if bound in ("club", "nce_club"):
            with torch.no_grad():
                running.append(float(est(xtr[idx], ytr[idx])))
        else:
            running.append(-float(loss.detach()))
        if step % eval_every == 0 or step == steps:
            curve.append({"step": float(step), "train": float(np.mean(running)) * scale,
                          "held_out": _held_out(est, xva, yva, b) * scale})
            running = []
    value = curve[-1]["held_out"]
    notes: list[tuple[str, type[Warning]]] = []
    ceiling = math.log(b) * scale if est.ceiling_of_batch else None
    if ceiling is not None and value > CEILING_FRACTION * ceiling:
        notes.append((
            f"The InfoNCE estimate {value:.3f} {units_of(base)} is above "
            f"{CEILING_FRACTION:.0%} of its ceiling log B = {ceiling:.3f}: the truth may be much "
            f"larger. Use a larger batch_size or bound='nwj'/'dv'.", BoundCeilingWarning))
    if not math.isfinite(value):
        notes.append(("The held-out estimate is not finite; lower `lr` or use bound='infonce'.",
                      ConvergenceWarning))
    for note, category in notes:
        warnings.warn(note, category, stacklevel=2)
    return MIEstimate(
        estimate=value, bound=bound, direction=est.direction, units=units_of(base),
        batch_size=b, ceiling=ceiling, curve=curve, n_train=len(tr), n_held_out=n_val,
        critic=critic if bound != "club" else "gaussian q(y|x)",
        notes=[note for note, _ in notes],
    )
