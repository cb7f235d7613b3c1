"""Robustness of a multimodal predictor to missing and noisy modalities.

A sweep evaluates a prediction function on the clean inputs, with each modality dropped, and
with zero-mean Gaussian noise of rising level added to each modality. Two summaries compare a
noise curve with a baseline curve chosen by the user (for instance a late-fusion model or a
unimodal baseline trained on the same data); nothing is normalised against stored tables.

With noise levels ``λ_0 < λ_1 < ... < λ_K`` and scores ``f_k = f(λ_k)`` (``λ_0 = 0`` gives the
clean score), the *area* of a curve is its trapezoid integral divided by the level range,

    AUC(f) = 1 / (λ_K - λ_0) * Σ_k (λ_{k+1} - λ_k) (f_k + f_{k+1}) / 2,

that is the mean score over the swept noise range, in the metric's own units. This is
MultiBench's *relative robustness* (Liang et al. 2021, the trapezoid area under the
score-vs-noise curve), divided by the level range so that it does not depend on how the levels
are scaled. Against a baseline curve ``b`` on the same levels:

* ``relative_robustness(f, b) = AUC(f) / AUC(b)``: how much of the baseline's area the model
  keeps (> 1: more robust area than the baseline);
* ``effective_robustness(f, b) = AUC(f - f_0) - AUC(b - b_0)``: the area gained over the
  baseline once each curve is shifted so that its first point (the clean score) is 0. It is the
  trapezoid-weighted mean of MultiBench's effective robustness ``Σ_k f_k - (b_k + f_0 - b_0)``
  (which follows Taori et al. 2020: robustness beyond what the clean score predicts). It is 0
  when the model loses exactly as much as the baseline at every level, whatever its clean score.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._json import JSONResult, jsonable
from .._threads import large_model, sized_work
from .._validation import check_float, check_int
from ..exceptions import InvalidInputError

ArrayLike = Any
PredictFn = Callable[[dict[str, Any], Any], Any]
Metric = Callable[[np.ndarray, np.ndarray], float]

#: Metrics known by name; a callable ``metric(target, predictions) -> float`` is also accepted.
METRICS = ("accuracy",)


@dataclass(frozen=True)
class RobustnessResult(JSONResult):
    """Scores of a predictor clean, with each modality dropped, and under rising noise.

    Attributes
    ----------
    metric : str
        Name of the metric (``"accuracy"`` or the callable's ``__name__``); higher is better.
    clean : float
        Score on the unperturbed inputs with every modality present.
    dropped : dict of str to float
        Score with one modality dropped (its input zeroed and its mask column False).
    noise_levels : tuple of float
        The noise levels, in units of each modality's standard deviation.
    noisy : dict of str to list of float
        ``noisy[m][k]`` is the score with noise of level ``noise_levels[k]`` added to modality
        ``m`` only, averaged over the repeats.
    noisy_std : dict of str to list of float
        Standard deviation of that score over the repeats (0 with one repeat).
    chance : float or None
        For accuracy, the frequency of the most common target class (what a constant
        predictor reaches); None for other metrics.
    n_samples, n_repeats : int
        Number of samples evaluated and of noise draws per level.
    """

    metric: str
    clean: float
    dropped: dict[str, float]
    noise_levels: tuple[float, ...]
    noisy: dict[str, list[float]]
    noisy_std: dict[str, list[float]]
    chance: float | None
    n_samples: int
    n_repeats: int
    settings: dict[str, Any] = field(default_factory=dict)

    def curve(self, modality: str) -> np.ndarray:
        """Score against noise level for one modality, shape ``(len(noise_levels),)``."""
        if modality not in self.noisy:
            raise InvalidInputError(
                f"`modality` must be one of {sorted(self.noisy)}, got {modality!r}."
            )
        return np.asarray(self.noisy[modality], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary (JSON-ready: NaN and infinities become None)."""
        return jsonable(asdict(self))

    def to_string(self, digits: int = 3) -> str:
        """A plain-text table: the metric per modality with it dropped, and per noise level."""
        levels = "  ".join(f"{f'noise {v:g}':>9}" for v in self.noise_levels)
        width = max([8, *(len(m) for m in self.noisy)])
        lines = [f"Robustness ({self.metric}, {self.n_samples} samples): clean "
                 f"{self.clean:.{digits}f}" + ("" if self.chance is None
                                               else f", chance {self.chance:.{digits}f}"),
                 f"{'modality':<{width}}  {'dropped':>9}  {levels}"]
        for m, curve in self.noisy.items():
            dropped = self.dropped.get(m, float("nan"))
            lines.append(f"{m:<{width}}  {dropped:>9.{digits}f}  "
                         + "  ".join(f"{v:>9.{digits}f}" for v in curve))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return (f"RobustnessResult({self.metric}: clean {self.clean:.3g}, modalities "
                f"{', '.join(self.noisy)}; print() shows the table)")


@sized_work(lambda predict_fn, *args, **kwargs: hasattr(predict_fn, "parameters")
            and large_model(predict_fn))  # forward passes of a small model: one thread
def robustness_sweep(
    predict_fn: PredictFn,
    inputs: Mapping[str, ArrayLike],
    target: ArrayLike,
    *,
    noise_levels: Sequence[float] = (0, 0.25, 0.5, 1, 2),
    modalities: Sequence[str] | None = None,
    metric: str | Metric = "accuracy",
    n_repeats: int = 1,
    mask_order: Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> RobustnessResult:
    """Evaluate a predictor clean, with each modality dropped, and under rising Gaussian noise.

    Parameters
    ----------
    predict_fn : callable
        ``predict_fn(inputs, mask) -> predictions``. ``inputs`` is a dict like the one given;
        ``mask`` is a boolean ``(n_samples, n_modalities)`` array (a ``torch.Tensor`` on the
        inputs' device when any input is a tensor, else a numpy array), True where a modality
        is present, with columns in ``mask_order``. Predictions are class indices
        ``(n_samples,)`` or class scores/logits ``(n_samples, n_classes)`` (numpy or torch).
        A :class:`~interplay.models.MultimodalModel` in eval mode fits as it is.
    inputs : dict of str to array or Tensor
        One entry per modality, each with ``n_samples`` rows.
    target : array-like or Tensor of shape (n_samples,)
        True labels (or whatever ``metric`` compares the predictions with).
    noise_levels : sequence of float
        Non-negative, strictly increasing noise levels. At level ``λ`` the modality ``m``
        becomes ``x_m + λ σ_m ε`` with ``ε`` standard normal and ``σ_m`` the standard
        deviation of all entries of ``x_m`` (1 when ``x_m`` is constant). Level 0 passes the
        inputs unchanged, so its score equals the clean score for a deterministic predictor.
    modalities : sequence of str, optional
        Modalities to drop and perturb (default: all keys of ``inputs``).
    metric : "accuracy" or callable
        ``"accuracy"`` compares ``argmax`` of 2-D scores (or the 1-D labels) with ``target``;
        a callable ``metric(target, predictions) -> float`` (numpy arrays) is used as given.
        Higher must mean better for the robustness summaries.
    n_repeats : int
        Noise draws per level; the curve holds their mean and ``noisy_std`` their spread.
    mask_order : sequence of str, optional
        Order of the mask columns (default: the key order of ``inputs``). Pass
        ``model.modalities`` for a :class:`~interplay.models.MultimodalModel`.
    random_state : int, numpy Generator or None
        Seed of the noise.

    Returns
    -------
    RobustnessResult

    Raises
    ------
    InvalidInputError
        On inputs of different lengths, unknown modalities, bad noise levels or metric, or
        predictions of the wrong shape.

    Notes
    -----
    A dropped modality has its input replaced by zeros *and* its mask column set False, so a
    predictor that ignores the mask sees zero imputation and one that honours it sees the
    modality as missing.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)
    >>> def xor(inputs, mask):
    ...     return (inputs["a"].round().astype(int) ^ inputs["b"].round().astype(int))
    >>> r = robustness_sweep(xor, {"a": a, "b": b}, a ^ b, noise_levels=(0, 1), random_state=0)
    >>> r.clean, r.noisy["a"][0]
    (1.0, 1.0)
    """
    if not callable(predict_fn):
        raise InvalidInputError(
            f"`predict_fn` must be callable as predict_fn(inputs, mask), got "
            f"{type(predict_fn).__name__}."
        )
    data, n = _check_inputs(inputs)
    y = _to_numpy(target, "target")
    if y.shape[0] != n:
        raise InvalidInputError(f"`target` must have one entry per sample ({n}), got {y.shape[0]}.")
    order = _check_order(mask_order, tuple(data))
    chosen = _check_modalities(modalities, tuple(data))
    levels = _check_levels(noise_levels)
    reps = check_int(n_repeats, "n_repeats", minimum=1)
    score, metric_name = _check_metric(metric)
    rng = (
        random_state
        if isinstance(random_state, np.random.Generator)
        else (np.random.default_rng(_check_seed(random_state)))
    )

    def evaluate(batch: dict[str, Any], present: np.ndarray) -> float:
        return float(score(y, _predict(predict_fn, batch, present, order, n)))

    full = np.ones((n, len(order)), dtype=bool)
    clean = evaluate(dict(data), full)
    dropped: dict[str, float] = {}
    noisy: dict[str, list[float]] = {}
    noisy_std: dict[str, list[float]] = {}
    for m in chosen:
        present = full.copy()
        present[:, order.index(m)] = False
        dropped[m] = evaluate({**data, m: _zeros_like(data[m])}, present)
        sigma = _std(data[m])
        means, stds = [], []
        for level in levels:
            if level == 0.0:
                runs = [clean]
            else:
                runs = [
                    evaluate({**data, m: _add_noise(data[m], level * sigma, rng)}, full)
                    for _ in range(reps)
                ]
            means.append(float(np.mean(runs)))
            stds.append(float(np.std(runs)))
        noisy[m], noisy_std[m] = means, stds
    chance = None
    if metric_name == "accuracy":
        _, counts = np.unique(y, return_counts=True, axis=0)
        chance = float(counts.max() / n)
    return RobustnessResult(
        metric=metric_name,
        clean=clean,
        dropped=dropped,
        noise_levels=levels,
        noisy=noisy,
        noisy_std=noisy_std,
        chance=chance,
        n_samples=n,
        n_repeats=reps,
        settings={
            "noise": "gaussian, scaled by each modality's std",
            "mask_order": list(order),
            "random_state": random_state if isinstance(random_state, int) else None,
        },
    )


def robustness_auc(curve: ArrayLike, noise_levels: ArrayLike | None = None) -> float:
    """Mean score over the noise range: the trapezoid area under the curve / the level range.

    Parameters
    ----------
    curve : array-like of shape (n_levels,)
        Scores at increasing noise levels (at least two).
    noise_levels : array-like of shape (n_levels,), optional
        Strictly increasing levels (default ``0, 1, ..., n_levels - 1``).

    Examples
    --------
    >>> round(robustness_auc([1.0, 0.8, 0.6], [0, 1, 2]), 12)
    0.8
    """
    f, x = _check_curve(curve, "curve", noise_levels)
    return float(_trapezoid(f, x) / (x[-1] - x[0]))


def relative_robustness(
    curve: ArrayLike, baseline_curve: ArrayLike, noise_levels: ArrayLike | None = None
) -> float:
    """``AUC(curve) / AUC(baseline_curve)``: the model's robustness area relative to a baseline.

    See the module docstring for ``AUC``. Both curves must be measured at the same noise
    levels; the baseline's area must be positive.

    Examples
    --------
    >>> round(relative_robustness([1.0, 0.8, 0.6], [0.9, 0.5, 0.1]), 12)
    1.6
    """
    f, x = _check_curve(curve, "curve", noise_levels)
    b, _ = _check_curve(baseline_curve, "baseline_curve", noise_levels)
    _same_length(f, b)
    base_area = float(_trapezoid(b, x))
    if not base_area > 0:
        raise InvalidInputError(
            f"`baseline_curve` must have a positive area for a ratio, got "
            f"{base_area / (x[-1] - x[0]):.3g}; use effective_robustness for signed scores."
        )
    return float(_trapezoid(f, x)) / base_area


def effective_robustness(
    curve: ArrayLike, baseline_curve: ArrayLike, noise_levels: ArrayLike | None = None
) -> float:
    """``AUC(curve - curve[0]) - AUC(baseline - baseline[0])``: robustness beyond the baseline.

    Each curve is shifted so that its first point (the clean score when the first level is 0)
    is 0, which removes the advantage of a better clean score; what remains is how much less
    (positive) or more (negative) the model loses under noise than the baseline, averaged over
    the noise range, in the metric's units. See the module docstring.

    Examples
    --------
    >>> round(effective_robustness([1.0, 0.8, 0.6], [0.9, 0.5, 0.1]), 12)
    0.2
    """
    f, x = _check_curve(curve, "curve", noise_levels)
    b, _ = _check_curve(baseline_curve, "baseline_curve", noise_levels)
    _same_length(f, b)
    gained = _trapezoid((f - f[0]) - (b - b[0]), x) / (x[-1] - x[0])
    return float(gained)


def cross_modal_consistency(
    predict_fn: PredictFn,
    inputs: Mapping[str, ArrayLike],
    modalities: Sequence[str] | None = None,
    *,
    mask_order: Sequence[str] | None = None,
) -> dict[tuple[str, str], float]:
    """Fraction of samples on which the predictions from single modalities agree.

    For every pair ``(i, j)`` of ``modalities`` (in the given order, ``i`` before ``j``), the
    model predicts once with only ``i`` present and once with only ``j`` present (the others
    zeroed and masked out, as in :func:`robustness_sweep`), and the result is the fraction of
    samples whose predicted classes coincide.

    Parameters
    ----------
    predict_fn, inputs, mask_order
        As in :func:`robustness_sweep`; predictions must be classes or class scores.
    modalities : sequence of str, optional
        At least two modalities of ``inputs`` (default: all).

    Returns
    -------
    dict of (str, str) to float

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([0, 1, 1, 0]); b = np.array([0, 1, 0, 0])
    >>> cross_modal_consistency(lambda x, m: x["a"] + x["b"], {"a": a, "b": b})
    {('a', 'b'): 0.75}
    """
    if not callable(predict_fn):
        raise InvalidInputError(
            f"`predict_fn` must be callable as predict_fn(inputs, mask), got "
            f"{type(predict_fn).__name__}."
        )
    data, n = _check_inputs(inputs)
    order = _check_order(mask_order, tuple(data))
    chosen = _check_modalities(modalities, tuple(data))
    if len(chosen) < 2:
        raise InvalidInputError(
            f"`modalities` must name at least two modalities, got {list(chosen)}."
        )
    alone = {}
    for m in chosen:
        present = np.zeros((n, len(order)), dtype=bool)
        present[:, order.index(m)] = True
        batch = {k: (v if k == m else _zeros_like(v)) for k, v in data.items()}
        alone[m] = _labels(_predict(predict_fn, batch, present, order, n))
    return {
        (a, b): float(np.mean(alone[a] == alone[b]))
        for i, a in enumerate(chosen)
        for b in chosen[i + 1 :]
    }


# ----------------------------------------------------------------------------- helpers


def _check_inputs(inputs: Any) -> tuple[dict[str, Any], int]:
    if not isinstance(inputs, Mapping) or not inputs:
        raise InvalidInputError(
            f"`inputs` must be a non-empty dict {{modality: array}}, got "
            f"{type(inputs).__name__}{' (empty)' if isinstance(inputs, Mapping) else ''}."
        )
    data: dict[str, Any] = {}
    lengths = {}
    for name, value in inputs.items():
        arr: Any
        if _is_tensor(value):
            arr = value.detach()
        else:
            try:
                arr = np.asarray(value)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(
                    f"`inputs[{name!r}]` must be a numeric array or tensor."
                ) from exc
            if arr.dtype.kind not in "biuf":
                raise InvalidInputError(
                    f"`inputs[{name!r}]` must be numeric, got dtype {arr.dtype}."
                )
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise InvalidInputError(
                f"`inputs[{name!r}]` must have at least one sample along axis 0, got shape "
                f"{tuple(arr.shape)}."
            )
        data[name] = arr
        lengths[name] = int(arr.shape[0])
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(
            f"every entry of `inputs` must have the same number of samples, got {lengths}."
        )
    return data, next(iter(lengths.values()))


def _check_order(mask_order: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    if mask_order is None:
        return names
    order = tuple(mask_order)
    if sorted(order) != sorted(names):
        raise InvalidInputError(
            f"`mask_order` must list each modality of `inputs` {sorted(names)} once, got "
            f"{list(order)}."
        )
    return order


def _check_modalities(modalities: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    if modalities is None:
        return names
    if isinstance(modalities, str) or not isinstance(modalities, Sequence):
        raise InvalidInputError(
            f"`modalities` must be a list of modality names, got {modalities!r}."
        )
    unknown = [m for m in modalities if m not in names]
    if unknown or not modalities or len(set(modalities)) != len(modalities):
        raise InvalidInputError(
            f"`modalities` must be distinct names among {list(names)}, got {list(modalities)}."
        )
    return tuple(modalities)


def _check_levels(noise_levels: Any) -> tuple[float, ...]:
    try:
        levels = tuple(check_float(v, "noise_levels[...]", low=0.0) for v in noise_levels)
    except TypeError as exc:
        raise InvalidInputError(
            f"`noise_levels` must be a sequence of numbers >= 0, got {noise_levels!r}."
        ) from exc
    if not levels or bool(np.any(np.diff(levels) <= 0)):
        raise InvalidInputError(
            f"`noise_levels` must be a non-empty, strictly increasing sequence, got {list(levels)}."
        )
    return levels


def _check_metric(metric: Any) -> tuple[Metric, str]:
    if callable(metric):
        return metric, getattr(metric, "__name__", "custom")
    if metric == "accuracy":
        return _accuracy, "accuracy"
    raise InvalidInputError(
        f"`metric` must be one of {METRICS} or a callable metric(target, predictions), "
        f"got {metric!r}."
    )


def _check_seed(random_state: Any) -> int | None:
    if random_state is None:
        return None
    return check_int(random_state, "random_state", minimum=0)


def _check_curve(curve: Any, name: str, noise_levels: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        f = np.asarray(curve, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"`{name}` must be a 1-D array of scores.") from exc
    if f.ndim != 1 or f.size < 2 or not np.all(np.isfinite(f)):
        raise InvalidInputError(
            f"`{name}` must be a 1-D array of at least two finite scores, got shape {f.shape}."
        )
    if noise_levels is None:
        return f, np.arange(f.size, dtype=np.float64)
    x = np.asarray(_check_levels(noise_levels), dtype=np.float64)
    if x.size != f.size:
        raise InvalidInputError(
            f"`noise_levels` must have one level per point of `{name}` ({f.size}), got {x.size}."
        )
    return f, x


def _trapezoid(f: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum(np.diff(x) * (f[1:] + f[:-1]) / 2))


def _same_length(f: np.ndarray, b: np.ndarray) -> None:
    if f.size != b.size:
        raise InvalidInputError(
            f"`curve` and `baseline_curve` must be measured at the same noise levels, got "
            f"{f.size} and {b.size} points."
        )


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if _is_tensor(x):
        return x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"`{name}` must be an array, got {type(x).__name__}.") from exc
    if arr.ndim == 0:
        raise InvalidInputError(f"`{name}` must have one entry per sample, got a scalar.")
    return arr


def _labels(pred: np.ndarray) -> np.ndarray:
    if pred.ndim == 1:
        return pred
    if pred.ndim == 2 and pred.shape[1] >= 2:
        return pred.argmax(axis=1)
    raise InvalidInputError(
        "`predict_fn` must return class indices (n_samples,) or class scores "
        f"(n_samples, n_classes >= 2), got shape {pred.shape}."
    )


def _accuracy(target: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(_labels(pred) == target))


def _predict(
    predict_fn: PredictFn,
    batch: dict[str, Any],
    present: np.ndarray,
    order: tuple[str, ...],
    n: int,
) -> np.ndarray:
    torch = _torch()
    tensors = [v for v in batch.values() if _is_tensor(v)]
    mask: Any = torch.as_tensor(present, device=tensors[0].device) if tensors else present
    with torch.no_grad() if torch is not None else nullcontext():
        raw = predict_fn(batch, mask)
        # an interplay model returns a ModelOutput: its predictions are the logits
        out = _to_numpy(getattr(raw, "logits", raw), "predictions")
    if out.shape[0] != n:
        raise InvalidInputError(
            f"`predict_fn` must return one prediction per sample ({n}), got shape {out.shape}."
        )
    return out


def _torch() -> Any:
    """torch if the caller has imported it (a tensor or a torch model is in play), else None.

    A sweep of numpy inputs and a numpy predictor never imports torch; tensors can only
    arrive once torch is imported, so checking ``sys.modules`` is enough.
    """
    return sys.modules.get("torch")


def _is_tensor(x: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _zeros_like(x: Any) -> Any:
    return _torch().zeros_like(x) if _is_tensor(x) else np.zeros_like(x)


def _std(x: Any) -> float:
    values = x.double().cpu().numpy() if _is_tensor(x) else x.astype(np.float64)
    s = float(values.std())
    return s if s > 0 else 1.0


def _add_noise(x: Any, scale: float, rng: np.random.Generator) -> Any:
    eps = rng.standard_normal(tuple(x.shape)) * scale
    if _is_tensor(x):
        torch = _torch()
        dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
        return x.to(dtype) + torch.as_tensor(eps, dtype=dtype, device=x.device)
    return x.astype(np.float64) + eps
