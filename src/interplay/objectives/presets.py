"""Named methods of the information-bottleneck table, each only a pair of graphs.

Every preset is a small subclass of :class:`~interplay.objectives.compiler.IBObjective` whose
:meth:`graphs` returns the encoder and decoder edges for the given views; the loss comes from
the compiler. Every preset is registered with the training seam, so
:func:`interplay.objectives.create_objective` (``create_objective("dvsib", modalities={"a": 64,
"b": 64}, latent_dim=8, beta=32.0)``), :func:`~interplay.objectives.list_objectives`,
``Task(model, objective=...)`` and the ``objective:`` section of a run config all reach it.
Latents are named ``Z`` (one shared latent), ``Z_<view>`` (one per view) and
``W_<view>`` (private to a view); the label variable is ``label``.

=====================  ====================================  ===================================
preset                 encoder graph                         decoder graph
=====================  ====================================  ===================================
``beta-vae``           ``v -> Z_v`` for every view           ``Z_v -> v``
``dvib``               every view ``-> Z``                   ``Z -> label``
``beta-dvcca``         first view ``-> Z``                   ``Z -> v`` for every view
``beta-dvcca-private`` first view ``-> Z``; ``v -> W_v``     ``Z, W_v -> v``
``dvsib``              ``v -> Z_v``                          ``Z_v -> v``; ``Z_u ~ Z_v``
``dvsib-private``      ``v -> Z_v``; ``v -> W_v``            ``Z_v, W_v -> v``; ``Z_u ~ Z_v``
``dsib``               ``v -> Z_v`` (deterministic)          ``Z_u ~ Z_v``
``multi-view-ib``      ``v -> Z_v``                          ``Z_u -> v`` (u != v); ``Z_u ~ Z_v``
=====================  ====================================  ===================================
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any, ClassVar

from .._validation import check_choice, check_int
from ..exceptions import InvalidInputError
from .compiler import IBObjective
from .graph import IBGraph, Latent, Observed

__all__ = ["PRESETS", "compile_objective"]

Edges = list[tuple[str, str]]


def compile_objective(observed: Mapping[str, Observed], latents: Mapping[str, Latent],
                      encoder: Sequence[Sequence[str]], decoder: Sequence[Sequence[str]],
                      beta: float = 1.0, **options: Any) -> IBObjective:
    """Compile two graphs and beta into an objective (options as :class:`IBObjective`).

    Examples
    --------
    >>> import torch
    >>> obj = compile_objective({"x": Observed(4)}, {"z": Latent(2)}, [("x", "z")],
    ...                         [("z", "x")], beta=1.0)
    >>> sorted(obj(None, {"x": torch.randn(8, 4)}))
    ['kl:x->z', 'loglik:z->x', 'loss']
    """
    graph = IBGraph(dict(observed), dict(latents), list(encoder), list(decoder))  # type: ignore
    return IBObjective(graph, beta, **options)


class _Preset(IBObjective):
    """A preset: graphs from the views; everything else from :class:`IBObjective`.

    Parameters
    ----------
    modalities : dict of str to int, tuple/list or Observed
        The views and their sample shapes (an int for a vector) or full specifications.
    latent_dim : int, default 16
        Width of each shared or per-view latent.
    beta : float, default 1.0
        Weight of the decoder terms (see :mod:`interplay.objectives.compiler`).
    target_classes : int, optional
        Number of label classes; required by presets that predict the label (``dvib``).
    private_dim : int, optional
        Width of private latents (default ``latent_dim``).
    kind : {"gaussian", "bernoulli"}, default "gaussian"
        Likelihood of views given as shapes.
    **options
        ``hidden``, ``mi_bound``, ``critic``, ``term_weights``, ``supervised``: as
        :class:`IBObjective`.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    min_views: ClassVar[int] = 1
    needs_label: ClassVar[bool] = False
    deterministic: ClassVar[bool] = False

    def __init__(self, modalities: Mapping[str, Any], latent_dim: int = 16, beta: float = 1.0,
                 *, target_classes: int | None = None, private_dim: int | None = None,
                 kind: str = "gaussian", **options: Any) -> None:
        if not isinstance(modalities, Mapping) or len(modalities) < self.min_views:
            raise InvalidInputError(
                f"`modalities` must be a dict of at least {self.min_views} view(s) for "
                f"{self.name!r}; got {modalities!r}."
            )
        kind = check_choice(kind, "kind", ("gaussian", "bernoulli"))
        views = {str(m): s if isinstance(s, Observed) else
                 Observed(tuple(s) if isinstance(s, (list, tuple)) else s, kind)
                 for m, s in modalities.items()}
        if "label" in views:
            raise InvalidInputError("'label' is reserved for the target; rename that modality.")
        d = check_int(latent_dim, "latent_dim", minimum=1)
        dp = d if private_dim is None else check_int(private_dim, "private_dim", minimum=1)
        if self.needs_label:
            if target_classes is None:
                raise InvalidInputError(f"{self.name!r} predicts a label: pass `target_classes`.")
            views["label"] = Observed((), "categorical", check_int(target_classes,
                                                                   "target_classes", minimum=2))
            options.setdefault("target", "label")
        names = [m for m in views if m != "label"]
        encoder, decoder = self.graphs(names)
        latents = {z: Latent(dp if z.startswith("W_") else d, not self.deterministic)
                   for z in dict.fromkeys(b for _, b in encoder)}
        super().__init__(IBGraph(views, latents, encoder, decoder), beta, **options)
        self.views = tuple(names)

    @staticmethod
    @abstractmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """Encoder and decoder edges for the given views."""


