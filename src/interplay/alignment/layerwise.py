"""Alignment between every pair of layers of two networks, and the best pair.

The emergence and Platonic-representation papers report the maximum of a metric over all
layer pairs; :func:`layerwise` returns the whole matrix with its arg-max so the choice is
visible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice
from ..exceptions import InvalidInputError
from .registry import metric_function


@dataclass(frozen=True)
class LayerwiseResult:
    """Metric values for every layer pair.

    Attributes
    ----------
    matrix : ndarray of shape (n_layers_a, n_layers_b)
    names_a, names_b : tuple of str
    best : float
        The largest entry.
    argmax : tuple of (str, str)
        The layer names where it is reached (first in row-major order on ties).
    """

    matrix: np.ndarray
    names_a: tuple[str, ...]
    names_b: tuple[str, ...]
    best: float
    argmax: tuple[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Plain types, for JSON."""
        return {"matrix": self.matrix.tolist(), "names_a": list(self.names_a),
                "names_b": list(self.names_b), "best": self.best, "argmax": list(self.argmax)}


def _named(layers: Sequence[Any] | Mapping[str, Any], arg: str) -> tuple[list[str], list[Any]]:
    if isinstance(layers, Mapping):
        names, arrays = [str(k) for k in layers], list(layers.values())
    elif isinstance(layers, (list, tuple)):
        names, arrays = [str(i) for i in range(len(layers))], list(layers)
    else:
        raise InvalidInputError(
            f"`{arg}` must be a list of per-layer arrays or a mapping name -> array, got "
            f"{type(layers).__name__}."
        )
    if not arrays:
        raise InvalidInputError(f"`{arg}` holds no layers.")
    return names, arrays


def layerwise(
    layers_a: Sequence[Any] | Mapping[str, Any],
    layers_b: Sequence[Any] | Mapping[str, Any],
    metric: Callable[..., float] | str = "mutual_knn",
    *,
    reduce: str = "max",
    preprocess: Callable[[Any], Any] | None = None,
    **options: Any,
) -> LayerwiseResult | np.ndarray:
    """``metric`` between every layer of one network and every layer of another.

    Parameters
    ----------
    layers_a, layers_b : list of arrays or mapping of name to array
        Each array ``(n_samples, d_layer)``, rows paired across all layers of both networks.
    metric : callable or str
        A function ``metric(a, b, **options) -> float`` or a name from
        :func:`~interplay.alignment.list_metrics`.
    reduce : {"max", "none"}
        ``"max"``: a :class:`LayerwiseResult` with the matrix, best value and arg-max;
        ``"none"``: the matrix only.
    preprocess : callable, optional
        Applied to every layer first, e.g.
        ``lambda x: l2_normalize(clamp_quantile(x, 0.95))`` as in the papers.
    **options
        Passed to the metric.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((100, 4))
    >>> r = layerwise([rng.standard_normal((100, 4)), x], {"h1": x}, k=5)
    >>> r.argmax, r.best
    (('1', 'h1'), 1.0)
    """
    check_choice(reduce, "reduce", ("max", "none"))
    fn = metric_function(metric) if isinstance(metric, str) else metric
    names_a, arrays_a = _named(layers_a, "layers_a")
    names_b, arrays_b = _named(layers_b, "layers_b")
    if preprocess is not None:
        arrays_a = [preprocess(x) for x in arrays_a]
        arrays_b = [preprocess(x) for x in arrays_b]
    matrix = np.array([[float(fn(xa, xb, **options)) for xb in arrays_b] for xa in arrays_a])
    if reduce == "none":
        return matrix
    i, j = np.unravel_index(int(np.argmax(matrix)), matrix.shape)
    return LayerwiseResult(matrix=matrix, names_a=tuple(names_a), names_b=tuple(names_b),
                           best=float(matrix[i, j]), argmax=(names_a[i], names_b[j]))
