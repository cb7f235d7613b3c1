"""The training ``Task``: a model plus the losses and metrics that judge its output.

A model is a plain ``nn.Module`` that takes a dict ``{modality: tensor}`` and returns either a
tensor of predictions or a dict of outputs (the predictions under ``output_key``). The task owns
everything else a training step needs to turn one batch into a scalar loss and a few metrics,
including modality dropout (training on randomly incomplete samples).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_float, check_int
from ..exceptions import InvalidInputError

#: A loss or metric: ``fn(output, target) -> scalar tensor``.
LossFn = Callable[[Any, Any], torch.Tensor]


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


def _resolve(spec: Any, table: dict[str, LossFn], arg: str) -> tuple[str, LossFn, bool]:
    """Return (name, function, is_builtin) for a name or a callable."""
    if isinstance(spec, str):
        if spec not in table:
            raise InvalidInputError(
                f"`{arg}` must be one of {', '.join(map(repr, sorted(table)))} or a callable "
                f"fn(output, target) -> tensor; got {spec!r}."
            )
        return spec, table[spec], True
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        return name, spec, False
    raise InvalidInputError(
        f"`{arg}` must be a name or a callable fn(output, target) -> tensor; "
        f"got {type(spec).__name__}."
    )


def modality_dropout_mask(n_samples: int, n_modalities: int, p: float) -> torch.Tensor:
    """Random presence mask: each modality dropped with probability ``p``, never all of a row.

    Every entry is kept independently with probability ``1 - p``; rows that lose every modality
    are drawn again, so the mask follows the independent draw *conditioned* on at least one
    modality present. A modality is therefore dropped with probability
    ``p (1 - p**(M-1)) / (1 - p**M)`` (slightly below ``p``), and all ``M`` are present with
    probability ``(1 - p)**M / (1 - p**M)``. Draws use torch's global CPU generator, so a run
    seeded with :func:`~interplay.training.seed_everything` repeats its masks.

    Parameters
    ----------
    n_samples : int
    n_modalities : int
        At least 2 (with one modality nothing could ever be dropped).
    p : float
        Drop probability in [0, 1).

    Returns
    -------
    Tensor of bool, shape (n_samples, n_modalities)
        True where the modality is present.

    Examples
    --------
    >>> mask = modality_dropout_mask(1000, 3, 0.5)
    >>> mask.shape, bool(mask.any(dim=1).all())
    (torch.Size([1000, 3]), True)
    """
    n = check_int(n_samples, "n_samples", minimum=0)
    k = check_int(n_modalities, "n_modalities", minimum=2)
    p = check_float(p, "p", low=0.0, high=1.0, high_open=True)
    keep = torch.rand(n, k) >= p
    empty = ~keep.any(dim=1)
    while bool(empty.any()):
        keep[empty] = torch.rand(int(empty.sum()), k) >= p
        empty = ~keep.any(dim=1)
    return keep


def _mask_columns(model: nn.Module) -> tuple[str, ...]:
    """The modalities of ``model``'s mask columns; refuse a model that takes no mask."""
    what = type(model).__name__
    try:
        takes_mask = "mask" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        takes_mask = False
    columns = getattr(model, "modalities", None)
    if isinstance(columns, Sequence) and not isinstance(columns, str):
        names = tuple(c for c in columns if isinstance(c, str))
        ok_columns = len(names) == len(columns) >= 2
    else:
        names, ok_columns = (), False
    if not takes_mask or not ok_columns:
        missing = "no `mask` argument in its forward" if not takes_mask else (
            f"`modalities`={columns!r} is not a list of at least two modality names")
        raise InvalidInputError(
            f"`modality_dropout` > 0 needs a model called as model(inputs, mask=...) whose "
            f"`modalities` attribute names the mask columns (a MultimodalModel, say); {what} "
            f"has {missing}."
        )
    return names


