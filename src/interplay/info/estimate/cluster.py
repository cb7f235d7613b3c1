"""Cluster PID: discretize each high-dimensional modality with PCA and k-means, then plug-in PID.

This is the estimator of Liang et al. (NeurIPS 2023) for continuous, high-dimensional sources
and a discrete target: every modality is standardised, projected on its leading principal
components and clustered with k-means; the cluster labels are the discrete sources whose
empirical joint with the target is decomposed exactly (:func:`interplay.info.estimate.plugin_pid`).

What it estimates is the PID of the *cluster labels*, not of the raw modalities. By the data
processing inequality every mutual information of the labels is at most that of the raw data,
so coarse clusterings (few clusters or components) under-estimate the information, and they can
shift it between atoms: two sources that each carry a piece of Y in directions the projection
drops lose it. Fine clusterings (many clusters, few samples) inflate the plug-in mutual
informations by about ``(|X1 X2| - 1)(|Y| - 1) / (2 N ln 2)`` bits, most of which lands in the
synergy. :func:`cluster_sensitivity` shows both effects by repeating the estimate over several
numbers of clusters.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._json import JSONResult, jsonable
from ..._tables import atom_table
from ..._threads import small_work
from ..._validation import DEFAULT_SEED, check_base, check_int, check_samples
from ...exceptions import InvalidInputError, MissingDependencyError, SmallSampleWarning
from ..pid import ATOMS, PIDResult
from .plugin import MAX_RELATIVE_BIAS, NEGLIGIBLE_BIAS_BITS, plugin_pid

__all__ = [
    "ClusterSensitivity",
    "cluster_labels",
    "cluster_pid",
    "cluster_sensitivity",
    "cluster_stage",
    "reduce_dimension",
]

#: k-means restarts per clustering; the best (lowest inertia) is kept.
N_INIT = 4
#: Clusters per modality by default: 5 x 5 label pairs and 10 classes leave at least 5 samples
#: per joint cell from 1250 samples, so the bundled mfeat and av-digits data (about 2000 rows,
#: 10 digits) are estimated without a small-sample warning.
DEFAULT_N_CLUSTERS = 5
#: Principal components kept per modality by default.
DEFAULT_N_COMPONENTS = 2


def cluster_pid(
    x1: Any,
    x2: Any,
    y: Any,
    *,
    n_clusters: int = DEFAULT_N_CLUSTERS,
    n_components: int | None = DEFAULT_N_COMPONENTS,
    method: str = "broja",
    random_state: int | None = DEFAULT_SEED,
    base: float | str = 2,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    progress: bool = False,
) -> PIDResult:
    """PID of continuous, high-dimensional sources and a discrete target via clustering.

    Each source is standardised (zero mean, unit variance per column), reduced to its first
    ``n_components`` principal components and clustered with k-means into ``n_clusters``
    clusters; the labels and ``y`` go to the plug-in estimator
    :func:`interplay.info.estimate.plugin_pid`.

    Assumes that the information about Y lives in the leading principal directions and in the
    coarse cluster structure of each modality. The result is the PID of the labels, which is
    biased *downwards* by the discretization (information the clusters merge is lost, and
    the loss can move information between atoms) and *upwards* by the plug-in estimate
    (up to ``(|X1 X2| - 1)(|Y| - 1) / (2 N ln 2)`` bits for ``I(X1,X2;Y)``, less when Y is
    nearly a function of the labels (:func:`plugin_bias`), mostly into the synergy). Check
    how the atoms move with ``n_clusters`` with :func:`cluster_sensitivity`.

    Parameters
    ----------
    x1, x2 : array-like of shape (n_samples,) or (n_samples, n_features)
        Numeric samples of the two sources, rows aligned.
    y : array-like of shape (n_samples,) or (n_samples, n_columns)
        The discrete target (integers, strings, booleans), with at least two values.
    n_clusters : int
        Clusters per modality, at least 2. A modality with fewer distinct (reduced) points gets
        one cluster per distinct point.
    n_components : int or None
        Principal components kept per modality (at most its number of columns); ``None``
        clusters the standardised columns without PCA.
    method : str
        Redundancy measure of :func:`interplay.pid` (``"broja"``, ``"mmi"``, ...).
    random_state : int or None
        Seed of the k-means initialisation and of the bootstrap.
    base : float or "e"
        Logarithm base of the result (2 gives bits).
    n_bootstrap, confidence
        Bootstrap intervals as in :func:`~interplay.info.estimate.plugin_pid`. They resample
        the rows with the clustering held fixed, so they miss the clustering's own variability
        (``interplay.quantify(..., estimator="cluster", bootstrap="refit")`` re-clusters every
        replicate instead).
    progress : bool
        Show a progress bar over the bootstrap replicates.

    Returns
    -------
    PIDResult
        With ``estimator="cluster"``; ``settings`` records ``n_clusters``, ``n_components``
        and the clusters and components actually used per modality (``"clusters_used"``,
        ``"components_used"``).

    Warns
    -----
    SmallSampleWarning
        From :func:`~interplay.info.estimate.plugin_pid`: too few samples per joint cell or a
        plug-in bias large relative to ``I(X1,X2;Y)``.

    Raises
    ------
    InvalidInputError
        On non-numeric, NaN or infinite sources, different numbers of rows, a single-valued
        target, ``n_clusters < 2`` or ``n_clusters`` above the number of samples,
        ``n_components < 1``.
    MissingDependencyError
        When scikit-learn (the ``interplay[data]`` extra) is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 3000), rng.integers(0, 2, 3000)
    >>> x1 = np.outer(2 * a - 1, rng.standard_normal(30)) + 0.3 * rng.standard_normal((3000, 30))
    >>> x2 = np.outer(2 * b - 1, rng.standard_normal(30)) + 0.3 * rng.standard_normal((3000, 30))
    >>> r = cluster_pid(x1, x2, a ^ b, n_clusters=4, random_state=0)
    >>> round(r.synergy, 1), r.estimator
    (1.0, 'cluster')
    """
    k, comps, seed, (z1, z2), (l1, l2) = _cluster(x1, x2, y, n_clusters, n_components,
                                                   random_state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SmallSampleWarning)
        result = plugin_pid(l1, l2, y, method=method, base=base, n_bootstrap=n_bootstrap,
                            confidence=confidence, random_state=seed, progress=progress)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    return _as_cluster_result(result, k, comps, (z1, z2), (l1, l2))


def cluster_stage(
    x1: Any,
    x2: Any,
    y: Any,
    *,
    n_clusters: int = DEFAULT_N_CLUSTERS,
    n_components: int | None = DEFAULT_N_COMPONENTS,
    random_state: int | None = DEFAULT_SEED,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray, Any]:
    """The fitted first stage of :func:`cluster_pid`: the cluster labels of X1 and X2, and Y.

    The same labels :func:`cluster_pid` counts (same projection, same seeded k-means); a
    bootstrap that holds the clustering fixed resamples their rows. Options of the plug-in
    stage (``method``, ...) are accepted and ignored.
    """
    _, _, _, _, (l1, l2) = _cluster(x1, x2, y, n_clusters, n_components, random_state)
    return l1, l2, y


def _cluster(x1: Any, x2: Any, y: Any, n_clusters: Any, n_components: Any, random_state: Any
             ) -> tuple[int, int | None, int | None, tuple[np.ndarray, np.ndarray],
                        tuple[np.ndarray, np.ndarray]]:
    a1, a2 = _check_sources(x1, x2, y)
    k = _check_clusters(n_clusters, a1.shape[0])
    comps = _check_components(n_components)
    seed = _check_seed(random_state)
    z1, z2 = reduce_dimension(a1, comps), reduce_dimension(a2, comps)
    return k, comps, seed, (z1, z2), (cluster_labels(z1, k, seed), cluster_labels(z2, k, seed))


#: Below this many samples per occupied X cell, occupied cells undercount the relevant ones.
MIN_SAMPLES_PER_CELL = 5


def plugin_bias(x: np.ndarray, y: Any, base: float = 2.0) -> float:
    """The predicted first-order bias of the plug-in ``I(X;Y)`` from ``N`` samples.

    Miller-Madow with *occupied* cells, ``(R_xy - R_x - R_y + 1) / (2 N ln b)`` (Panzeri &
    Treves 1996), clipped at 0. With every cell occupied it is the familiar
    ``(R_x - 1)(R_y - 1) / (2 N ln b)``; when Y is (nearly) a function of X most joint cells
    stay empty and the bias is much smaller. With fewer than :data:`MIN_SAMPLES_PER_CELL`
    samples per occupied X cell the occupied joint cells undercount the relevant ones (a cell
    seen once shows one Y value), so the full-occupancy value is used: the plug-in MI then
    climbs towards ``H(Y)`` whatever the truth.
    """
    _, yc = np.unique(np.asarray(y), axis=0, return_inverse=True)
    yc = yc.reshape(-1)
    _, xc = np.unique(x, return_inverse=True)
    xc = xc.reshape(-1)
    n, r_x, r_y = xc.size, int(xc.max()) + 1, int(yc.max()) + 1
    if n < MIN_SAMPLES_PER_CELL * r_x:
        r_xy = r_x * r_y
    else:
        r_xy = np.unique(xc.astype(np.int64) * r_y + yc).size
    return max(0.0, (r_xy - r_x - r_y + 1) / (2 * n * math.log(base)))


@dataclass(frozen=True)
class ClusterSensitivity(JSONResult):
    """How the cluster PID moves with the number of clusters per modality.

    Attributes
    ----------
    n_clusters : tuple of int
        The numbers of clusters tried, in the order given.
    results : tuple of PIDResult
        The cluster PID for each entry of ``n_clusters``.
    bias : tuple of float
        The predicted plug-in bias of ``I(X1,X2;Y)`` for each entry, in the results' units
        (:func:`plugin_bias` of the label pairs and the target).
    warnings : tuple of str
        The cluster counts whose bias is large relative to the atoms, with the atoms it exceeds.
    """

    n_clusters: tuple[int, ...]
    results: tuple[PIDResult, ...]
    bias: tuple[float, ...]
    warnings: tuple[str, ...] = field(default=())

    def atom(self, name: str) -> list[float]:
        """One atom (or ``"mi_joint"``, ``"mi_x1"``, ``"mi_x2"``) for each cluster count."""
        if name not in (*ATOMS, "mi_joint", "mi_x1", "mi_x2"):
            raise InvalidInputError(
                f"`name` must be one of {', '.join((*ATOMS, 'mi_joint', 'mi_x1', 'mi_x2'))}, "
                f"got {name!r}."
            )
        return [getattr(r, name) for r in self.results]

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns ``n_clusters``, the four atoms, the three mutual informations and ``bias``."""
        table: dict[str, list[Any]] = {"n_clusters": list(self.n_clusters)}
        for name in (*ATOMS, "mi_joint", "mi_x1", "mi_x2"):
            table[name] = self.atom(name)
        table["bias"] = list(self.bias)
        return jsonable(table)

    def to_string(self, digits: int = 4) -> str:
        """A plain-text table: one row per cluster count, with the predicted bias."""
        first = self.results[0] if self.results else None
        head = "Cluster PID by number of clusters" + (
            f" ({first.method}) in {first.units}" if first else "")
        text = atom_table(head, "clusters", list(self.n_clusters), self.results, digits,
                          extra={"bias": self.bias})
        return "\n".join([text, *(f"warning: {w}" for w in self.warnings)])

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return (f"ClusterSensitivity(n_clusters={self.n_clusters}, {len(self.warnings)} "
                "warnings; print() shows the table)")


