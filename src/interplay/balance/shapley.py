"""Exact Shapley values, and each modality's Shapley contribution to a trained model.

For players ``N`` and a game ``v`` on its subsets, player ``i`` gets

    φ_i = Σ_{S ⊆ N \\ {i}}  |S|! (|N| - |S| - 1)! / |N|!  · (v(S ∪ {i}) - v(S)),

its marginal contribution averaged over every order in which the players could join. The
values add up to ``v(N) - v(∅)`` (efficiency). For a model, the players are its modalities and
``v(S)`` is a metric of its predictions when only the modalities in ``S`` are present (the rest
masked; ``v(∅)`` is the prediction from nothing), as in BalanceBenchmark's imbalance measure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from .. import __version__
from .._json import JSONResult, jsonable
from .._validation import check_int
from ..exceptions import InvalidInputError

#: Most players :func:`shapley_values` accepts (the game is evaluated on 2**n subsets).
MAX_PLAYERS = 16


def shapley_values(value: Callable[[frozenset], Any], players: Sequence[Hashable]) -> dict:
    """Each player's exact Shapley value of the game ``value``.

    Parameters
    ----------
    value : callable
        ``value(frozenset_of_players) -> float`` (or a numpy array, e.g. one value per
        sample, which is then decomposed entrywise); called once per subset, the empty set
        included.
    players : sequence of hashable
        Distinct players, at most 16.

    Returns
    -------
    dict
        ``{player: Shapley value}`` (floats, or arrays for an array-valued game).

    Examples
    --------
    A glove game: ``L`` holds a left glove, ``R1`` and ``R2`` a right one each; a pair is
    worth 1.

    >>> v = lambda s: float("L" in s and ("R1" in s or "R2" in s))
    >>> {k: round(x, 4) for k, x in shapley_values(v, ["L", "R1", "R2"]).items()}
    {'L': 0.6667, 'R1': 0.1667, 'R2': 0.1667}
    """
    if not callable(value):
        raise InvalidInputError(
            f"`value` must be callable as value(frozenset) -> float, got {type(value).__name__}."
        )
    if isinstance(players, (str, bytes)) or not isinstance(players, Sequence):
        raise InvalidInputError(f"`players` must be a list of players, got {players!r}.")
    players = list(players)
    n = len(players)
    if n == 0 or n > MAX_PLAYERS:
        raise InvalidInputError(
            f"`players` must hold 1 to {MAX_PLAYERS} players (the game is evaluated on 2**n "
            f"subsets), got {n}."
        )
    if len(set(players)) != n:
        raise InvalidInputError(f"`players` must be distinct, got {players}.")
    table: dict[frozenset, Any] = {}
    for size in range(n + 1):
        for subset in combinations(players, size):
            key = frozenset(subset)
            got = value(key)
            arr = np.asarray(got, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise InvalidInputError(
                    f"`value` must return finite numbers, got {got!r} for {sorted(map(str, key))}."
                )
            table[key] = arr
    weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
              for s in range(n)]
    result = {}
    for p in players:
        rest = [q for q in players if q != p]
        total = np.zeros_like(table[frozenset()])
        for size in range(n):
            for subset in combinations(rest, size):
                s = frozenset(subset)
                total = total + weight[size] * (table[s | {p}] - table[s])
        result[p] = float(total) if total.ndim == 0 else total
    return result


@dataclass(frozen=True)
class ModalityShapley(JSONResult):
    """Each modality's Shapley contribution to a model's score (see :func:`modality_shapley`).

    Attributes
    ----------
    metric : str
    modalities : tuple of str
    values : dict
        ``{modality: φ_m}`` for the mean score.
    subsets : dict
        The score of every subset of present modalities, keyed ``"a+b"`` (``""`` = none).
    imbalance : float
        ``(max_m φ_m - min_m φ_m) / Σ_m |φ_m|``: 0 when every modality contributes equally, 1
        when one does all the work and the others nothing (0 if all φ are 0).
    per_sample : numpy.ndarray or None
        ``(n_samples, n_modalities)`` Shapley values of each sample's score, when asked for.
    """

    metric: str
    modalities: tuple[str, ...]
    values: dict[str, float]
    subsets: dict[str, float]
    imbalance: float
    per_sample: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (per-sample values as nested lists)."""
        return jsonable({
            "kind": "modality_shapley", "interplay_version": __version__,
            "metric": self.metric, "modalities": list(self.modalities),
            "values": self.values, "subsets": self.subsets, "imbalance": self.imbalance,
            "per_sample": None if self.per_sample is None else self.per_sample.tolist(),
        })


