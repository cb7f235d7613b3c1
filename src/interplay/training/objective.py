"""Objectives: what a training step minimises, read from a model's whole output.

An objective is called as ``objective(output, batch, target)`` with ``output`` the model's
:class:`~interplay.models.ModelOutput` (or whatever a plain model returned), ``batch`` the
dict ``{modality: tensor}`` the model saw and ``target`` the batch's targets. It returns a
dict of scalar tensors: ``"loss"``, the total to minimise, plus any named terms worth logging
(``{"loss": ..., "ce": ..., "kl": ...}``). A plain function with that signature is an objective;
a subclass of :class:`Objective` (an ``nn.Module``, so its parameters are trained and
checkpointed with the model) also joins the registry behind :func:`create_objective` and YAML
``objective:`` sections. The default, :class:`SupervisedObjective`, is the weighted sum of the
plain supervised losses (cross-entropy, MSE, ...) on the predictions.
"""

from __future__ import annotations

import importlib
import math
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice
from ..exceptions import InvalidInputError
from ..models.output import ModelOutput

#: A loss or metric on predictions: ``fn(predictions_or_output, target) -> scalar tensor``.
LossFn = Callable[[Any, Any], torch.Tensor]
#: An objective: ``objective(output, batch, target) -> {"loss": total, name: term, ...}``.
ObjectiveFn = Callable[[Any, Mapping[str, torch.Tensor], Any], dict[str, torch.Tensor]]


def _cross_entropy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(pred, target)


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(pred.reshape(target.shape), target.to(pred.dtype))


def _mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(pred.reshape(target.shape), target.to(pred.dtype))


