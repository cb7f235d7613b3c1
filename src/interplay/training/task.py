"""The training ``Task``: a model, the objective it minimises, an optional balancer, metrics.

A model is a plain ``nn.Module`` that takes a dict ``{modality: tensor}`` and returns a
:class:`~interplay.models.ModelOutput` (every interplay model does), a tensor of predictions,
or a dict holding them under ``output_key``. The task turns one batch into the loss and the
logged values; the :class:`~interplay.training.Trainer` calls its step hooks around backward
and the optimiser step, which is where a :class:`~interplay.balance.Balancer` acts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ..balance.base import Balancer, Groups, modality_parameter_groups
from ..exceptions import InvalidInputError
from ..models.output import ModelOutput
from .objective import (
    METRICS,
    LossFn,
    Objective,
    ObjectiveFn,
    SupervisedObjective,
    main_target,
    predictions,
    resolve_loss,
)


class Task(nn.Module):
    """A model together with its objective, balancer and metrics; turns a batch into a loss.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(inputs)`` (``model(inputs, mask=mask)`` when a balancer or the caller
        gives a mask) with ``inputs`` a dict ``{modality: tensor}``.
    loss : str, callable or dict, default "cross_entropy"
        Shorthand for the default objective, :class:`SupervisedObjective(loss, weights=
        loss_weights) <interplay.training.objective.SupervisedObjective>`: a built-in loss name
        (``"cross_entropy"``, ``"mse"``, ``"mae"``, ``"bce"``), a callable
        ``fn(output, target)``, or a dict ``{name: loss}`` of several.
    loss_weights : dict, optional
        Weight of each named loss when ``loss`` is a dict.
    objective : callable, optional
        ``objective(output, batch, target) -> {"loss": total, name: term, ...}`` in place of the
        supervised losses (see :mod:`interplay.training.objective`); an ``nn.Module`` objective's
        parameters are trained and checkpointed with the model. Give ``loss`` or ``objective``.
    balancer : Balancer, optional
        A modality balancer (:func:`interplay.balance.create_balancer`): it may change the
        batch (modality dropout), add loss terms, fill or rescale gradients per modality, and
        keeps its state in the task's checkpoints.
    metrics : sequence, default ("accuracy",)
        Metrics reported each epoch: built-in names (``"accuracy"`` and the loss names) or
        callables ``fn(output, target)``. They are averaged over samples.
    output_key : str, default "logits"
        Key of the predictions when the model returns a dict.
    modality_curves : bool, default False
        Also log, each epoch, each modality's first metric with every other modality masked
        (``<metric>_only_<m>``, train and validation) and the norm of the gradient reaching
        its encoder (``train_gradnorm_<m>``): learning curves per modality, where competition
        between modalities shows. Needs a model with ``decode`` and ``encoders`` (a
        :class:`~interplay.models.MultimodalModel`).

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
        objective: ObjectiveFn | None = None,
        balancer: Balancer | None = None,
        metrics: Sequence[str | LossFn] = ("accuracy",),
        output_key: str = "logits",
        modality_curves: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise InvalidInputError(
                f"`model` must be a torch.nn.Module, got {type(model).__name__}."
            )
        self.model = model
        self.output_key = str(output_key)
        if objective is None:
            objective = SupervisedObjective(loss, weights=loss_weights,
                                            output_key=self.output_key)
        elif loss != "cross_entropy" or loss_weights is not None:
            raise InvalidInputError(
                "Give either `loss` (with `loss_weights`) or `objective`, not both; an "
                "objective computes the whole loss."
            )
        elif not callable(objective):
            raise InvalidInputError(
                "`objective` must be callable as objective(output, batch, target) -> dict, "
                f"got {type(objective).__name__}."
            )
        self.objective = objective  # an nn.Module objective is registered as a sub-module
        if isinstance(objective, Objective):
            objective.setup(model)
        self._auxiliary = (objective.auxiliary_parameters()
                           if isinstance(objective, Objective) else [])
        self._aux_batch: tuple[Any, dict[str, torch.Tensor], Any] | None = None
        if balancer is not None and not isinstance(balancer, Balancer):
            raise InvalidInputError(
                f"`balancer` must be an interplay Balancer (see interplay.balance."
                f"create_balancer), got {type(balancer).__name__}."
            )
        self.balancer = balancer
        if balancer is not None:
            balancer.setup(model)

        if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
            raise InvalidInputError(
                f"`metrics` must be a list of metric names or callables, got {metrics!r}."
            )
        self._metrics: list[tuple[str, LossFn, bool]] = []
        for spec in metrics:
            name, fn, builtin = resolve_loss(spec, METRICS, "metrics")
            if name == "loss" or any(name == m[0] for m in self._metrics):
                raise InvalidInputError(
                    f"`metrics` holds the name {name!r} twice or clashes with 'loss'."
                )
            self._metrics.append((name, fn, builtin))

        self.modality_curves = bool(modality_curves)
        self._groups: Groups = {}
        self._curve_modalities: tuple[str, ...] = ()
        if self.modality_curves:
            self._setup_curves(model)
        elif balancer is not None:
            self._groups = balancer.groups
        self._seen_terms: list[str] = []
        self._live_terms: dict[str, torch.Tensor] = {}

    def _setup_curves(self, model: nn.Module) -> None:
        if not self._metrics:
            raise InvalidInputError("`modality_curves=True` needs at least one metric.")
        if not callable(getattr(model, "decode", None)):
            raise InvalidInputError(
                f"`modality_curves=True` needs a model with `decode(embeddings, mask)` (a "
                f"MultimodalModel); {type(model).__name__} has none."
            )
        self._groups = modality_parameter_groups(model)
        self._curve_modalities = tuple(getattr(model, "modalities", None) or self._groups)

    # ------------------------------------------------------------------ names
    def _declared_terms(self) -> list[str]:
        names = list(getattr(self.objective, "term_names", ()) or ())
        names += [n for n in self._seen_terms if n not in names]
        if self.balancer is not None:
            names += [*self.balancer.term_names, *self.balancer.metric_names]
        return names

    @property
    def metric_names(self) -> list[str]:
        """Names of the values :meth:`forward` returns besides ``"loss"``: objective and
        balancer terms, metrics, and per-modality curves."""
        names = self._declared_terms() + [name for name, *_ in self._metrics]
        if self._curve_modalities:
            first = self._metrics[0][0]
            names += [f"{first}_only_{m}" for m in self._curve_modalities]
        return names

    @property
    def step_names(self) -> list[str]:
        """Names of the per-step values :meth:`after_backward` returns (training only)."""
        names = [f"gradnorm_{m}" for m in self._curve_modalities]
        if self.balancer is not None:
            names += list(self.balancer.step_names)
        if self._auxiliary:
            names.append("auxiliary_loss")
        return names

    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """The objective's auxiliary parameters (their own optimiser; see
        :meth:`auxiliary_step`)."""
        return list(self._auxiliary)

    def predictions(self, output: Any) -> torch.Tensor:
        """The prediction tensor inside a model output."""
        return predictions(output, self.output_key)

    # ------------------------------------------------------------------ the step
    def forward(self, inputs: Mapping[str, torch.Tensor], target: Any,
                mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Loss (with gradient) and detached logged values for one batch.

        Returns
        -------
        dict
            ``"loss"``: the objective's total plus the balancer's terms; each named term of
            the objective and the balancer; one entry per metric (and per-modality curve).
            Everything but ``"loss"`` is detached.
        """
        if not isinstance(inputs, Mapping):
            raise InvalidInputError(
                f"`inputs` must be a dict {{modality: tensor}}, got {type(inputs).__name__}."
            )
        batch = dict(inputs)
        if self.balancer is not None:
            batch, mask = self.balancer.transform_batch(batch, mask, self.training)
        output = self.model(batch) if mask is None else self.model(batch, mask=mask)
        terms = self.objective(output, batch, target)
        if not isinstance(terms, Mapping) or "loss" not in terms:
            raise InvalidInputError(
                "An objective must return a dict with the total under 'loss', got "
                f"{sorted(terms) if isinstance(terms, Mapping) else type(terms).__name__}."
            )
        loss = terms["loss"]
        main = main_target(target)  # only the objective reads the extra targets
        extra = (self.balancer.extra_terms(output, batch, main)
                 if self.balancer is not None else {})
        for value in extra.values():
            loss = loss + value
        result = {"loss": loss}
        named = {k: v for k, v in terms.items() if k != "loss"}
        for key in named:
            if key not in self._seen_terms:
                self._seen_terms.append(key)
        clash = set(named) & set(extra)
        if clash:
            raise InvalidInputError(
                f"The objective and the balancer both return terms named {sorted(clash)}."
            )
        self._live_terms = {**named, **extra} if self.training else {}
        if self._auxiliary and self.training:
            self._aux_batch = (_detached(output), batch, target)
        result.update({k: v.detach() for k, v in {**named, **extra}.items()})
        if self.balancer is not None:
            with torch.no_grad():
                result.update({k: torch.as_tensor(v).detach() for k, v in
                               self.balancer.metrics(output, batch, main).items()})
        if self._metrics:
            with torch.no_grad():
                self._add_metrics(result, output, main, mask)
        return result

    def _add_metrics(self, result: dict[str, torch.Tensor], output: Any, target: Any,
                     mask: torch.Tensor | None) -> None:
        pred = self.predictions(output)
        for name, fn, builtin in self._metrics:
            result[name] = torch.as_tensor(fn(pred if builtin else output, target)).detach()
        if not self._curve_modalities or not isinstance(output, ModelOutput):
            return
        name, fn, builtin = self._metrics[0]
        n, k = pred.shape[0], len(self._curve_modalities)
        for i, m in enumerate(self._curve_modalities):
            only = torch.zeros(n, k, dtype=torch.bool, device=pred.device)
            only[:, i] = True
            if mask is not None:
                only &= mask
            alone = self.model.decode(output.embeddings, only)
            value = fn(alone if builtin else ModelOutput(alone, output.embeddings), target)
            result[f"{name}_only_{m}"] = torch.as_tensor(value).detach()

    def backward(self, result: Mapping[str, torch.Tensor]) -> None:
        """Fill the gradients of the step whose :meth:`forward` returned ``result``."""
        if self.balancer is not None:
            self.balancer.backward(result["loss"], self._live_terms)
        else:
            result["loss"].backward()
        self._live_terms = {}

    def after_backward(self) -> dict[str, torch.Tensor]:
        """Balancer gradient hook, then per-modality gradient norms (with curves on)."""
        logged: dict[str, Any] = {}
        if self.balancer is not None:
            logged.update(self.balancer.after_backward(self._groups or self.balancer.groups))
        for m in self._curve_modalities:
            grads = [p.grad.detach().reshape(-1) for p in self._groups[m] if p.grad is not None]
            logged[f"gradnorm_{m}"] = (torch.linalg.vector_norm(torch.cat(grads)) if grads
                                       else torch.zeros(()))
        return {k: torch.as_tensor(v, dtype=torch.float64) for k, v in logged.items()}

    def auxiliary_step(self, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        """Train the objective's auxiliary parameters on the last training batch: its
        :attr:`~interplay.training.objective.Objective.auxiliary_steps` steps of
        ``objective.auxiliary_loss`` with ``optimizer``. Returns the last loss (detached)."""
        if self._aux_batch is None:
            raise InvalidInputError("auxiliary_step needs a training forward pass first.")
        output, batch, target = self._aux_batch
        self._aux_batch = None
        loss = torch.zeros(())
        for _ in range(self.objective.auxiliary_steps):
            optimizer.zero_grad(set_to_none=True)
            loss = self.objective.auxiliary_loss(output, batch, target)
            loss.backward()
            optimizer.step()
        return {"auxiliary_loss": loss.detach().to(torch.float64)}

    def before_optimizer_step(self) -> None:
        """Balancer hook after gradient clipping."""
        if self.balancer is not None:
            self.balancer.before_optimizer_step(self._groups or self.balancer.groups)

    def on_epoch_start(self, epoch: int) -> None:
        """Objective and balancer hooks before each training epoch."""
        if isinstance(self.objective, Objective):
            self.objective.on_epoch_start(epoch)
        if self.balancer is not None:
            self.balancer.on_epoch_start(epoch)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> dict[str, float]:
        """Balancer hook after each epoch; returns values for the history row."""
        if self.balancer is None:
            return {}
        return {k: float(v) for k, v in self.balancer.on_epoch_end(epoch, logs).items()}


def _detached(output: Any) -> Any:
    """A model output with every tensor detached (what an auxiliary step may read)."""
    if isinstance(output, torch.Tensor):
        return output.detach()
    if isinstance(output, ModelOutput):
        latents = (None if output.latents is None else
                   {k: (m.detach(), v.detach()) for k, (m, v) in output.latents.items()})
        return dataclasses.replace(
            output, logits=output.logits.detach(),
            embeddings={k: v.detach() for k, v in output.embeddings.items()},
            fused=None if output.fused is None else output.fused.detach(), latents=latents)
    if isinstance(output, Mapping):
        return {k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in output.items()}
    return output
