"""FactorCL as a training objective on a fusion model's per-modality embeddings.

:class:`FactorCLSupObjective` (``"factorcl_sup"``) and :class:`FactorCLSSLObjective`
(``"factorcl_ssl"``) put FactorCL's shared and unique heads (:class:`~interplay.objectives.
FactorCL` with ``encoders=False``) on the embeddings of two modalities of a
:class:`~interplay.models.MultimodalModel`, whose encoders play FactorCL's encoders. The
NCE-CLUB critics are the objective's *auxiliary parameters*: the trainer gives them their own
optimiser and takes ``critic_steps`` steps of their InfoNCE learning loss after each main step.
A YAML run selects it with::

    objective: {name: factorcl_sup, options: {modalities: [fou, kar]}}

Sequence embeddings ``(N, T, d)`` are mean-pooled over time; the two widths may differ (each
head has its own input width). FactorCL-SSL augments the batch's inputs (Gaussian noise, then
optionally masking) and encodes them with the model's encoders to get the views it conditions
on. A ``supervised_weight`` adds the cross-entropy of the model's predictions, so the head
learns too and the run reports accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError
from ..models.output import ModelOutput
from ..training.objective import Objective, predictions
from .augment import Augmentation, Compose, FeatureMask, GaussianNoise
from .critics import CRITICS
from .factorcl import FactorCL

__all__ = ["FactorCLSSLObjective", "FactorCLSupObjective"]

_TERMS = ("nce_shared", "club_shared_given_y", "nce_unique1_y", "nce_unique2_y", "club_unique",
          "nce_unique_given_y")


def _embeddings(output: Any, who: str) -> Mapping[str, Tensor]:
    if not isinstance(output, ModelOutput):
        raise InvalidInputError(
            f"objective {who!r} needs a model that returns a ModelOutput with per-modality "
            f"embeddings; got {type(output).__name__}.")
    return output.embeddings


def _pooled(embeddings: Mapping[str, Tensor], modalities: Sequence[str]) -> list[Tensor]:
    out = []
    for m in modalities:
        if m not in embeddings:
            raise InvalidInputError(f"modality {m!r} has no embedding in the model's output; it "
                                    f"has {sorted(embeddings)}")
        z = embeddings[m]
        out.append(z.mean(dim=1) if z.ndim == 3 else z)
    return out


def _with_negatives(h: list[Tensor], who: str) -> list[Tensor]:
    if h[0].shape[0] < 2:
        raise InvalidInputError(f"objective {who!r} needs batches of at least 2 samples (the "
                                "other samples are the negatives); got a batch of 1")
    return h


class _FactorCLObjective(Objective):
    """FactorCL on two modalities of a fusion model (see the module docstring).

    Parameters
    ----------
    modalities : (str, str)
        The two modalities whose embeddings FactorCL factorises.
    feat_dim : int, default 32
        Width of each factor head.
    hidden : sequence of int, default (128,)
        Hidden widths of heads and critics.
    critic : {"separable", "bilinear", "concat"}, default "separable"
    critic_steps : int, default 1
        Steps of the NCE-CLUB critics' own optimiser per batch (at least 1).
    supervised_weight : float, default 0.0
        Weight of a cross-entropy term on the model's predictions.
    """

    mode: str
    term_names = _TERMS
    learns_representations = True
    min_batch_size = 2

    def __init__(self, modalities: Sequence[str] | None = None, *, feat_dim: int = 32,
                 hidden: Sequence[int] = (128,), critic: str = "separable",
                 critic_steps: int = 1, supervised_weight: float = 0.0) -> None:
        super().__init__()
        if (isinstance(modalities, str) or not isinstance(modalities, Sequence)
                or len(modalities) != 2 or modalities[0] == modalities[1]):
            raise InvalidInputError(
                f"`modalities` must name two different modalities; got {modalities!r}")
        self.modalities = (str(modalities[0]), str(modalities[1]))
        self.feat_dim = check_int(feat_dim, "feat_dim", minimum=1)
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise InvalidInputError(f"`hidden` must be a list of widths; got {hidden!r}")
        self.hidden = tuple(check_int(h, "hidden", minimum=1) for h in hidden)
        self.critic = check_choice(critic, "critic", tuple(CRITICS))
        self.auxiliary_steps = check_int(critic_steps, "critic_steps", minimum=1)
        self.supervised_weight = check_float(supervised_weight, "supervised_weight", low=0.0)
        if self.supervised_weight:
            self.term_names = (*_TERMS, "supervised")
        self.factorcl: FactorCL | None = None

    def _widths(self, model: nn.Module) -> tuple[int, int]:
        dims = getattr(getattr(model, "fusion", None), "input_dims", None)
        if not isinstance(dims, Mapping):
            raise InvalidInputError(
                f"objective {self.name!r} needs a fusion model (MultimodalModel) whose "
                f"encoders give per-modality embeddings; got {type(model).__name__}.")
        missing = [m for m in self.modalities if m not in dims]
        if missing:
            raise InvalidInputError(f"objective {self.name!r}: `modalities` {missing} are not "
                                    f"among the model's modalities {list(dims)}")
        return int(dims[self.modalities[0]]), int(dims[self.modalities[1]])

    def _build(self, widths: tuple[int, int], n_classes: int | None) -> None:
        self.factorcl = FactorCL(widths, n_classes, mode=self.mode, feat_dim=self.feat_dim,
                                 hidden=self.hidden, critic=self.critic, encoders=False)

    def _model(self) -> FactorCL:
        if self.factorcl is None:
            raise InvalidInputError(f"objective {self.name!r} is not bound to a model: give "
                                    "it to Task(model, objective=...) first.")
        return self.factorcl

    def _views(self, batch: Mapping[str, Tensor]) -> dict[str, Tensor] | None:
        return None

    def _condition(self, target: Any) -> Tensor | None:
        return None

    def forward(self, output: Any, batch: Mapping[str, Tensor],
                target: Any) -> dict[str, Tensor]:
        fcl = self._model()
        h1, h2 = _with_negatives(_pooled(_embeddings(output, self.name), self.modalities),
                                 self.name)
        t = fcl.factor_terms(fcl.heads(h1, h2), self._condition(target), self._views(batch))
        if self.supervised_weight:
            t["supervised"] = F.cross_entropy(predictions(output), target)
            t["loss"] = t["loss"] + self.supervised_weight * t["supervised"]
        return t

    def representations(self, output: Any,
                        batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """FactorCL's factors: ``"<m>:shared"`` and ``"<m>:unique"`` of both modalities
        (concatenated, the representation FactorCL's probe reads)."""
        fcl = self._model()
        h1, h2 = _pooled(_embeddings(output, self.name), self.modalities)
        z = fcl.heads(h1, h2)
        a, b = self.modalities
        return {f"{a}:shared": z["z1s"], f"{a}:unique": z["z1u"], f"{b}:shared": z["z2s"],
                f"{b}:unique": z["z2u"]}

    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """The NCE-CLUB critics (trained by :meth:`auxiliary_loss` only)."""
        return self._model().critic_parameters()

    def auxiliary_loss(self, output: Any, batch: Mapping[str, Tensor],
                       target: Any) -> Tensor:
        """The critics' InfoNCE learning loss on the batch's (detached) factors."""
        fcl = self._model()
        h1, h2 = _with_negatives(_pooled(_embeddings(output, self.name), self.modalities),
                                 self.name)
        with torch.no_grad():
            z = fcl.heads(h1.detach(), h2.detach())
            views = self._views(batch)
        return fcl.factor_critic_loss(z, self._condition(target), views)


class FactorCLSupObjective(_FactorCLObjective):
    __doc__ = _FactorCLObjective.__doc__

    name = "factorcl_sup"
    description = ("FactorCL-SUP on two modality embeddings: shared and unique factors "
                   "conditioned on the class label (NCE-CLUB critics on their own optimiser).")
    mode = "sup"

    def setup(self, model: nn.Module) -> None:
        """Build the heads and critics for the model's embedding widths and classes."""
        widths = self._widths(model)
        n_classes = getattr(getattr(model, "head", None), "n_classes", None)
        if not isinstance(n_classes, int):
            raise InvalidInputError(
                f"objective {self.name!r} conditions on class labels: it needs a "
                "classification model (task: classification); use factorcl_ssl otherwise.")
        self._build(widths, n_classes)

    def _condition(self, target: Any) -> Tensor | None:
        if not isinstance(target, Tensor) or target.is_floating_point():
            raise InvalidInputError(f"objective {self.name!r} needs integer class labels as "
                                    "targets; got "
                                    f"{getattr(target, 'dtype', type(target).__name__)}")
        return target


class FactorCLSSLObjective(_FactorCLObjective):
    """FactorCL-SSL on two modalities of a fusion model: conditions on augmented views.

    Parameters
    ----------
    modalities, feat_dim, hidden, critic, critic_steps, supervised_weight
        As for ``factorcl_sup``.
    noise_std : float, default 0.3
        Standard deviation of the Gaussian noise added to every input (inputs of an
        ``interplay train`` run are standardised).
    mask_p : float, default 0.0
        Then zero each entry (vectors), time step (sequences) or pixel (images) with this
        probability.
    """

    name = "factorcl_ssl"
    description = ("FactorCL-SSL on two modality embeddings: shared and unique factors "
                   "conditioned on augmented views (noise, masking).")
    mode = "ssl"

    def __init__(self, modalities: Sequence[str] | None = None, *, noise_std: float = 0.3,
                 mask_p: float = 0.0, **options: Any) -> None:
        super().__init__(modalities, **options)
        augs: list[Augmentation] = [GaussianNoise(noise_std)]
        if check_float(mask_p, "mask_p", low=0.0, high=1.0, high_open=True) > 0:
            augs.append(FeatureMask(mask_p))
        self._augment: Augmentation = Compose(augs)
        self._encode: Callable[[Mapping[str, Tensor]], dict[str, Tensor]] | None = None

    def setup(self, model: nn.Module) -> None:
        """Build the heads and critics; keep the model's ``encode`` for the augmented views."""
        widths = self._widths(model)
        encode = getattr(model, "encode", None)
        if not callable(encode):
            raise InvalidInputError(f"objective {self.name!r} encodes augmented views: it needs "
                                    f"a model with encode(inputs); {type(model).__name__} has "
                                    "none.")
        self._encode = encode
        self._build(widths, None)

    def _views(self, batch: Mapping[str, Tensor]) -> dict[str, Tensor] | None:
        fcl = self._model()
        if self._encode is None:  # pragma: no cover - setup() sets both
            raise InvalidInputError(f"objective {self.name!r} has no encoder for its views")
        views = {m: self._augment(x, None) for m, x in batch.items()}
        h1, h2 = _pooled(self._encode(views), self.modalities)
        return fcl.heads(h1, h2)
