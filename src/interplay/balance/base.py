"""The :class:`Balancer` base: hooks around one training step, and the registry.

A training step of :class:`~interplay.training.Task` and
:class:`~interplay.training.Trainer` runs::

    inputs, mask = balancer.transform_batch(inputs, mask, training)   # e.g. drop modalities
    output = model(inputs, mask=mask)
    terms = objective(output, inputs, target)
    terms |= balancer.extra_terms(output, inputs, target)           # added to the loss
    logged = balancer.metrics(output, inputs, target)                # logged only
    balancer.backward(loss, terms)                                   # default loss.backward()
    balancer.after_backward(groups)                                  # e.g. rescale gradients
    (gradient clipping)
    balancer.before_optimizer_step(groups)
    optimizer.step()

and once per epoch ``on_epoch_start(epoch)`` / ``on_epoch_end(epoch, logs)``. ``groups`` is
``{modality: [parameters]}``, read from the model's structure (its ``encoders`` dict, see
:func:`modality_parameter_groups`), never from parameter names. A balancer is an ``nn.Module``:
its parameters (unimodal heads, projections) are trained with the model, and its state --
parameters and buffers, where every balancer keeps its running statistics -- is saved in the
task's checkpoints, so an interrupted run resumes exactly.
"""

from __future__ import annotations

import inspect
from abc import ABCMeta
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from .._validation import check_choice
from ..exceptions import InvalidInputError

_REGISTRY: dict[str, type[Balancer]] = {}

Groups = dict[str, list[nn.Parameter]]


def modality_parameter_groups(model: nn.Module) -> Groups:
    """``{modality: trainable parameters of its encoder}`` from ``model.encoders``.

    :class:`~interplay.models.MultimodalModel` keeps one encoder per modality in ``encoders``;
    a :class:`~interplay.models.UnimodalEnsemble` counts each whole unimodal model as its
    modality's. Fusion and head parameters belong to no modality.

    Raises
    ------
    InvalidInputError
        When the model has no ``encoders`` mapping of modality names to modules.
    """
    encoders = getattr(model, "encoders", None)
    if isinstance(encoders, nn.ModuleDict):
        encoders = dict(encoders.items())
    if not isinstance(encoders, Mapping) or not encoders or not all(
            isinstance(k, str) and isinstance(v, nn.Module) for k, v in encoders.items()):
        raise InvalidInputError(
            f"a balancer needs a model whose `encoders` maps each modality to its encoder (a "
            f"MultimodalModel, say); {type(model).__name__} has "
            f"{'none' if encoders is None else type(encoders).__name__}."
        )
    return {m: [p for p in enc.parameters() if p.requires_grad] for m, enc in encoders.items()}


def takes_mask(model: nn.Module) -> bool:
    """Whether ``model.forward`` has a ``mask`` argument."""
    try:
        return "mask" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


