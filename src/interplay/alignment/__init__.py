"""Representation alignment between modalities: similarity metrics, modality gap, retrieval.

Every metric is a pure function of two row-paired feature arrays (numpy or torch, computed in
float64 unless told otherwise) returning a float. Importing this package does not import torch.

* neighbourhoods: :func:`mutual_knn` (with :func:`chance_mutual_knn`), :func:`cycle_knn`,
  :func:`lcs_knn`, :func:`edit_distance_knn`, exact and chunked (bounded memory, optional Dask);
* kernels: :func:`cka` (linear in feature space, RBF, debiased), :func:`cknna`, :func:`svcca`;
* preprocessing: :func:`clamp_quantile`, :func:`l2_normalize`; :func:`layerwise` sweeps;
* chance: :func:`permutation_null`;
* geometry and retrieval: :func:`modality_gap`, :func:`shift_along_gap`, :func:`gap_sweep`,
  :func:`retrieval_metrics`.

See docs/alignment.md for when each metric misleads.
"""

from .cka import cka, cknna, hsic, svcca
from .gap import GapResult, gap_sweep, modality_gap, shift_along_gap
from .knn import (
    chance_mutual_knn,
    cycle_knn,
    edit_distance_knn,
    knn_indices,
    lcs_knn,
    mutual_knn,
)
from .layerwise import LayerwiseResult, layerwise
from .null import NullResult, permutation_null
from .preprocess import clamp_quantile, l2_normalize
from .registry import METRICS, analytic_chance, list_metrics, metric_function
from .retrieval import retrieval_metrics

__all__ = [
    "METRICS",
    "GapResult",
    "LayerwiseResult",
    "NullResult",
    "analytic_chance",
    "chance_mutual_knn",
    "cka",
    "cknna",
    "clamp_quantile",
    "cycle_knn",
    "edit_distance_knn",
    "gap_sweep",
    "hsic",
    "knn_indices",
    "l2_normalize",
    "layerwise",
    "lcs_knn",
    "list_metrics",
    "metric_function",
    "modality_gap",
    "mutual_knn",
    "permutation_null",
    "retrieval_metrics",
    "shift_along_gap",
    "svcca",
]
