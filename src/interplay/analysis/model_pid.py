"""The PID of a trained model's predictions, and its agreement with the data's PID.

Liang et al. (2023, "Quantifying & modeling multimodal interactions") decompose the information
that the modalities carry about a model's *predictions* f(x1, x2) instead of the labels y. The
result says which interactions the model uses: a model that only ever reads X1 has
I(X1; f) = H(f) and no synergy, whatever the data holds. Comparing it with the data's PID tells
whether the model picked up the interactions the task needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError
from ..info.estimate import plugin_pid
from ..info.pid import ATOMS, PIDResult, pid
from ..info.samples import encode


def model_pid(x1: Any, x2: Any, predictions: Any, **plugin_kwargs: Any) -> PIDResult:
    """PID of I(X1, X2; f) where f are a model's class predictions.

    Parameters
    ----------
    x1, x2 : array-like of shape (n_samples,) or (n_samples, n_columns)
        The two modalities as discrete symbols. Continuous modalities must be discretised
        first, e.g. into k-means cluster labels of their features or embeddings.
    predictions : array-like or Tensor of shape (n_samples,) or (n_samples, n_classes)
        Predicted classes, or class scores/logits (then their argmax is used).
    **plugin_kwargs
        Passed to the plug-in estimator :func:`interplay.info.estimate.plugin_pid`
        (``method``, ``base``, ``n_bootstrap``, ...); ``progress`` defaults to False here.

    Returns
    -------
    PIDResult
        The plug-in PID with the predictions as the target. A model that predicts a single
        class carries no information: every atom is 0 and ``result.warnings`` says why.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 2000), rng.integers(0, 2, 2000)
    >>> r = model_pid(a, b, a ^ b, method="mmi")   # a perfect XOR model: pure synergy
    >>> round(r.synergy, 2), round(r.redundancy, 2)
    (1.0, 0.0)
    """
    labels = _predicted_classes(predictions)
    plugin_kwargs.setdefault("progress", False)
    if np.unique(labels).size > 1:
        return plugin_pid(x1, x2, labels, **plugin_kwargs)
    lengths = {
        "x1": encode(x1, name="x1").codes.size,
        "x2": encode(x2, name="x2").codes.size,
        "predictions": labels.size,
    }
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(
            f"`x1`, `x2` and `predictions` must have the same number of samples, got {lengths}."
        )
    method = plugin_kwargs.get("method", "broja")
    base = plugin_kwargs.get("base", 2)
    zero = pid(np.ones((1, 1, 1)), method, base=base)
    return zero.with_(
        estimator="plug-in",
        n_samples=labels.size,
        warnings=(
            "the model predicts a single class, so its predictions carry no information "
            "about either modality and every atom is 0.",
        ),
    )


def pid_agreement(
    data_pid: PIDResult | Mapping[str, float], model_pid: PIDResult | Mapping[str, float]
) -> float:
    """Agreement α between a dataset's PID and a model's PID (Liang et al. 2023).

    .. math::

        \\alpha(f, D) = \\sum_{I \\in \\{R, U_1, U_2, S\\}} \\hat I_D(I) \\, I_f(I),
        \\qquad \\hat I_D(I) = I_D(I) / \\sum_J I_D(J)

    The data's atoms are normalised to proportions that sum to 1, so α is the model's atoms
    averaged with the weights of the interactions the data holds, in the model PID's units. It
    is large when the model carries much information of the kinds that dominate the data; it is
    0 when the model carries none of them. α is not bounded by 1: it grows with the information
    the model's predictions carry at all.

    Parameters
    ----------
    data_pid, model_pid : PIDResult or dict
        PIDs (or dicts with the keys ``redundancy``, ``unique1``, ``unique2``, ``synergy``)
        in the same units. The data atoms must be non-negative with a positive sum.

    Returns
    -------
    float

    Examples
    --------
    >>> data = {"redundancy": 1.0, "unique1": 0.0, "unique2": 1.0, "synergy": 2.0}
    >>> model = {"redundancy": 0.4, "unique1": 0.3, "unique2": 0.2, "synergy": 0.1}
    >>> round(pid_agreement(data, model), 12)
    0.2
    """
    d = _atoms(data_pid, "data_pid")
    f = _atoms(model_pid, "model_pid")
    if isinstance(data_pid, PIDResult) and isinstance(model_pid, PIDResult):
        if data_pid.units != model_pid.units:
            raise InvalidInputError(
                f"`data_pid` and `model_pid` must be in the same units, got "
                f"{data_pid.units!r} and {model_pid.units!r}."
            )
    if np.any(d < -1e-12):
        raise InvalidInputError(
            f"`data_pid` atoms must be non-negative to be normalised into proportions, got "
            f"{dict(zip(ATOMS, d.tolist(), strict=True))}."
        )
    d = np.clip(d, 0.0, None)
    total = float(d.sum())
    if not total > 0:
        raise InvalidInputError(
            "`data_pid` atoms sum to 0: the modalities carry no information about the target, "
            "so there are no interactions to agree with."
        )
    return float(np.dot(d / total, f))


def _atoms(result: Any, name: str) -> np.ndarray:
    if isinstance(result, PIDResult):
        values = [getattr(result, a) for a in ATOMS]
    elif isinstance(result, Mapping) and all(a in result for a in ATOMS):
        values = [result[a] for a in ATOMS]
    else:
        raise InvalidInputError(
            f"`{name}` must be a PIDResult or a dict with keys {list(ATOMS)}, got "
            f"{type(result).__name__}."
        )
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"`{name}` atoms must be numbers, got {values!r}.") from exc
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"`{name}` atoms must be finite, got {values!r}.")
    return arr


def _predicted_classes(predictions: Any) -> np.ndarray:
    if hasattr(predictions, "detach"):
        predictions = predictions.detach().cpu().numpy()
    arr = np.asarray(predictions)
    if arr.ndim == 2 and arr.shape[1] >= 2:
        return arr.argmax(axis=1)
    if arr.ndim == 1 and arr.size > 0:
        return arr
    raise InvalidInputError(
        "`predictions` must be classes (n_samples,) or class scores (n_samples, n_classes >= 2), "
        f"got shape {arr.shape}."
    )
