"""Neural bounds on the mutual information ``I(X; Y)``, in nats, as ``nn.Module`` s.

Every bound states its direction in :attr:`MIBound.direction`:

================  =========  ==================================================================
class             direction  value on a batch of ``B`` pairs (``S[i, j] = f(x_i, y_j)``)
================  =========  ==================================================================
``InfoNCE``       lower      ``mean_i [S_ii - log mean_j exp S_ij]``; never above ``log B``
``NWJ``           lower      ``mean_i S_ii - mean_{i != j} exp(S_ij - 1)`` (f-MINE)
``DV``            lower      ``mean_i S_ii - log mean_{i != j} exp S_ij`` (Donsker-Varadhan, MINE)
``CLUB``          upper      ``mean_i log q(y_i|x_i) - mean_{i != j} log q(y_j|x_i)``
``NCECLUB``       upper*     ``mean_i S_ii - mean_{i != j} S_ij`` with ``S`` fitted by InfoNCE
================  =========  ==================================================================

References: van den Oord et al. 2018 (InfoNCE); Nguyen, Wainwright & Jordan 2010 (NWJ);
Belghazi et al. 2018 (MINE, with the moving-average gradient correction); Poole et al. 2019
(the family and its bias/variance); Cheng et al. 2020 (CLUB); Liang et al. 2023 (FactorCL,
NCE-CLUB).

Two methods per bound:

* ``forward(x, y, c=None)`` is the bound's value (differentiable): maximise a lower bound to
  *keep* information, minimise an upper bound to *remove* it.
* ``learning_loss(x, y, c=None)`` is what the bound's own parameters minimise to tighten it:
  ``-forward`` for the lower bounds, the negative log-likelihood of ``q(y|x)`` for CLUB, and the
  negative InfoNCE value for NCE-CLUB.

CLUB is an upper bound when ``q(y|x)`` is close to the true conditional (Cheng et al., Thm 3.2);
with the exact conditional it equals ``I(X;Y) + E_x KL(p(y) || p(y|x))``. *NCE-CLUB is FactorCL's
estimator: the InfoNCE-optimal critic is ``log p(y|x)/p(y)`` plus a function of ``x``, at which
NCE-CLUB equals CLUB with the exact conditional, hence an upper bound; an under-trained critic
gives no guarantee.

Conditional bounds ``I(X; Y | C)``: pass ``c``. Integer labels (shape ``(B,)``) restrict the
negative pairs to samples with the same label, so the off-diagonal pairs are drawn from
``p(x|c) p(y|c)``; a float auxiliary view (shape ``(B, cond_dim)``, with ``cond_dim`` given at
construction) is appended to both critic inputs, FactorCL's construction (a heuristic: its
negatives still come from the whole batch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError
from .critics import CRITICS, make_critic, mlp

__all__ = ["BOUNDS", "CLUB", "DV", "InfoNCE", "MIBound", "NCECLUB", "NWJ", "make_bound"]


class MIBound(nn.Module):
    """Base class: validates the batch, handles the condition, builds the critic.

    Parameters
    ----------
    x_dim, y_dim : int
        Feature counts of ``x`` and ``y``.
    critic : {"separable", "bilinear", "concat"}, default "separable"
        The score function (see :mod:`interplay.objectives.critics`).
    hidden : sequence of int, default (128,)
        Hidden widths of the critic's networks.
    embed_dim : int, default 32
        Embedding width of the separable critic.
    cond_dim : int, default 0
        Width of a float condition ``c`` appended to both critic inputs (0: none, or labels).
    """

    #: ``"lower"`` or ``"upper"``.
    direction: str = "lower"
    #: True when the bound can never exceed ``log B`` on a batch of ``B`` pairs (InfoNCE).
    ceiling_of_batch: bool = False

    def __init__(self, x_dim: int, y_dim: int, *, critic: str = "separable",
                 hidden: Sequence[int] = (128,), embed_dim: int = 32, cond_dim: int = 0) -> None:
        super().__init__()
        self.x_dim = check_int(x_dim, "x_dim", minimum=1)
        self.y_dim = check_int(y_dim, "y_dim", minimum=1)
        self.cond_dim = check_int(cond_dim, "cond_dim", minimum=0)
        self.critic_name = check_choice(critic, "critic", CRITICS)
        self.critic = self._build(hidden, embed_dim)

    def _build(self, hidden: Sequence[int], embed_dim: int) -> nn.Module:
        return make_critic(self.critic_name, self.x_dim + self.cond_dim,
                           self.y_dim + self.cond_dim, hidden, embed_dim)

    def _prepare(self, x: Tensor, y: Tensor, c: Tensor | None
                 ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Check shapes; return (x', y', mask of allowed pairs or None)."""
        if not isinstance(x, Tensor) or not isinstance(y, Tensor):
            raise InvalidInputError(
                f"`x` and `y` must be tensors, got {type(x).__name__} and {type(y).__name__}."
            )
        if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[0] < 2:
            raise InvalidInputError(
                f"`x` and `y` must be (B, features) with the same B >= 2; got {tuple(x.shape)} "
                f"and {tuple(y.shape)}."
            )
        if x.shape[1] != self.x_dim or y.shape[1] != self.y_dim:
            raise InvalidInputError(
                f"This bound was built for x with {self.x_dim} and y with {self.y_dim} features; "
                f"got {x.shape[1]} and {y.shape[1]}."
            )
        if c is None:
            if self.cond_dim:
                raise InvalidInputError(
                    f"This bound was built with `cond_dim`={self.cond_dim}; pass `c`."
                )
            return x, y, None
        if not isinstance(c, Tensor) or c.shape[0] != x.shape[0]:
            raise InvalidInputError(
                f"`c` must be a tensor with {x.shape[0]} rows; got {getattr(c, 'shape', c)!r}."
            )
        if c.is_floating_point():
            if c.ndim != 2 or c.shape[1] != self.cond_dim or self.cond_dim == 0:
                raise InvalidInputError(
                    f"A float `c` must have shape (B, cond_dim={self.cond_dim}) with cond_dim "
                    f"> 0 set at construction; got {tuple(c.shape)}. Pass integer labels of "
                    f"shape (B,) to condition on a label."
                )
            return torch.cat([x, c], 1), torch.cat([y, c], 1), None
        if c.ndim != 1:
            raise InvalidInputError(
                f"Integer labels `c` must have shape (B,); got {tuple(c.shape)}."
            )
        mask = c[:, None] == c[None, :]
        if int(mask.sum()) <= x.shape[0]:
            raise InvalidInputError(
                "Conditioning on `c` left no negative pairs: every label occurs once in the "
                "batch. Use larger batches or fewer label values."
            )
        return x, y, mask

    def scores(self, x: Tensor, y: Tensor, c: Tensor | None = None
               ) -> tuple[Tensor, Tensor | None]:
        """The critic's score matrix ``(B, B)`` and the mask of allowed pairs (None: all)."""
        x, y, mask = self._prepare(x, y, c)
        return self.critic(x, y), mask

    def learning_loss(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """What the bound's own parameters minimise (``-forward`` for lower bounds)."""
        return -self(x, y, c)


def _off_diagonal(s: Tensor, mask: Tensor | None) -> Tensor:
    off = ~torch.eye(s.shape[0], dtype=torch.bool, device=s.device)
    return off if mask is None else off & mask


def _infonce(s: Tensor, mask: Tensor | None) -> Tensor:
    if mask is None:
        return (s.diagonal() - torch.logsumexp(s, 1)).mean() + math.log(s.shape[0])
    logits = s.masked_fill(~mask, float("-inf"))
    counts = mask.sum(1).to(s.dtype)
    return (s.diagonal() - torch.logsumexp(logits, 1) + torch.log(counts)).mean()


class InfoNCE(MIBound):
    """InfoNCE lower bound (van den Oord et al. 2018); at most ``log B`` on a batch of ``B``.

    Examples
    --------
    >>> import torch
    >>> b = InfoNCE(2, 2)
    >>> b(torch.randn(8, 2), torch.randn(8, 2)).item() <= math.log(8)
    True
    """

    direction = "lower"
    ceiling_of_batch = True

    def forward(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """InfoNCE value in nats."""
        return _infonce(*self.scores(x, y, c))


class NWJ(MIBound):
    """NWJ / f-MINE lower bound ``E_p f - E_{p(x)p(y)} exp(f - 1)`` (Nguyen et al. 2010)."""

    direction = "lower"

    def forward(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """NWJ value in nats."""
        s, mask = self.scores(x, y, c)
        off = _off_diagonal(s, mask)
        return s.diagonal().mean() - torch.exp(s[off] - 1.0).mean()


class DV(MIBound):
    """Donsker-Varadhan / MINE lower bound with the moving-average gradient correction.

    The value is ``E_p f - log E_{p(x)p(y)} exp f``. The gradient of the log term,
    ``grad E e^f / E e^f``, is biased on a minibatch; MINE (Belghazi et al. 2018) replaces the
    denominator by an exponential moving average of ``E e^f`` over training batches. The
    returned tensor has the exact batch value and that corrected gradient.

    Parameters
    ----------
    ema_rate : float, default 0.01
        Weight of the newest batch in the moving average (0 < rate <= 1; 1 = no correction).
    **kwargs
        As :class:`MIBound`.
    """

    direction = "lower"

    def __init__(self, x_dim: int, y_dim: int, *, ema_rate: float = 0.01, **kwargs: object
                 ) -> None:
        super().__init__(x_dim, y_dim, **kwargs)  # type: ignore[arg-type]
        self.ema_rate = check_float(ema_rate, "ema_rate", low=0.0, high=1.0, low_open=True)
        self.register_buffer("log_ema", torch.tensor(float("nan")))

    def forward(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """DV value in nats (gradient with the moving-average correction in training mode)."""
        s, mask = self.scores(x, y, c)
        neg = s[_off_diagonal(s, mask)]
        log_mean = torch.logsumexp(neg, 0) - math.log(neg.numel())
        value = s.diagonal().mean() - log_mean
        if not (self.training and torch.is_grad_enabled()):
            return value
        current = log_mean.detach()
        if torch.isnan(self.log_ema):
            self.log_ema.copy_(current)
        else:
            rate = torch.tensor(self.ema_rate, dtype=current.dtype)
            self.log_ema.copy_(torch.logaddexp(torch.log1p(-rate) + self.log_ema,
                                               torch.log(rate) + current)
                               if self.ema_rate < 1 else current)
        # Same value as `value`; gradient of the log term is grad(E e^f) / EMA(E e^f).
        ratio = torch.exp(log_mean - self.log_ema.to(s.dtype))
        return value + log_mean - (current + ratio - ratio.detach())


class CLUB(MIBound):
    """CLUB upper bound with a Gaussian ``q(y|x) = N(mu(x), diag sigma^2(x))`` (Cheng et al. 2020).

    ``learning_loss`` fits ``q`` by maximum likelihood on the paired samples; ``forward`` is
    ``E_p log q(y|x) - E_{p(x)p(y)} log q(y|x)``, to be minimised by whatever produces ``x``
    and ``y``. The ``critic`` argument is ignored (the "critic" is ``q``); ``hidden`` sets the
    widths of its mean and log-variance networks.
    """

    direction = "upper"

    def _build(self, hidden: Sequence[int], embed_dim: int) -> nn.Module:
        return mlp(self.x_dim + self.cond_dim, 2 * self.y_dim, hidden)

    def log_q(self, x: Tensor, y: Tensor, c: Tensor | None = None
              ) -> tuple[Tensor, Tensor | None]:
        """Matrix ``L[i, j] = log q(y_j | x_i)`` ``(B, B)`` and the mask of allowed pairs."""
        x2, _, mask = self._prepare(x, y, c)
        mu, log_var = self.critic(x2).chunk(2, dim=1)
        log_var = log_var.clamp(-12.0, 12.0)
        diff = y[None, :, :] - mu[:, None, :]
        ll = -0.5 * (diff ** 2 / log_var.exp()[:, None, :] + log_var[:, None, :]
                     + math.log(2 * math.pi))
        return ll.sum(-1), mask

    def forward(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """CLUB value in nats."""
        ll, mask = self.log_q(x, y, c)
        return ll.diagonal().mean() - ll[_off_diagonal(ll, mask)].mean()

    def learning_loss(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """Negative mean log-likelihood of the paired samples under ``q``."""
        x2, _, _ = self._prepare(x, y, c)
        mu, log_var = self.critic(x2).chunk(2, dim=1)
        log_var = log_var.clamp(-12.0, 12.0)
        ll = -0.5 * ((y - mu) ** 2 / log_var.exp() + log_var + math.log(2 * math.pi))
        return -ll.sum(1).mean()


class NCECLUB(MIBound):
    """NCE-CLUB (FactorCL): the CLUB form ``E_p f - E_{p(x)p(y)} f`` of an InfoNCE-fitted critic.

    Upper bound when the critic has reached the InfoNCE optimum (see the module notes); the
    critic minimises ``learning_loss`` (negative InfoNCE), the representation minimises
    ``forward``.
    """

    direction = "upper"

    def forward(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """NCE-CLUB value in nats."""
        s, mask = self.scores(x, y, c)
        return s.diagonal().mean() - s[_off_diagonal(s, mask)].mean()

    def learning_loss(self, x: Tensor, y: Tensor, c: Tensor | None = None) -> Tensor:
        """Negative InfoNCE value of the critic."""
        return -_infonce(*self.scores(x, y, c))


#: Bound names accepted by :func:`make_bound` and :func:`~interplay.objectives.estimate_mi`.
BOUNDS: dict[str, type[MIBound]] = {
    "infonce": InfoNCE, "nwj": NWJ, "dv": DV, "club": CLUB, "nce_club": NCECLUB,
}


def make_bound(name: str, x_dim: int, y_dim: int, **kwargs: object) -> MIBound:
    """Build a bound by name (one of :data:`BOUNDS`); keyword arguments go to its constructor.

    Examples
    --------
    >>> make_bound("club", 3, 2).direction
    'upper'
    """
    name = check_choice(name, "bound", tuple(BOUNDS))
    return BOUNDS[name](x_dim, y_dim, **kwargs)  # type: ignore[arg-type]