class Balancer(nn.Module, metaclass=ABCMeta):
    """Base of modality balancers; a new method is one small subclass with a ``name``.

    Subclasses override the hooks they need; the defaults leave training unchanged. Running
    statistics belong in buffers (``self.register_buffer``) so that checkpoints hold them.

    Attributes
    ----------
    modalities : tuple of str
        The model's modalities (set by :meth:`setup`).
    groups : dict
        ``{modality: [parameters]}`` (set by :meth:`setup`).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    #: Fewest modalities the method makes sense with.
    min_modalities: ClassVar[int] = 2
    #: Whether the model must take a ``mask`` and expose ``decode(embeddings, mask)``.
    needs_decode: ClassVar[bool] = False
    #: What the method changes: the ``"batch"`` the model sees, the ``"loss"`` (extra
    #: terms), the ``"gradients"`` (hooks); the contract tests check each claim.
    acts_on: ClassVar[frozenset[str]] = frozenset()
    #: Whether the method works under DistributedDataParallel (it must not call
    #: ``torch.autograd.grad`` on the model's graph).
    supports_distributed: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _REGISTRY[cls.name] = cls

    def __init__(self) -> None:
        super().__init__()
        self.modalities: tuple[str, ...] = ()
        self.groups: Groups = {}
        self._decode: Any = None

    # ------------------------------------------------------------------ setup
    def setup(self, model: nn.Module) -> None:
        """Bind to ``model`` (called once by ``Task``): read its modality groups and check that
        the method fits it; subclasses build their own modules in :meth:`build`."""
        self.groups = modality_parameter_groups(model)
        self.modalities = tuple(getattr(model, "modalities", None) or self.groups)
        if len(self.modalities) < self.min_modalities:
            raise InvalidInputError(
                f"balancer {self.name!r} needs at least {self.min_modalities} modalities; "
                f"{type(model).__name__} has {len(self.modalities)} ({list(self.modalities)})."
            )
        if self.needs_decode:
            decode = getattr(model, "decode", None)
            if not callable(decode) or not takes_mask(model):
                raise InvalidInputError(
                    f"balancer {self.name!r} re-predicts from per-modality encodings: it needs "
                    f"a model with `decode(embeddings, mask)` and a `mask` argument (a "
                    f"MultimodalModel); {type(model).__name__} has not."
                )
            self._decode = decode
        self.build(model)

    def build(self, model: nn.Module) -> None:
        """Create modules that depend on the model (heads, projections); default none."""

    def decode(self, embeddings: Mapping[str, torch.Tensor],
               mask: torch.Tensor | None = None) -> torch.Tensor:
        """The bound model's predictions from (altered) encodings."""
        return self._decode(embeddings, mask)

    def only(self, modality: str, n: int, device: torch.device) -> torch.Tensor:
        """Presence mask ``(n, M)`` with only ``modality`` present."""
        mask = torch.zeros(n, len(self.modalities), dtype=torch.bool, device=device)
        mask[:, self.modalities.index(modality)] = True
        return mask

    # ------------------------------------------------------------------ hooks
    #: Names of the terms :meth:`extra_terms` returns (logged each epoch).
    term_names: tuple[str, ...] = ()
    #: Names of per-step values :meth:`after_backward` returns (logged for training only).
    step_names: tuple[str, ...] = ()
    #: Names of the values :meth:`metrics` returns (logged, not added to the loss).
    metric_names: tuple[str, ...] = ()

    def transform_batch(self, inputs: dict[str, torch.Tensor], mask: torch.Tensor | None,
                        training: bool) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """The batch the model sees; default unchanged."""
        return inputs, mask

    def extra_terms(self, output: Any, batch: Mapping[str, torch.Tensor],
                    target: Any) -> dict[str, torch.Tensor]:
        """Loss terms added to the objective's total (each logged under its name)."""
        return {}

    def metrics(self, output: Any, batch: Mapping[str, torch.Tensor],
                target: Any) -> dict[str, torch.Tensor]:
        """Values to log for the step (detached; not part of the loss); called after
        :meth:`extra_terms`."""
        return {}

    def backward(self, loss: torch.Tensor, terms: Mapping[str, torch.Tensor]) -> None:
        """Fill the gradients; default ``loss.backward()``."""
        loss.backward()

    def after_backward(self, groups: Groups) -> dict[str, float]:
        """Adjust gradients right after backward (before clipping); may return values to log."""
        return {}

    def before_optimizer_step(self, groups: Groups) -> None:
        """Last look at the gradients, after clipping."""

    def on_epoch_start(self, epoch: int) -> None:
        """Called before each training epoch (0-based ``epoch``)."""

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> dict[str, float]:
        """Called after each epoch with its history row; returns values to add to the row."""
        return {}

    def extra_repr(self) -> str:
        return f"modalities={list(self.modalities)}"


def list_balancers() -> dict[str, str]:
    """Registered balancers with a one-line description each.

    Examples
    --------
    >>> "modality_dropout" in list_balancers()
    True
    """
    return {name: cls.description for name, cls in sorted(_REGISTRY.items())}


def create_balancer(name: str, **options: Any) -> Balancer:
    """Build a registered balancer by name with its options.

    Examples
    --------
    >>> create_balancer("modality_dropout", p=0.3).p
    0.3
    """
    check_choice(name, "balancer", tuple(sorted(_REGISTRY)))
    cls = _REGISTRY[name]
    params = inspect.signature(cls.__init__).parameters
    allowed = [p for p in params if p != "self"]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidInputError(
            f"balancer {name!r} got unknown option(s) {unknown}; it accepts {allowed}."
        )
    return cls(**options)

