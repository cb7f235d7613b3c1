"""Compile an encoder graph, a decoder graph and beta into a training objective.

The deep variational multivariate information bottleneck (Abdelaleem, Nemenman & Martini,
JMLR 2025) minimises

    L = I_{G_E} - beta * I_{G_D},

the multi-information of the encoder graph (what to compress) minus beta times that of the
decoder graph (what to keep). Each term is replaced by a variational bound:

* encoder node ``Z`` with parents ``P``: ``I(P; Z) <= E KL(q(z | p) || N(0, I))`` (a Gaussian
  encoder); a deterministic encoder has no finite bound and contributes no term;
* decoder edge ``Z -> X`` (or ``Z_1, Z_2 -> X``): ``I(Z; X) >= H(X) + E log p(x | z)``; the
  entropy is a constant, so the term is the log-likelihood, Gaussian (unit variance), Bernoulli
  or categorical according to the kind of ``X``;
* decoder edge ``Z_1 ~ Z_2``: a neural lower bound on ``I(Z_1; Z_2)`` (InfoNCE by default;
  the paper's notebook uses Donsker-Varadhan/MINE, ``mi_bound="dv"``).

So the compiled loss is ``sum KL - beta * (sum log-likelihood + sum I_lower)``, every term a
per-sample mean in nats. With this convention the usual beta-VAE weight is ``1 / beta``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import check_choice, check_float
from ..exceptions import InvalidInputError
from ..training.objective import Objective, predictions
from .bounds import make_bound
from .critics import CRITICS, mlp
from .graph import IBGraph

__all__ = ["IBObjective", "MI_BOUNDS", "gaussian_kl"]

#: Lower bounds allowed on latent ~ latent edges.
MI_BOUNDS = ("infonce", "nwj", "dv")


def gaussian_kl(mu: Tensor, log_var: Tensor) -> Tensor:
    """``KL(N(mu, diag exp(log_var)) || N(0, I))`` per row, in nats."""
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(-1)


def _term_name(kind: str, sources: Sequence[str], target: str) -> str:
    return f"{kind}:{','.join(sources)}->{target}"


class IBObjective(Objective):
    """The objective compiled from an :class:`~interplay.objectives.graph.IBGraph` and beta.

    Owns one encoder network per latent (an MLP on its concatenated, flattened parents, giving
    a mean and log-variance, or a point for a deterministic latent), one decoder per
    reconstructed or predicted variable, and one critic per latent ~ latent edge.

    Parameters
    ----------
    graph : IBGraph
    beta : float, default 1.0
        Weight of the decoder terms (>= 0).
    hidden : sequence of int, default (256,)
        Hidden widths of every encoder and decoder MLP.
    mi_bound : {"infonce", "nwj", "dv"}, default "infonce"
        Lower bound for latent ~ latent edges.
    critic : {"separable", "bilinear", "concat"}, default "separable"
        Critic of those bounds.
    target : str, optional
        The observed variable that arrives as the ``target`` argument (a label) rather than in
        ``batch``.
    term_weights : dict of str to float, optional
        Extra non-negative weight of named terms (default 1 each), e.g.
        ``{"mi:Z_a~Z_b": 10.0}`` to weigh a shared-information edge above the reconstructions;
        decoder terms keep their factor beta.
    supervised : float, default 0.0
        Weight of a cross-entropy term (``"ce"``) on the predictions of the model the objective
        is trained beside (``Task(model, objective=...)``); 0 ignores the model's output.

    Notes
    -----
    ``forward(output, batch, target=None, noise=None)`` follows the training seam's objective
    signature (:mod:`interplay.training.objective`), so ``Task(model, objective=obj)`` and the
    ``objective:`` section of ``interplay train`` YAML train it. The objective owns its
    encoders and encodes ``batch`` itself; the model's ``output`` is read only for the
    ``supervised`` term. ``noise`` maps latent names to standard-normal tensors ``(B, dim)`` to
    fix the reparameterisation noise (tests, reproducible evaluation).
    """

    def __init__(self, graph: IBGraph, beta: float = 1.0, *, hidden: Sequence[int] = (256,),
                 mi_bound: str = "infonce", critic: str = "separable",
                 target: str | None = None, term_weights: Mapping[str, float] | None = None,
                 supervised: float = 0.0) -> None:
        super().__init__()
        self.supervised = check_float(supervised, "supervised", low=0.0)
        if not isinstance(graph, IBGraph):
            raise InvalidInputError(f"`graph` must be an IBGraph, got {type(graph).__name__}.")
        self.graph = graph
        self.beta = check_float(beta, "beta", low=0.0)
        self.mi_bound = check_choice(mi_bound, "mi_bound", MI_BOUNDS)
        critic = check_choice(critic, "critic", CRITICS)
        if target is not None and (target not in graph.observed
                                   or graph.observed[target].kind != "categorical"):
            raise InvalidInputError(
                f"`target` must name a categorical observed variable; got {target!r}."
            )
        self.target = target
        hidden = tuple(int(h) for h in hidden)

        def width(names: Sequence[str]) -> int:
            return sum(graph.observed[n].features if n in graph.observed else graph.latents[n].dim
                       for n in names)

        self.encoders = nn.ModuleDict({
            z: mlp(width(graph.parents(z)), spec.dim * (2 if spec.stochastic else 1), hidden)
            for z, spec in graph.latents.items()
        })
        self.decoders = nn.ModuleDict({
            x: mlp(width(zs), graph.observed[x].features, hidden)
            for x, zs in graph.reconstructions.items()
        })
        self.critics = nn.ModuleDict({
            f"{a}~{b}": make_bound(self.mi_bound, graph.latents[a].dim, graph.latents[b].dim,
                                   critic=critic, hidden=hidden)
            for a, b in graph.mi_edges
        })
        names = []
        for z in graph.order:
            if graph.latents[z].stochastic:
                names.append(_term_name("kl", graph.parents(z), z))
        names += [_term_name("loglik", zs, x) for x, zs in graph.reconstructions.items()]
        names += [f"mi:{a}~{b}" for a, b in graph.mi_edges]
        weights = dict(term_weights or {})
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise InvalidInputError(f"`term_weights` names {unknown}, which are not terms of "
                                    f"these graphs; the terms are {names}.")
        self.term_weights = {k: check_float(v, f"term_weights[{k!r}]", low=0.0)
                             for k, v in weights.items()}
        if self.supervised > 0:
            names.append("ce")
        #: Names of the terms :meth:`forward` returns besides ``"loss"``.
        self.term_names: tuple[str, ...] = tuple(names)

    # -- data -----------------------------------------------------------------------------
    def _observed(self, batch: Mapping[str, Tensor], target: Any, *,
                  only: set[str] | None = None) -> tuple[dict[str, Tensor], int]:
        """The batch's observed variables (all needed, or ``only``) checked, and the batch size."""
        if not isinstance(batch, Mapping):
            raise InvalidInputError(f"`batch` must be a dict {{name: tensor}}, got "
                                    f"{type(batch).__name__}.")
        values: dict[str, Tensor] = {}
        needed = (set(self.graph.inputs) | set(self.graph.reconstructions)) if only is None \
            else only
        for name in sorted(needed):
            spec = self.graph.observed[name]
            if name == self.target and target is not None:
                t = target
            elif name in batch:
                t = batch[name]
            else:
                where = "the `target` argument" if name == self.target else "`batch`"
                raise InvalidInputError(f"The objective needs {name!r} in {where}; the batch "
                                        f"holds {sorted(batch)}.")
            if not isinstance(t, Tensor):
                raise InvalidInputError(f"{name!r} must be a tensor, got {type(t).__name__}.")
            if tuple(t.shape[1:]) != spec.sample_shape:
                raise InvalidInputError(
                    f"{name!r} must have shape (B, {', '.join(map(str, spec.sample_shape))}) "
                    f"as declared; got {tuple(t.shape)}."
                )
            if spec.kind == "categorical" and (t.is_floating_point() or t.numel() and (
                    int(t.min()) < 0 or int(t.max()) >= int(spec.n_classes or 0))):
                raise InvalidInputError(
                    f"{name!r} must hold integer labels in [0, {spec.n_classes}); got "
                    f"{t.dtype} values."
                )
            values[name] = t
        sizes = {name: t.shape[0] for name, t in values.items()}
        if len(set(sizes.values())) != 1:
            raise InvalidInputError(f"Every variable of a batch needs the same number of rows; "
                                    f"got {sizes}.")
        return values, next(iter(sizes.values()))

    def _flat(self, name: str, value: Tensor) -> Tensor:
        spec = self.graph.observed.get(name)
        if spec is not None and spec.kind == "categorical":
            return F.one_hot(value.long(), int(spec.n_classes or 0)).float()
        return value.reshape(value.shape[0], -1).float()

    # -- encoding -------------------------------------------------------------------------
    def encode(self, batch: Mapping[str, Tensor], target: Any = None, *,
               latents: Sequence[str] | None = None,
               noise: Mapping[str, Tensor] | None = None, sample: bool = True
               ) -> dict[str, tuple[Tensor, Tensor | None, Tensor]]:
        """Encode a batch: ``{latent: (mean, log_variance or None, value)}``.

        ``value`` is a reparameterised sample (``mean + exp(log_var / 2) * noise``) when
        ``sample`` is true, else the mean; deterministic latents have no log-variance. With
        ``latents``, only those (and the latents they are encoded from) are computed, and the
        batch needs only the observed variables they read.
        """
        wanted = list(self.graph.latents) if latents is None else list(latents)
        unknown = [z for z in wanted if z not in self.graph.latents]
        if unknown:
            raise InvalidInputError(f"`latents` must name latents of {sorted(self.graph.latents)}"
                                    f"; got {unknown}.")
        keep: set[str] = set()
        stack = list(wanted)
        while stack:
            z = stack.pop()
            if z not in keep:
                keep.add(z)
                stack += [p for p in self.graph.parents(z) if p in self.graph.latents]
        reads = {p for z in keep for p in self.graph.parents(z) if p in self.graph.observed}
        obs, _ = self._observed(batch, target, only=reads)
        return self._encode(obs, noise, sample, keep)

    def _encode(self, obs: dict[str, Tensor], noise: Mapping[str, Tensor] | None, sample: bool,
                keep: set[str] | None = None
                ) -> dict[str, tuple[Tensor, Tensor | None, Tensor]]:
        out: dict[str, tuple[Tensor, Tensor | None, Tensor]] = {}
        for z in self.graph.order:
            if keep is not None and z not in keep:
                continue
            spec = self.graph.latents[z]
            parents = [out[p][2] if p in out else self._flat(p, obs[p])
                       for p in self.graph.parents(z)]
            h = self.encoders[z](torch.cat(parents, dim=1))
            if not spec.stochastic:
                out[z] = (h, None, h)
                continue
            mu, log_var = h.chunk(2, dim=1)
            log_var = log_var.clamp(-12.0, 12.0)
            if not sample:
                out[z] = (mu, log_var, mu)
                continue
            eps = noise.get(z) if noise is not None else None
            if eps is None:
                eps = torch.randn_like(mu)
            elif tuple(eps.shape) != tuple(mu.shape):
                raise InvalidInputError(f"`noise[{z!r}]` must have shape {tuple(mu.shape)}; got "
                                        f"{tuple(eps.shape)}.")
            out[z] = (mu, log_var, mu + torch.exp(0.5 * log_var) * eps)
        return out

    # -- terms ----------------------------------------------------------------------------
    def _log_likelihood(self, name: str, logits: Tensor, value: Tensor) -> Tensor:
        spec = self.graph.observed[name]
        if spec.kind == "categorical":
            return -F.cross_entropy(logits, value.long(), reduction="none")
        x = value.reshape(value.shape[0], -1).to(logits.dtype)
        if spec.kind == "bernoulli":
            return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        return -0.5 * ((x - logits) ** 2).sum(1) - 0.5 * x.shape[1] * math.log(2 * math.pi)

    def forward(self, output: Any = None, batch: Mapping[str, Tensor] | None = None,
                target: Any = None, *, noise: Mapping[str, Tensor] | None = None
                ) -> dict[str, Tensor]:
        """Total loss (``"loss"``, with gradient) and every named term (nats, detached).

        Terms: ``kl:P->Z`` per stochastic latent (compression, an upper bound on ``I(P; Z)``),
        ``loglik:Z->X`` per decoded variable and ``mi:Z1~Z2`` per latent edge (kept
        information: a log-likelihood and a lower bound).
        """
        if batch is None:
            raise InvalidInputError("`batch` must be the dict of observed variables.")
        obs, _ = self._observed(batch, target)
        latents = self._encode(obs, noise, sample=True)
        terms: dict[str, Tensor] = {}
        compress: list[Tensor] = []
        keep: list[Tensor] = []
        for z in self.graph.order:
            mu, log_var, _ = latents[z]
            if log_var is not None:
                kl = gaussian_kl(mu, log_var).mean()
                name = _term_name("kl", self.graph.parents(z), z)
                terms[name] = kl
                compress.append(self.term_weights.get(name, 1.0) * kl)
        for x, zs in self.graph.reconstructions.items():
            logits = self.decoders[x](torch.cat([latents[z][2] for z in zs], dim=1))
            ll = self._log_likelihood(x, logits, obs[x]).mean()
            name = _term_name("loglik", zs, x)
            terms[name] = ll
            keep.append(self.term_weights.get(name, 1.0) * ll)
        for a, b in self.graph.mi_edges:
            mi = self.critics[f"{a}~{b}"](latents[a][2], latents[b][2])
            terms[f"mi:{a}~{b}"] = mi
            keep.append(self.term_weights.get(f"mi:{a}~{b}", 1.0) * mi)
        zero = next(iter(latents.values()))[0].new_zeros(())
        loss = sum(compress, zero) - self.beta * sum(keep, zero)
        if self.supervised > 0:
            if output is None or target is None:
                raise InvalidInputError("`supervised` > 0 needs the model's output and the "
                                        "target.")
            terms["ce"] = F.cross_entropy(predictions(output), target)
            loss = loss + self.supervised * terms["ce"]
        return {"loss": loss, **{k: v.detach() for k, v in terms.items()}}
