"""How well each modality alone predicts a class label: a quick probe for model selection.

:func:`interplay.analysis.recommend.recommend_fusion` leaves the unimodal ensemble out when
neither modality alone predicts the label well (``unimodal_accuracy``). The model-selection
benchmarks measure those accuracies with trained unimodal networks; ``interplay recommend``
has no trained models, so :func:`probe_accuracy` fits a logistic regression on each modality
(standardised columns; non-numeric columns one-hot coded) on a stratified part of the rows and
scores it on the rest. It is a cheap lower bound of what a network on that modality reaches.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import DEFAULT_SEED, check_float, check_int
from ..exceptions import InvalidInputError, MissingDependencyError
from .probe import linear_probe

__all__ = ["probe_accuracy"]


def probe_accuracy(x1: Any, x2: Any, y: Any, *, test_fraction: float = 1 / 3,
                   random_state: int = DEFAULT_SEED) -> tuple[float, float]:
    """Held-out accuracy of a logistic regression on X1 alone and on X2 alone.

    Parameters
    ----------
    x1, x2 : array-like or DataFrame of shape (n_samples, ...)
        The modalities (more than one axis per sample is flattened).
    y : array-like of shape (n_samples,) or (n_samples, n_columns)
        The class label (rows of several columns count as one label).
    test_fraction : float
        Share of the rows held out for scoring (stratified by the label).
    random_state : int
        Seed of the split.

    Returns
    -------
    tuple of float
        Test accuracy on X1 alone and on X2 alone.

    Raises
    ------
    InvalidInputError
        On different numbers of rows, a label with one value, or a class too rare to split.
    MissingDependencyError
        Without scikit-learn (``interplay[data]``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 600)
    >>> a, b = probe_accuracy(y[:, None] + 0.1 * rng.standard_normal((600, 1)),
    ...                       rng.standard_normal((600, 4)), y)
    >>> a > 0.9, b < 0.5
    (True, True)
    """
    try:
        from sklearn.model_selection import train_test_split
    except ImportError as exc:  # pragma: no cover - scikit-learn is an optional extra
        raise MissingDependencyError(
            f"the unimodal probe needs scikit-learn (`pip install 'interplay[data]'`): {exc}"
        ) from exc
    frac = check_float(test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True,
                       high_open=True)
    seed = check_int(random_state, "random_state", minimum=0)
    arr_y = np.asarray(y)
    if arr_y.ndim == 0:
        raise InvalidInputError("`y` must hold one label per sample, got a scalar.")
    _, labels = np.unique(arr_y.reshape(arr_y.shape[0], -1), axis=0, return_inverse=True)
    labels = labels.reshape(-1)
    if np.unique(labels).size < 2:
        raise InvalidInputError("`y` must take at least two values to probe a classifier.")
    features = [_numeric(x, name) for name, x in (("x1", x1), ("x2", x2))]
    if any(f.shape[0] != labels.size for f in features):
        raise InvalidInputError(
            f"`x1`, `x2` and `y` must have the same number of rows, got {features[0].shape[0]}, "
            f"{features[1].shape[0]} and {labels.size}.")
    try:
        parts = train_test_split(np.arange(labels.size), test_size=frac, random_state=seed,
                                 stratify=labels)
    except ValueError as exc:
        raise InvalidInputError(f"cannot split the rows by label for the probe: {exc}") from exc
    train, test = parts
    a1, a2 = (linear_probe(f[train], labels[train], z_test=f[test], y_test=labels[test],
                           Cs=(1.0,), seed=seed).accuracy for f in features)
    return a1, a2


def _numeric(x: Any, name: str) -> np.ndarray:
    """Numeric columns as they are, other columns one-hot coded; samples flattened."""
    columns = getattr(x, "columns", None)
    if columns is not None:
        parts = [np.asarray(x[c]) for c in columns]
    else:
        arr = np.asarray(x)
        if arr.ndim == 0:
            raise InvalidInputError(f"`{name}` must hold one sample per row, got a scalar.")
        flat = arr.reshape(arr.shape[0], -1)
        parts = [flat[:, j] for j in range(flat.shape[1])]
    coded = []
    for col in parts:
        if col.dtype.kind in "fiu":
            coded.append(col.astype(float)[:, None])
        else:
            _, inverse = np.unique(col.astype(str), return_inverse=True)
            coded.append(np.eye(int(inverse.max()) + 1)[inverse.reshape(-1)])
    return np.concatenate(coded, axis=1)