def imbalance(values: Mapping[str, float]) -> float:
    """``(max φ - min φ) / Σ |φ|`` of Shapley values (0 when they are all 0)."""
    v = np.asarray(list(values.values()), dtype=np.float64)
    scale = float(np.abs(v).sum())
    return float((v.max() - v.min()) / scale) if scale > 0 else 0.0


def _per_sample_metric(metric: str | Callable[..., Any]) -> tuple[str, Callable[..., Any]]:
    import torch.nn.functional as F

    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    table = {
        "accuracy": lambda logits, y: (logits.argmax(dim=-1) == y).double(),
        "log_likelihood": lambda logits, y: -F.cross_entropy(logits, y, reduction="none"),
        "neg_mse": lambda logits, y: -((logits.reshape(y.shape) - y.to(logits.dtype)) ** 2)
        .reshape(len(y), -1).mean(dim=1),
    }
    if metric not in table:
        raise InvalidInputError(
            f"`metric` must be one of {', '.join(map(repr, table))} or a callable "
            f"metric(logits, target) -> per-sample tensor; got {metric!r}."
        )
    return metric, table[metric]


def modality_shapley(model: Any, inputs: Mapping[str, Any], target: Any, *,
                     metric: str | Callable[..., Any] = "accuracy", per_sample: bool = False,
                     batch_size: int = 1024) -> ModalityShapley:
    """Exact Shapley contribution of each modality to a trained model's score, by masking.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(inputs, mask)`` with a presence mask whose columns are
        ``model.modalities`` (a :class:`~interplay.models.MultimodalModel`); it returns a
        :class:`~interplay.models.ModelOutput` or the logits.
    inputs : dict of str to Tensor
        The evaluation samples.
    target : Tensor
        Class labels (or regression targets for ``"neg_mse"``).
    metric : {"accuracy", "log_likelihood", "neg_mse"} or callable
        A per-sample score ``metric(logits, target) -> (n_samples,)``; the game's value is its
        mean.
    per_sample : bool
        Also return every sample's Shapley values (the same game on one sample's score).
    batch_size : int

    Returns
    -------
    ModalityShapley
    """
    import torch

    name, score = _per_sample_metric(metric)
    columns = getattr(model, "modalities", None)
    if not isinstance(columns, (tuple, list)) or not columns:
        raise InvalidInputError(
            f"`model` must name its mask columns in `modalities` (a MultimodalModel); "
            f"{type(model).__name__} has {columns!r}."
        )
    if not isinstance(inputs, Mapping) or set(columns) - set(inputs):
        got = sorted(inputs) if isinstance(inputs, Mapping) else type(inputs).__name__
        raise InvalidInputError(
            f"`inputs` must hold the model's modalities {list(columns)}, got {got}."
        )
    batch = check_int(batch_size, "batch_size", minimum=1)
    n = int(next(iter(inputs.values())).shape[0])
    if not isinstance(target, torch.Tensor) or target.shape[0] != n:
        raise InvalidInputError(f"`target` must be a tensor with {n} rows, got {target!r:.60}.")
    was_training = getattr(model, "training", False)
    model.eval()
    device = next(iter(inputs.values())).device

    def scores(present: frozenset) -> np.ndarray:
        mask = torch.tensor([[m in present for m in columns]], device=device).expand(n, -1)
        out = []
        with torch.no_grad():
            for s in range(0, n, batch):
                sub = {m: inputs[m][s:s + batch] for m in columns}
                pred = model(sub, mask[s:s + batch])
                logits = getattr(pred, "logits", pred)
                out.append(torch.as_tensor(score(logits, target[s:s + batch])).double().cpu())
        return torch.cat(out).numpy()

    try:
        cache = {frozenset(c): scores(frozenset(c)) for k in range(len(columns) + 1)
                 for c in combinations(columns, k)}
    finally:
        model.train(was_training)
    values = shapley_values(lambda s: float(cache[s].mean()), list(columns))
    samples = None
    if per_sample:
        each = shapley_values(lambda s: cache[s], list(columns))
        samples = np.stack([each[m] for m in columns], axis=1)
    subsets = {"+".join(m for m in columns if m in s): float(v.mean()) for s, v in cache.items()}
    return ModalityShapley(metric=name, modalities=tuple(columns), values=values,
                           subsets=subsets, imbalance=imbalance(values), per_sample=samples)
