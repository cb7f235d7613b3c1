"""The ``auxiliary_targets`` objective: per-modality heads supervised by extra dataset targets.

Some targets cannot be learnt from their own labels by gradient descent on a fusion model
although the model can represent them. The parity of two digits, one seen and one heard
(``av-digits-synergy``), is the standard case: each modality alone is independent of the label,
so at the start of training the gradient reaching each encoder carries no signal about which
features to extract (see ``docs/model-selection.md``). When the dataset also records what each
modality shows (``image_digit``, ``audio_digit``), a classification head on each modality's
encoding, trained on that target, shapes the encoders; the fusion and its head then only have
to combine two informative encodings.

The total loss is

.. math::

    L = w_{main}(t)\\, \\ell(\\text{logits}, y) + w \\sum_m \\mathrm{CE}(h_m(z_m), a_m)

with :math:`z_m` the encoding of modality :math:`m`, :math:`h_m` its head and :math:`a_m` its
extra target. With ``warmup_epochs = k``, :math:`w_{main}(t) = 0` during the first ``k``
training epochs (only the encoders and the auxiliary heads learn), then ``main_weight``. The
loss reported on validation data always uses ``main_weight``, so early stopping compares every
epoch by the same measure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int
from ..exceptions import InvalidInputError
from .objective import MAIN_TARGET, LossFn, Objective, SupervisedObjective, main_target


def _weight(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value >= 0):
        raise InvalidInputError(f"`{name}` must be a finite number >= 0, got {value!r}.")
    return float(value)


class AuxiliaryTargetsObjective(Objective):
    """Main supervised loss plus one classification head per modality on an extra target.

    Parameters
    ----------
    targets : dict
        ``{modality: target name}``: the dataset target that each listed modality's head
        predicts from that modality's encoding (a class label, e.g. ``{"image": "image_digit",
        "audio": "audio_digit"}``). Each batch's target must then be a dict
        ``{"target": main, name: class codes, ...}``; ``interplay train`` builds it.
    weight : float, default 1.0
        Weight of each auxiliary cross-entropy.
    main_weight : float, default 1.0
        Weight of the main loss (after the warm-up).
    warmup_epochs : int, default 0
        Training epochs, from the first, in which the main loss has weight 0.
    hidden_dim : int, optional
        One hidden layer (ReLU) of this width in each auxiliary head; linear heads by default.
    loss : str or callable, default "cross_entropy"
        The main loss, as in :class:`~interplay.training.objective.SupervisedObjective`.
    classes : dict, optional
        ``{target name: number of classes}``; ``interplay train`` fills it from the data
        (:meth:`bind_targets`). Needed before the objective is given to a ``Task``.

    Notes
    -----
    The heads are built by :meth:`setup` (the ``Task`` calls it) on the model's encoders, whose
    ``output_dim`` sets their input size; they are trained and checkpointed with the task, and
    are not part of the model (evaluation reads the model alone). A modality that a balancer
    drops from a sample still counts in that sample's auxiliary loss.

    Examples
    --------
    >>> import torch
    >>> from interplay.models import create_encoder, create_fusion, create_head, MultimodalModel
    >>> from interplay.training import Task
    >>> model = MultimodalModel(
    ...     {"a": create_encoder("vector", 3, 4), "b": create_encoder("vector", 2, 4)},
    ...     create_fusion("tensor", {"a": 4, "b": 4}, 8), create_head("classification", 8, 2))
    >>> objective = AuxiliaryTargetsObjective({"a": "digit_a"}, classes={"digit_a": 10})
    >>> task = Task(model, objective=objective)
    >>> target = {"target": torch.tensor([0, 1]), "digit_a": torch.tensor([3, 7])}
    >>> sorted(task({"a": torch.randn(2, 3), "b": torch.randn(2, 2)}, target))
    ['accuracy', 'aux_a', 'loss', 'main']
    """

    name = "auxiliary_targets"
    description = ("Main loss plus per-modality heads supervised by extra targets of the "
                   "dataset (what each modality shows), with an optional warm-up.")

    def __init__(self, targets: Mapping[str, str], *, weight: float = 1.0,
                 main_weight: float = 1.0, warmup_epochs: int = 0,
                 hidden_dim: int | None = None, loss: str | LossFn = "cross_entropy",
                 classes: Mapping[str, int] | None = None) -> None:
        super().__init__()
        if not isinstance(targets, Mapping) or not targets:
            raise InvalidInputError(
                "`targets` must be a non-empty dict {modality: target name}, got "
                f"{targets!r}.")
        bad = {m: t for m, t in targets.items()
               if not isinstance(m, str) or not isinstance(t, str) or t == MAIN_TARGET}
        if bad:
            raise InvalidInputError(
                f"`targets` must map modality names to target names (other than "
                f"{MAIN_TARGET!r}), got {bad}.")
        self.targets = dict(targets)
        self.extra_targets = tuple(dict.fromkeys(self.targets.values()))
        self.weight = _weight(weight, "weight")
        self.main_weight = _weight(main_weight, "main_weight")
        self.warmup_epochs = check_int(warmup_epochs, "warmup_epochs", minimum=0)
        self.hidden_dim = None if hidden_dim is None else check_int(hidden_dim, "hidden_dim",
                                                                     minimum=1)
        self.main = SupervisedObjective(loss)
        self.classes: dict[str, int] = {}
        if classes is not None:
            self.bind_targets(classes)
        self.heads = nn.ModuleDict()
        self.term_names = ("main", *(f"aux_{m}" for m in self.targets))
        self._epoch = 0

    def bind_targets(self, classes: Mapping[str, int]) -> None:
        """Record the number of classes of each extra target (at least 2)."""
        if not isinstance(classes, Mapping):
            raise InvalidInputError(
                f"`classes` must be a dict {{target name: number of classes}}, got {classes!r}.")
        for name in self.extra_targets:
            if name not in classes:
                continue
            self.classes[name] = check_int(classes[name], f"classes[{name!r}]", minimum=2)

    def setup(self, model: nn.Module) -> None:
        """Build one head per listed modality on ``model.encoders[m].output_dim`` features."""
        encoders = getattr(model, "encoders", None)
        if not isinstance(encoders, (Mapping, nn.ModuleDict)):
            raise InvalidInputError(
                f"objective {self.name!r} needs a model with per-modality `encoders` (a "
                f"MultimodalModel or UnimodalModel), got {type(model).__name__}.")
        unknown = [m for m in self.targets if m not in encoders]
        if unknown:
            raise InvalidInputError(
                f"`targets` names modalities {unknown} that the model does not encode; it has "
                f"{list(encoders)}.")
        missing = [t for t in self.extra_targets if t not in self.classes]
        if missing:
            raise InvalidInputError(
                f"objective {self.name!r} does not know the number of classes of {missing}: "
                "give `classes` ({target name: number of classes}); `interplay train` reads "
                "them from the data.")
        for m, name in self.targets.items():
            dim = getattr(encoders[m], "output_dim", None)
            if not isinstance(dim, int):
                raise InvalidInputError(
                    f"the encoder of {m!r} ({type(encoders[m]).__name__}) has no integer "
                    "`output_dim`, which sizes its auxiliary head.")
            k = self.classes[name]
            self.heads[m] = (nn.Linear(dim, k) if self.hidden_dim is None else nn.Sequential(
                nn.Linear(dim, self.hidden_dim), nn.ReLU(), nn.Linear(self.hidden_dim, k)))

    def on_epoch_start(self, epoch: int) -> None:
        self._epoch = int(epoch)

    def auxiliary_logits(self, output: Any) -> dict[str, torch.Tensor]:
        """Each head's class logits ``{modality: (N, k)}`` from a model output."""
        embeddings = getattr(output, "embeddings", None)
        if not isinstance(embeddings, Mapping):
            raise InvalidInputError(
                f"objective {self.name!r} reads the modalities' encodings from a ModelOutput; "
                f"the model returned {type(output).__name__}.")
        logits = {}
        for m, head in self.heads.items():
            z = embeddings[m]
            if z.ndim != 2:
                raise InvalidInputError(
                    f"objective {self.name!r} needs one encoding vector per sample; {m!r} is "
                    f"encoded as shape {tuple(z.shape)}.")
            logits[m] = head(z)
        return logits

    def forward(self, output: Any, batch: Mapping[str, torch.Tensor],
                target: Any) -> dict[str, torch.Tensor]:
        if not self.heads:
            raise InvalidInputError(
                f"objective {self.name!r} has no heads yet: give it to a Task (which calls "
                "setup(model)) before using it.")
        if not isinstance(target, Mapping):
            raise InvalidInputError(
                f"objective {self.name!r} needs each batch's target as a dict "
                f"{{'target': main, {', '.join(repr(t) + ': ...' for t in self.extra_targets)}}}"
                f", got a {type(target).__name__}.")
        absent = [t for t in self.extra_targets if t not in target]
        if absent:
            raise InvalidInputError(
                f"objective {self.name!r} needs the extra targets {absent} in each batch's "
                f"target dict, which holds {sorted(target)}.")
        main = self.main(output, batch, main_target(target))["loss"]
        terms = {"main": main}
        total = main * (0.0 if self.training and self._epoch < self.warmup_epochs
                        else self.main_weight)
        for m, logits in self.auxiliary_logits(output).items():
            terms[f"aux_{m}"] = F.cross_entropy(logits, target[self.targets[m]])
            total = total + self.weight * terms[f"aux_{m}"]
        return {"loss": total, **terms}

    def extra_repr(self) -> str:
        return (f"targets={self.targets}, weight={self.weight}, main_weight={self.main_weight}, "
                f"warmup_epochs={self.warmup_epochs}")