class Task(nn.Module):
    """A model together with its losses and metrics; turns a batch into a loss.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(inputs)`` with ``inputs`` a dict ``{modality: tensor}``. It returns a
        tensor of predictions (logits for classification) or a dict holding them under
        ``output_key``.
    loss : str, callable or dict, default "cross_entropy"
        One loss (a built-in name -- ``"cross_entropy"``, ``"mse"``, ``"mae"``, ``"bce"`` -- or a
        callable ``fn(output, target) -> scalar tensor``), or a dict ``{name: loss}`` of several
        whose weighted sum is minimised. Built-in losses receive the predictions; callables
        receive the model's full output (so they can read a dict of representations).
    loss_weights : dict, optional
        Weight of each named loss when ``loss`` is a dict (default 1 for each).
    metrics : sequence, default ("accuracy",)
        Metrics reported each epoch: built-in names (``"accuracy"`` and the loss names) or
        callables with the loss signature. They are averaged over samples.
    output_key : str, default "logits"
        Key of the predictions when the model returns a dict.
    modality_dropout : float, default 0.0
        Probability in [0, 1) of dropping each modality of each training sample (never all of
        a sample's modalities; see :func:`modality_dropout_mask`). The model is then called as
        ``model(inputs, mask=mask)`` in training mode, and as ``model(inputs)`` in evaluation
        mode. It needs a model with a ``mask`` argument and a ``modalities`` attribute (the
        mask's column order), such as :class:`~interplay.models.MultimodalModel`. Training
        this way teaches a fusion to predict from any subset of its modalities, and keeps one
        strong modality from doing all the work (Neverova et al. 2016, "ModDrop"); training
        metrics are then those of the incomplete samples.

    Notes
    -----
    Loss modules with parameters (a learnable temperature, a critic network) may be given as
    ``nn.Module`` callables; they are registered as sub-modules, so the optimizer trains them and
    checkpoints save them.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> class Concat(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.head = nn.Linear(3, 2)
    ...     def forward(self, inputs):
    ...         return self.head(torch.cat([inputs["a"], inputs["b"]], dim=-1))
    >>> task = Task(Concat(), loss="cross_entropy", metrics=["accuracy"])
    >>> out = task({"a": torch.zeros(4, 1), "b": torch.zeros(4, 2)}, torch.tensor([0, 1, 0, 1]))
    >>> sorted(out)
    ['accuracy', 'loss']
    """

    def __init__(
        self,
        model: nn.Module,
        loss: str | LossFn | Mapping[str, str | LossFn] = "cross_entropy",
        *,
        loss_weights: Mapping[str, float] | None = None,
        metrics: Sequence[str | LossFn] = ("accuracy",),
        output_key: str = "logits",
        modality_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise InvalidInputError(
                f"`model` must be a torch.nn.Module, got {type(model).__name__}."
            )
        self.model = model
        self.output_key = str(output_key)
        self.modality_dropout = check_float(modality_dropout, "modality_dropout", low=0.0,
                                            high=1.0, high_open=True)
        self._mask_columns = _mask_columns(model) if self.modality_dropout > 0 else ()

        specs = dict(loss) if isinstance(loss, Mapping) else {"loss": loss}
        if not specs:
            raise InvalidInputError("`loss` must name at least one loss, got an empty dict.")
        weights = dict(loss_weights or {})
        unknown = set(weights) - set(specs)
        if unknown:
            raise InvalidInputError(
                f"`loss_weights` names losses {sorted(unknown)} that are not in `loss` "
                f"({sorted(specs)})."
            )
        self._losses: list[tuple[str, LossFn, bool, float]] = []
        self.loss_modules = nn.ModuleDict()
        for key, spec in specs.items():
            _, fn, builtin = _resolve(spec, LOSSES, "loss")
            w = weights.get(key, 1.0)
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
                raise InvalidInputError(
                    f"`loss_weights[{key!r}]` must be a finite number, got {w!r}."
                )
            if isinstance(fn, nn.Module):
                self.loss_modules[str(key)] = fn
            self._losses.append((str(key), fn, builtin, float(w)))

        if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
            raise InvalidInputError(
                f"`metrics` must be a list of metric names or callables, got {metrics!r}."
            )
        self._metrics: list[tuple[str, LossFn, bool]] = []
        for spec in metrics:
            name, fn, builtin = _resolve(spec, METRICS, "metrics")
            if name == "loss" or any(name == m[0] for m in self._metrics):
                raise InvalidInputError(
                    f"`metrics` holds the name {name!r} twice or clashes with 'loss'."
                )
            self._metrics.append((name, fn, builtin))

    @property
    def metric_names(self) -> list[str]:
        """Names of the values :meth:`forward` returns besides ``"loss"``."""
        names = [f"loss_{k}" for k, *_ in self._losses] if len(self._losses) > 1 else []
        return names + [name for name, *_ in self._metrics]

    def predictions(self, output: Any) -> torch.Tensor:
        """The prediction tensor inside a model output."""
        if isinstance(output, Mapping):
            if self.output_key not in output:
                raise InvalidInputError(
                    f"The model returned a dict without the key `output_key`={self.output_key!r}; "
                    f"its keys are {sorted(output)}."
                )
            return output[self.output_key]
        return output

    def forward(self, inputs: Mapping[str, torch.Tensor], target: Any) -> dict[str, torch.Tensor]:
        """Loss (with gradient) and detached metrics for one batch.

        In training mode with ``modality_dropout`` > 0, the batch's samples lose modalities at
        random (a fresh :func:`modality_dropout_mask` per call, passed as ``mask``).

        Returns
        -------
        dict
            ``"loss"``: the weighted sum of the losses; ``"loss_<name>"`` for each loss when there
            are several; one entry per metric. Everything but ``"loss"`` is detached.
        """
        if not isinstance(inputs, Mapping):
            raise InvalidInputError(
                f"`inputs` must be a dict {{modality: tensor}}, got {type(inputs).__name__}."
            )
        if self.training and self._mask_columns and inputs:
            first = next(iter(inputs.values()))
            mask = modality_dropout_mask(first.shape[0], len(self._mask_columns),
                                         self.modality_dropout)
            output = self.model(inputs, mask=mask.to(first.device))
        else:
            output = self.model(inputs)
        pred = self.predictions(output)
        if len(self._losses) == 1:
            _, fn, builtin, weight = self._losses[0]
            value = fn(pred if builtin else output, target)
            result = {"loss": value if weight == 1.0 else weight * value}
        else:
            result = {}
            terms = []
            for key, fn, builtin, weight in self._losses:
                value = fn(pred if builtin else output, target)
                result[f"loss_{key}"] = value.detach()
                terms.append(weight * value)
            result["loss"] = sum(terms[1:], terms[0])
        if self._metrics:
            with torch.no_grad():
                for name, fn, builtin in self._metrics:
                    result[name] = torch.as_tensor(fn(pred if builtin else output, target)).detach()
        return result