def _bce(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(pred.reshape(target.shape), target.to(pred.dtype))


def _accuracy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if pred.ndim == target.ndim + 1:
        hits = pred.argmax(dim=-1) == target
    else:  # one logit per sample: binary decision at 0
        hits = (pred.reshape(target.shape) > 0).to(target.dtype) == target
    return hits.to(torch.float64).mean()


#: Built-in losses, selected by name.
LOSSES: dict[str, LossFn] = {
    "cross_entropy": _cross_entropy,
    "mse": _mse,
    "mae": _mae,
    "bce": _bce,
}

#: Built-in metrics, selected by name (every built-in loss is also a metric).
METRICS: dict[str, LossFn] = {"accuracy": _accuracy, **LOSSES}


def resolve_loss(spec: Any, table: Mapping[str, LossFn], arg: str) -> tuple[str, LossFn, bool]:
    """``(name, function, is_builtin)`` for a built-in name or a callable ``fn(output, target)``."""
    if isinstance(spec, str):
        if spec not in table:
            raise InvalidInputError(
                f"`{arg}` must be one of {', '.join(map(repr, sorted(table)))} or a callable "
                f"fn(output, target) -> tensor; got {spec!r}."
            )
        return spec, table[spec], True
    if callable(spec):
        return getattr(spec, "__name__", type(spec).__name__), spec, False
    raise InvalidInputError(
        f"`{arg}` must be a name or a callable fn(output, target) -> tensor; "
        f"got {type(spec).__name__}."
    )


def predictions(output: Any, output_key: str = "logits") -> torch.Tensor:
    """The prediction tensor inside a model output: ``output.logits`` of a
    :class:`~interplay.models.ModelOutput`, ``output[output_key]`` of a dict, else ``output``."""
    if isinstance(output, ModelOutput):
        return output.logits
    if isinstance(output, Mapping):
        if output_key not in output:
            raise InvalidInputError(
                f"The model returned a dict without the key `output_key`={output_key!r}; "
                f"its keys are {sorted(output)}."
            )
        return output[output_key]
    if not isinstance(output, torch.Tensor):
        raise InvalidInputError(
            "A model must return a tensor, a dict or a ModelOutput, got "
            f"{type(output).__name__}."
        )
    return output


#: Key of the main target when a batch's target is a dict that also holds extra targets.
MAIN_TARGET = "target"


def main_target(target: Any) -> Any:
    """The main target of a batch: ``target["target"]`` of a dict of targets (the main one and
    the extra ones an objective reads, see :attr:`Objective.extra_targets`), else ``target``.

    Examples
    --------
    >>> import torch
    >>> main_target({"target": torch.tensor([1, 0]), "digit": torch.tensor([3, 4])}).tolist()
    [1, 0]
    """
    if isinstance(target, Mapping):
        if MAIN_TARGET not in target:
            raise InvalidInputError(
                f"A dict of targets must hold the main target under {MAIN_TARGET!r}; its keys "
                f"are {sorted(target)}."
            )
        return target[MAIN_TARGET]
    return target


_REGISTRY: dict[str, type[Objective]] = {}


class Objective(nn.Module, metaclass=ABCMeta):
    """Base of registered objectives: subclass, set ``name`` and ``description``, implement
    :meth:`forward`; list the named terms it returns besides ``"loss"`` in :attr:`term_names`
    so that every epoch logs them (train and validation).

    Two optional hooks: :meth:`setup` builds what depends on the model (called once by
    :class:`~interplay.training.Task`); :meth:`auxiliary_parameters` and
    :meth:`auxiliary_loss` give parameters that the total loss must not train (FactorCL's
    NCE-CLUB critics) their own optimiser, which the trainer steps
    :attr:`auxiliary_steps` times after each main step.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    #: Names of the terms :meth:`forward` returns besides ``"loss"``.
    term_names: tuple[str, ...] = ()
    #: Steps of the auxiliary optimiser per batch (when there are auxiliary parameters).
    auxiliary_steps: int = 1
    #: True when the objective trains the per-modality embeddings as representations
    #: (contrastive, binding, FactorCL): ``interplay evaluate`` then scores them by default.
    learns_representations: ClassVar[bool] = False
    #: Fewest samples a batch may hold (2 for contrastive objectives: the other samples of a
    #: batch are the negatives); ``interplay train`` checks its batches against it.
    min_batch_size: ClassVar[int] = 1
    #: Targets of the dataset, besides the main one, that :meth:`forward` reads. When it names
    #: any, each batch's target is a dict ``{"target": main, name: tensor, ...}`` (``interplay
    #: train`` builds it on the same split, and calls :meth:`bind_targets` first).
    extra_targets: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _REGISTRY[cls.name] = cls

    @abstractmethod
    def forward(self, output: Any, batch: Mapping[str, torch.Tensor],
                target: Any) -> dict[str, torch.Tensor]:
        """``{"loss": total, name: term, ...}`` for one batch."""

    def setup(self, model: nn.Module) -> None:
        """Bind to the model the task trains (called once, before any optimiser exists):
        check that the objective fits it and build modules that depend on it. Default: none."""

    def bind_targets(self, classes: Mapping[str, int]) -> None:
        """Learn, before :meth:`setup`, the number of classes of each of :attr:`extra_targets`
        (``interplay train`` reads them from the data). Default: nothing to learn."""

    def on_epoch_start(self, epoch: int) -> None:
        """Called by the task before each training epoch (0-based ``epoch``; also after a
        resume, so a schedule over epochs keeps no state of its own). Default: none."""

    def representations(self, output: Any,
                        batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The representations this objective trains, by name, from the model's output on
        ``batch`` (``interplay evaluate`` scores them). Default: the model's per-modality
        embeddings."""
        return dict(output.embeddings) if isinstance(output, ModelOutput) else {}

    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """Parameters trained only by :meth:`auxiliary_loss`, with their own optimiser; the
        main optimiser and gradient clipping leave them alone. Default: none."""
        return []

    def auxiliary_loss(self, output: Any, batch: Mapping[str, torch.Tensor],
                       target: Any) -> torch.Tensor:
        """Loss of the auxiliary parameters on the batch the main step just used (``output``
        detached). Called only when :meth:`auxiliary_parameters` lists some."""
        raise InvalidInputError(
            f"objective {type(self).__name__} lists auxiliary parameters but defines no "
            "auxiliary_loss to train them.")


class SupervisedObjective(Objective):
    """The weighted sum of supervised losses on the predictions (the default objective).

    Parameters
    ----------
    loss : str, callable or dict, default "cross_entropy"
        One loss (a built-in name -- ``"cross_entropy"``, ``"mse"``, ``"mae"``, ``"bce"`` -- or a
        callable ``fn(output, target) -> scalar tensor``), or a dict ``{name: loss}`` of several
        whose weighted sum is the total. Built-in losses receive the predictions; callables the
        model's full output. Callables that are ``nn.Module``\\ s are trained with the model.
    weights : dict, optional
        Weight of each named loss (default 1 for each).
    output_key : str, default "logits"
        Key of the predictions when the model returns a dict.

    Examples
    --------
    >>> import torch
    >>> obj = SupervisedObjective({"mse": "mse", "mae": "mae"}, weights={"mae": 0.5})
    >>> out = obj(torch.tensor([[1.0], [3.0]]), {}, torch.tensor([0.0, 1.0]))
    >>> {k: round(float(v), 3) for k, v in out.items()}
    {'loss_mse': 2.5, 'loss_mae': 1.5, 'loss': 3.25}
    """

    name = "supervised"
    description = "Weighted sum of supervised losses (cross-entropy, MSE, MAE, BCE)."

    def __init__(self, loss: str | LossFn | Mapping[str, str | LossFn] = "cross_entropy", *,
                 weights: Mapping[str, float] | None = None,
                 output_key: str = "logits") -> None:
        super().__init__()
        self.output_key = str(output_key)
        specs = dict(loss) if isinstance(loss, Mapping) else {"loss": loss}
        if not specs:
            raise InvalidInputError("`loss` must name at least one loss, got an empty dict.")
        given = dict(weights or {})
        unknown = set(given) - set(specs)
        if unknown:
            raise InvalidInputError(
                f"`loss_weights` names losses {sorted(unknown)} that are not in `loss` "
                f"({sorted(specs)})."
            )
        self._losses: list[tuple[str, LossFn, bool, float]] = []
        self.loss_modules = nn.ModuleDict()
        for key, spec in specs.items():
            _, fn, builtin = resolve_loss(spec, LOSSES, "loss")
            w = given.get(key, 1.0)
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
                raise InvalidInputError(
                    f"`loss_weights[{key!r}]` must be a finite number, got {w!r}."
                )
            if isinstance(fn, nn.Module):
                self.loss_modules[str(key)] = fn
            self._losses.append((str(key), fn, builtin, float(w)))
        self.term_names = (tuple(f"loss_{k}" for k, *_ in self._losses)
                           if len(self._losses) > 1 else ())

    def forward(self, output: Any, batch: Mapping[str, torch.Tensor],
                target: Any) -> dict[str, torch.Tensor]:
        pred = predictions(output, self.output_key)
        target = main_target(target)
        if len(self._losses) == 1:
            _, fn, builtin, weight = self._losses[0]
            value = fn(pred if builtin else output, target)
            return {"loss": value if weight == 1.0 else weight * value}
        result: dict[str, torch.Tensor] = {}
        terms = []
        for key, fn, builtin, weight in self._losses:
            value = fn(pred if builtin else output, target)
            result[f"loss_{key}"] = value
            terms.append(weight * value)
        result["loss"] = sum(terms[1:], terms[0])
        return result


def list_objectives() -> dict[str, str]:
    """Registered objectives with a one-line description each (those of
    :mod:`interplay.objectives` included, when that package is installed).

    Examples
    --------
    >>> "supervised" in list_objectives()
    True
    """
    try:
        importlib.import_module("interplay.objectives")
    except ModuleNotFoundError as exc:
        if exc.name != "interplay.objectives":
            raise
    return {name: cls.description for name, cls in sorted(_REGISTRY.items())}


def learns_representations(name: str) -> bool:
    """Whether the registered objective ``name`` trains per-modality representations.

    Examples
    --------
    >>> learns_representations("supervised"), learns_representations("contrastive")
    (False, True)
    """
    list_objectives()
    cls = _REGISTRY.get(name)
    return bool(cls is not None and cls.learns_representations)


def create_objective(name: str, **options: Any) -> Objective:
    """Build a registered objective by name with its options.

    Examples
    --------
    >>> create_objective("supervised", loss="mse").term_names
    ()
    """
    check_choice(name, "objective", tuple(list_objectives()))
    try:
        return _REGISTRY[name](**options)
    except TypeError as exc:
        raise InvalidInputError(f"Bad option for objective {name!r}: {exc}.") from exc
