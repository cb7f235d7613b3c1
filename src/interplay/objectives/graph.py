"""The two graphs of the variational multivariate information bottleneck, and their checks.

An :class:`IBGraph` names the observed variables, the latents, the encoder graph (what to
compress: edges into latents) and the decoder graph (what to keep: latent -> observed
reconstructions and predictions, latent ~ latent shared information). It only validates and
orders; :class:`~interplay.objectives.compiler.IBObjective` turns it into a loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .._validation import check_choice, check_int
from ..exceptions import InvalidInputError

__all__ = ["IBGraph", "KINDS", "Latent", "Observed"]

#: Kinds of observed variables and the likelihood their decoder uses.
KINDS = ("gaussian", "bernoulli", "categorical")


@dataclass(frozen=True)
class Observed:
    """An observed variable.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of one sample (flattened for the networks); ``()`` or 1 for a label.
    kind : {"gaussian", "bernoulli", "categorical"}
        Decoder likelihood: unit-variance Gaussian, independent Bernoulli per feature (values in
        [0, 1]), or categorical over ``n_classes`` (integer labels of shape ``(B,)``).
    n_classes : int, optional
        Number of classes, required for (and only for) ``"categorical"``.
    """

    shape: int | tuple[int, ...]
    kind: str = "gaussian"
    n_classes: int | None = None

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", KINDS)
        if self.kind == "categorical":
            if self.n_classes is None:
                raise InvalidInputError("A categorical variable needs `n_classes` (>= 2).")
            check_int(self.n_classes, "n_classes", minimum=2)
        elif self.n_classes is not None:
            raise InvalidInputError(
                f"`n_classes` is only for categorical variables; this one is {self.kind!r}."
            )
        dims = (self.shape,) if isinstance(self.shape, int) else tuple(self.shape)
        for d in dims:
            check_int(d, "shape", minimum=1)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Expected shape of one sample in a batch."""
        if self.kind == "categorical":
            return ()
        return (self.shape,) if isinstance(self.shape, int) else tuple(self.shape)

    @property
    def features(self) -> int:
        """Width of the flattened input (one-hot width for a categorical variable)."""
        if self.kind == "categorical":
            return int(self.n_classes or 0)
        return int(math.prod(self.sample_shape))


@dataclass(frozen=True)
class Latent:
    """A latent variable of ``dim`` features; Gaussian ``q(z|parents)`` or deterministic."""

    dim: int
    stochastic: bool = True

    def __post_init__(self) -> None:
        check_int(self.dim, "latent dim", minimum=1)


def _pairs(edges: Iterable[Sequence[str]], arg: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for e in edges:
        if isinstance(e, str) or len(e) != 2 or not all(isinstance(v, str) for v in e):
            raise InvalidInputError(f"Each edge of `{arg}` must be a (source, target) pair of "
                                    f"variable names; got {e!r}.")
        pair = (e[0], e[1])
        if pair in out:
            raise InvalidInputError(f"`{arg}` lists the edge {pair[0]} -> {pair[1]} twice.")
        out.append(pair)
    return out


@dataclass
class IBGraph:
    """Encoder and decoder graphs over observed variables and latents.

    Parameters
    ----------
    observed : dict of str to Observed
    latents : dict of str to Latent
    encoder : list of (source, latent)
        Sources are observed variables or other latents; the graph must be acyclic.
    decoder : list of (latent, variable)
        ``(latent, observed)``: a reconstruction or prediction edge (several latents into one
        observed variable share one decoder ``p(x | z_1, z_2, ...)``); ``(latent, latent)``: an
        undirected shared-information edge.
    """

    observed: dict[str, Observed]
    latents: dict[str, Latent]
    encoder: list[tuple[str, str]]
    decoder: list[tuple[str, str]]
    #: Latents in an order where every latent comes after its latent parents.
    order: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.observed, Mapping) or not isinstance(self.latents, Mapping):
            raise InvalidInputError("`observed` and `latents` must be dicts of name -> spec.")
        for name, spec in self.observed.items():
            if not isinstance(spec, Observed):
                raise InvalidInputError(f"`observed[{name!r}]` must be an Observed, got "
                                        f"{type(spec).__name__}.")
        for name, spec in self.latents.items():
            if not isinstance(spec, Latent):
                raise InvalidInputError(f"`latents[{name!r}]` must be a Latent, got "
                                        f"{type(spec).__name__}.")
        both = set(self.observed) & set(self.latents)
        if both:
            raise InvalidInputError(f"Names {sorted(both)} are both observed and latent.")
        if not self.latents:
            raise InvalidInputError("The graphs need at least one latent.")
        self.encoder = _pairs(self.encoder, "encoder")
        self.decoder = _pairs(self.decoder, "decoder")
        known = set(self.observed) | set(self.latents)
        for arg, edges in (("encoder", self.encoder), ("decoder", self.decoder)):
            for a, b in edges:
                for v in (a, b):
                    if v not in known:
                        raise InvalidInputError(
                            f"`{arg}` edge {a} -> {b} names the unknown variable {v!r}; known "
                            f"variables are {sorted(known)}."
                        )
        for a, b in self.encoder:
            if b not in self.latents:
                raise InvalidInputError(
                    f"Encoder edge {a} -> {b} must end in a latent; {b!r} is observed."
                )
        for a, b in self.decoder:
            if a not in self.latents:
                raise InvalidInputError(
                    f"Decoder edge {a} -> {b} must start at a latent; {a!r} is observed."
                )
            if a == b:
                raise InvalidInputError(f"Decoder edge {a} ~ {b} joins a latent to itself.")
        links = {frozenset(e) for e in self.mi_edges}
        if len(links) != len(self.mi_edges):
            raise InvalidInputError("A latent ~ latent decoder edge is listed in both directions.")
        for z in self.latents:
            if not self.parents(z):
                raise InvalidInputError(
                    f"Latent {z!r} has no encoder edge: nothing feeds it. Add (source, {z!r}) "
                    f"to `encoder`."
                )
        decoded = {a for a, _ in self.decoder} | {b for _, b in self.mi_edges}
        for z in self.latents:
            if z not in decoded:
                raise InvalidInputError(
                    f"Latent {z!r} is decoded by nothing: add a decoder edge from it to an "
                    f"observed variable or to another latent (it would only be compressed)."
                )
        self.order = self._topological_order()

    def parents(self, latent: str) -> list[str]:
        """Encoder parents of ``latent`` in edge order."""
        return [a for a, b in self.encoder if b == latent]

    @property
    def reconstructions(self) -> dict[str, list[str]]:
        """``{observed: [latents decoding it]}`` for every latent -> observed edge."""
        out: dict[str, list[str]] = {}
        for a, b in self.decoder:
            if b in self.observed:
                out.setdefault(b, []).append(a)
        return out

    @property
    def mi_edges(self) -> list[tuple[str, str]]:
        """Latent ~ latent decoder edges."""
        return [(a, b) for a, b in self.decoder if b in self.latents]

    @property
    def inputs(self) -> list[str]:
        """Observed variables the encoders read."""
        return sorted({a for a, _ in self.encoder if a in self.observed})

    def _topological_order(self) -> list[str]:
        pending = {z: {p for p in self.parents(z) if p in self.latents} for z in self.latents}
        order: list[str] = []
        while pending:
            ready = [z for z, deps in pending.items() if not deps]
            if not ready:
                raise InvalidInputError(
                    f"The encoder graph has a cycle among the latents {sorted(pending)}; an "
                    f"encoder graph must be acyclic."
                )
            for z in ready:
                order.append(z)
                del pending[z]
            for deps in pending.values():
                deps.difference_update(ready)
        return order