def cluster_sensitivity(
    x1: Any,
    x2: Any,
    y: Any,
    n_clusters: Sequence[int] = (5, 10, 20, 30),
    *,
    n_components: int | None = DEFAULT_N_COMPONENTS,
    method: str = "broja",
    random_state: int | None = DEFAULT_SEED,
    base: float | str = 2,
) -> ClusterSensitivity:
    """The cluster PID (:func:`cluster_pid`) for several numbers of clusters.

    The projection is computed once; k-means runs once per entry of ``n_clusters``. A stable
    decomposition changes little between neighbouring cluster counts. Atoms that keep growing
    with the count, usually the synergy, follow the plug-in bias rather than the data.

    Parameters
    ----------
    x1, x2, y, n_components, method, random_state, base
        As in :func:`cluster_pid`.
    n_clusters : sequence of int
        Numbers of clusters per modality to try, each at least 2.

    Returns
    -------
    ClusterSensitivity
        The results per cluster count and the predicted plug-in bias of each.

    Warns
    -----
    SmallSampleWarning
        Once, naming every cluster count whose predicted bias exceeds both 0.01 bits and 10 %
        of ``I(X1,X2;Y)``, and the atoms smaller than the bias (indistinguishable from it).
        The per-count warnings of :func:`cluster_pid` are kept in each result's ``warnings``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = rng.integers(0, 2, 2000)
    >>> x1 = np.outer(s, rng.standard_normal(10)) + 0.1 * rng.standard_normal((2000, 10))
    >>> x2 = np.outer(s, rng.standard_normal(10)) + 0.1 * rng.standard_normal((2000, 10))
    >>> sens = cluster_sensitivity(x1, x2, s, n_clusters=(2, 4), random_state=0)
    >>> [round(v, 2) for v in sens.atom("redundancy")]
    [1.0, 1.0]
    """
    a1, a2 = _check_sources(x1, x2, y)
    if isinstance(n_clusters, (str, bytes)) or not isinstance(n_clusters, Sequence) \
            or len(n_clusters) == 0:
        raise InvalidInputError(
            f"`n_clusters` must be a non-empty sequence of integers, got {n_clusters!r}."
        )
    ks = tuple(_check_clusters(k, a1.shape[0]) for k in n_clusters)
    comps = _check_components(n_components)
    seed = _check_seed(random_state)
    b = check_base(base)
    z1, z2 = reduce_dimension(a1, comps), reduce_dimension(a2, comps)
    n = a1.shape[0]
    results, biases, flagged = [], [], []
    for k in ks:
        l1, l2 = cluster_labels(z1, k, seed), cluster_labels(z2, k, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            raw = plugin_pid(l1, l2, y, method=method, base=b, random_state=seed,
                             progress=False)
        result = _as_cluster_result(raw, k, comps, (z1, z2), (l1, l2))
        bias = plugin_bias(l1 * (int(l2.max()) + 1) + l2, y, b)
        bits = bias * math.log2(b)
        if bits > NEGLIGIBLE_BIAS_BITS and bias > MAX_RELATIVE_BIAS * result.mi_joint:
            below = [a for a in ATOMS if getattr(result, a) < bias]
            flagged.append(
                f"{k} clusters: predicted bias {bias:.3g} {result.units} vs "
                f"I(X1,X2;Y) = {result.mi_joint:.3g}"
                + (f" (exceeds {', '.join(below)})" if below else "")
            )
        results.append(result)
        biases.append(bias)
    notes: tuple[str, ...] = ()
    if flagged:
        notes = (
            f"the plug-in bias is large relative to the atoms with {len(flagged)} of the "
            f"{len(ks)} cluster counts ({n} samples): " + "; ".join(flagged)
            + ". Those estimates are dominated by bias; use fewer clusters or more samples.",
        )
        warnings.warn(notes[0], SmallSampleWarning, stacklevel=2)
    return ClusterSensitivity(n_clusters=ks, results=tuple(results), bias=tuple(biases),
                              warnings=notes)


@small_work
def reduce_dimension(x: np.ndarray, n_components: int | None) -> np.ndarray:
    """Standardise the columns of ``x`` and keep its first ``n_components`` principal components.

    Constant columns are centred and left at 0. With ``n_components=None``, or at least as many
    components as columns, the standardised columns are returned unrotated (k-means with
    Euclidean distance does not depend on the rotation).
    """
    centred = x - x.mean(axis=0)
    scale = centred.std(axis=0)
    z = centred / np.where(scale > 0, scale, 1.0)
    if n_components is None or n_components >= z.shape[1]:
        return z
    pca = _sklearn("sklearn.decomposition", "PCA")
    return pca(n_components=n_components, svd_solver="full").fit_transform(z)


@small_work
def cluster_labels(z: np.ndarray, n_clusters: int, random_state: int | None) -> np.ndarray:
    """k-means labels (``0 .. k-1``) of the rows of ``z``; ``k`` is capped at the distinct rows."""
    distinct = np.unique(z, axis=0).shape[0]
    k = min(n_clusters, distinct)
    if k == distinct:
        return np.unique(z, axis=0, return_inverse=True)[1].ravel()
    kmeans = _sklearn("sklearn.cluster", "KMeans")
    return kmeans(n_clusters=k, n_init=N_INIT, random_state=random_state).fit_predict(z)


def _sklearn(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise MissingDependencyError(
            "The cluster PID needs scikit-learn for PCA and k-means: "
            "`pip install interplay[data]` (or `pip install scikit-learn`)."
        ) from exc


def _as_cluster_result(
    result: PIDResult,
    n_clusters: int,
    n_components: int | None,
    reduced: tuple[np.ndarray, np.ndarray],
    labels: tuple[np.ndarray, np.ndarray],
) -> PIDResult:
    settings = {
        **result.settings,
        "n_clusters": n_clusters,
        "n_components": n_components,
        "components_used": {"x1": reduced[0].shape[1], "x2": reduced[1].shape[1]},
        "clusters_used": {"x1": int(labels[0].max()) + 1, "x2": int(labels[1].max()) + 1},
    }
    return result.with_(estimator="cluster", settings=settings)


def _check_sources(x1: Any, x2: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    a1, a2 = check_samples(x1, "x1", min_samples=2), check_samples(x2, "x2", min_samples=2)
    n_y = np.shape(y)[0] if np.ndim(y) > 0 else 0
    if a2.shape[0] != a1.shape[0] or n_y != a1.shape[0]:
        raise InvalidInputError(
            f"`x1`, `x2` and `y` must have the same number of rows, got {a1.shape[0]}, "
            f"{a2.shape[0]} and {n_y}."
        )
    return a1, a2


def _check_clusters(n_clusters: Any, n_samples: int) -> int:
    k = check_int(n_clusters, "n_clusters", minimum=2)
    if k > n_samples:
        raise InvalidInputError(
            f"`n_clusters` must be at most the number of samples ({n_samples}), got {k}."
        )
    return k


def _check_components(n_components: Any) -> int | None:
    return None if n_components is None else check_int(n_components, "n_components", minimum=1)


def _check_seed(random_state: Any) -> int | None:
    return None if random_state is None else check_int(random_state, "random_state", minimum=0)