def _shared_pairs(views: Sequence[str]) -> Edges:
    return [(f"Z_{a}", f"Z_{b}") for a, b in combinations(views, 2)]


class BetaVAE(_Preset):
    """One beta-VAE per view: compress each view into its own latent and reconstruct it."""

    name = "beta-vae"
    description = "beta-VAE per view: v -> Z_v -> v."

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``v -> Z_v``; ``Z_v -> v``."""
        return [(v, f"Z_{v}") for v in views], [(f"Z_{v}", v) for v in views]


class DVIB(_Preset):
    """Deep variational IB (Alemi et al. 2017): compress all views, predict the label."""

    name = "dvib"
    description = "Deep variational IB (supervised): views -> Z -> label."
    needs_label = True

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``v -> Z``; ``Z -> label``."""
        return [(v, "Z") for v in views], [("Z", "label")]


class BetaDVCCA(_Preset):
    """beta-DVCCA (Wang et al. 2016, with beta): the first view's latent reconstructs all views."""

    name = "beta-dvcca"
    description = "beta-DVCCA: first view -> Z -> every view."
    min_views = 2

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``views[0] -> Z``; ``Z -> v``."""
        return [(views[0], "Z")], [("Z", v) for v in views]


class BetaDVCCAPrivate(_Preset):
    """beta-DVCCA-private: a shared latent from the first view plus a private latent per view."""

    name = "beta-dvcca-private"
    description = "beta-DVCCA-private: first view -> Z, v -> W_v; Z, W_v -> v."
    min_views = 2

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``views[0] -> Z``, ``v -> W_v``; ``Z, W_v -> v``."""
        enc = [(views[0], "Z")] + [(v, f"W_{v}") for v in views]
        dec = [e for v in views for e in (("Z", v), (f"W_{v}", v))]
        return enc, dec


class DVSIB(_Preset):
    """Deep variational symmetric IB: compress each view, keep what the latents share."""

    name = "dvsib"
    description = "DVSIB: v -> Z_v; Z_v -> v and Z_u ~ Z_v."
    min_views = 2

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``v -> Z_v``; ``Z_v -> v``, ``Z_u ~ Z_v``."""
        return ([(v, f"Z_{v}") for v in views],
                [(f"Z_{v}", v) for v in views] + _shared_pairs(views))


class DVSIBPrivate(_Preset):
    """DVSIB with a private latent per view that only helps reconstruct its own view."""

    name = "dvsib-private"
    description = "DVSIB-private: v -> Z_v, W_v; Z_v, W_v -> v and Z_u ~ Z_v."
    min_views = 2

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``v -> Z_v``, ``v -> W_v``; ``Z_v, W_v -> v``, ``Z_u ~ Z_v``."""
        enc = [e for v in views for e in ((v, f"Z_{v}"), (v, f"W_{v}"))]
        dec = [e for v in views for e in ((f"Z_{v}", v), (f"W_{v}", v))]
        return enc, dec + _shared_pairs(views)


class DSIB(_Preset):
    """Deterministic symmetric IB: the deterministic limit of DVSIB (contrastive learning)."""

    name = "dsib"
    description = "DSIB (deterministic DVSIB): v -> Z_v; Z_u ~ Z_v only."
    min_views = 2
    deterministic = True

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``v -> Z_v`` (deterministic); ``Z_u ~ Z_v``."""
        return [(v, f"Z_{v}") for v in views], _shared_pairs(views)


class MultiViewIB(_Preset):
    """Multi-view IB (Federici et al. 2020) written as graphs.

    Federici et al. minimise ``I(Z_1; V_1 | V_2) - lambda I(Z_1; Z_2)`` (and symmetrically);
    with ``Z_1`` encoded from ``V_1`` alone, ``I(Z_1; V_1 | V_2) = I(Z_1; V_1) - I(Z_1; V_2)``, so
    each view is compressed (KL term) while its latent must predict the *other* views
    (cross-reconstruction) and share information with their latents. The original paper
    estimates the conditional term by a symmetrised KL between the two posteriors instead.
    """

    name = "multi-view-ib"
    description = "Multi-view IB (Federici et al.): v -> Z_v; Z_u -> v (u != v), Z_u ~ Z_v."
    min_views = 2

    @staticmethod
    def graphs(views: Sequence[str]) -> tuple[Edges, Edges]:
        """``v -> Z_v``; ``Z_u -> v`` for ``u != v``, ``Z_u ~ Z_v``."""
        cross = [(f"Z_{u}", v) for u in views for v in views if u != v]
        return [(v, f"Z_{v}") for v in views], cross + _shared_pairs(views)


#: The presets by name.
PRESETS: dict[str, type[_Preset]] = {
    cls.name: cls for cls in (BetaVAE, DVIB, BetaDVCCA, BetaDVCCAPrivate, DVSIB, DVSIBPrivate,
                              DSIB, MultiViewIB)
}
