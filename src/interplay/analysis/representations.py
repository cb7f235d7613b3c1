"""How good are a model's per-modality embeddings as representations?

:func:`representation_metrics` scores row-paired embeddings of several modalities on held-out
rows: cross-modal retrieval (R@k and median rank, both directions, from
:func:`~interplay.alignment.retrieval_metrics`), structural alignment (mutual k-nearest
neighbours and debiased linear CKA), the modality gap, and the accuracy of a linear probe on
each modality's embedding and on all of them concatenated (trained on other rows). This is
what ``interplay evaluate`` reports for a run trained with a contrastive, binding or FactorCL
objective. Retrieval and the gap compare two modalities in one space, so they need equal
widths; the other scores do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from .._validation import check_int
from ..alignment import cka, modality_gap, mutual_knn, retrieval_metrics
from ..exceptions import InvalidInputError
from .probe import linear_probe

__all__ = ["representation_metrics"]


def _embeddings(embeddings: Mapping[str, Any], arg: str) -> dict[str, np.ndarray]:
    if not isinstance(embeddings, Mapping) or len(embeddings) < 2:
        got = (sorted(embeddings) if isinstance(embeddings, Mapping)
               else type(embeddings).__name__)
        raise InvalidInputError(f"`{arg}` must map at least two modalities to their "
                                f"embeddings; got {got}")
    out: dict[str, np.ndarray] = {}
    for m, z in embeddings.items():
        arr = np.asarray(z.detach().cpu() if hasattr(z, "detach") else z, dtype=np.float64)
        if arr.ndim == 3:  # sequences: mean over time, as the contrastive objectives do
            arr = arr.mean(axis=1)
        if arr.ndim != 2:
            raise InvalidInputError(f"`{arg}[{m!r}]` must have shape (n_samples, width); got "
                                    f"{arr.shape}")
        if not np.isfinite(arr).all():
            raise InvalidInputError(f"`{arg}[{m!r}]` contains NaN or infinite values")
        out[str(m)] = arr
    rows = {m: a.shape[0] for m, a in out.items()}
    if len(set(rows.values())) != 1:
        raise InvalidInputError(f"`{arg}` must be row-paired (the same samples for every "
                                f"modality); got rows {rows}")
    return out


def _pairs(pairs: Sequence[Sequence[str]] | None, names: Sequence[str]) -> list[tuple[str, str]]:
    if pairs is None:
        return list(combinations(names, 2))
    out = []
    for p in pairs:
        if isinstance(p, str) or len(p) != 2 or p[0] == p[1]:
            raise InvalidInputError(f"`pairs` must list pairs of two different modalities; got "
                                    f"{p!r}")
        unknown = [m for m in p if m not in names]
        if unknown:
            raise InvalidInputError(f"`pairs`: {unknown} not among the modalities {list(names)}")
        out.append((str(p[0]), str(p[1])))
    return out


def _pair_scores(a: np.ndarray, b: np.ndarray, ks: Sequence[int], knn_k: int) -> dict[str, Any]:
    n = a.shape[0]
    scores: dict[str, Any] = {
        "mutual_knn": mutual_knn(a, b, k=min(knn_k, n - 1)),
        "cka": None, "retrieval": None, "gap": None, "note": None,
    }
    if n >= 4:
        try:
            scores["cka"] = cka(a, b, debiased=True)
        except InvalidInputError as exc:  # a constant embedding has no CKA
            scores["note"] = f"no CKA: {exc}"
    if a.shape[1] != b.shape[1]:
        scores["note"] = (f"widths {a.shape[1]} and {b.shape[1]} differ: no shared space, so no "
                          "retrieval or gap (give both encoders the same output_dim)")
        return scores
    scores["retrieval"] = retrieval_metrics(a, b, ks=ks)
    scores["gap"] = modality_gap(a, b).norm
    return scores


def representation_metrics(
    test: Mapping[str, Any],
    *,
    y_test: Any = None,
    train: Mapping[str, Any] | None = None,
    y_train: Any = None,
    pairs: Sequence[Sequence[str]] | None = None,
    ks: Sequence[int] = (1, 10),
    knn_k: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """Retrieval, alignment, modality gap and linear-probe accuracy of modality embeddings.

    Parameters
    ----------
    test : dict of str to array (n, d_m)
        Row-paired embeddings of held-out samples, one array per modality (``(n, T, d_m)``
        sequences are mean-pooled over time). Row i of every array is sample i: it is the
        positive of the retrieval queries, every other row a negative.
    y_test : array (n,), optional
        Class labels of the test rows, for the probe.
    train : dict of str to array, optional
        Embeddings of other rows (the training split) with their labels ``y_train``: the probe
        is fitted there (``C`` chosen on 20% of them) and scored on the test rows. Without
        them there is no probe.
    pairs : sequence of (str, str), optional
        Modality pairs to compare (default: every pair).
    ks : sequence of int, default (1, 10)
        Recall cut-offs.
    knn_k : int, default 10
        Neighbours of the mutual-kNN score (at most ``n - 1``).
    seed : int
        Seeds the probe's validation split.

    Returns
    -------
    dict
        ``n_samples``; ``pairs``: one dict per pair with ``modalities``, ``retrieval`` (the
        :func:`~interplay.alignment.retrieval_metrics` dict, or None for unequal widths),
        ``gap`` (norm of the modality gap, or None), ``mutual_knn``, ``cka`` (debiased linear;
        None below 4 rows) and a ``note`` saying what was skipped; ``probe``: test accuracy
        per modality and for ``"all"`` concatenated, or None; ``chance``: R@k and median rank
        of random retrieval.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).standard_normal((40, 8))
    >>> r = representation_metrics({"a": z, "b": 2 * z})
    >>> r["pairs"][0]["retrieval"]["a_to_b_R@1"], round(r["pairs"][0]["gap"], 2)
    (1.0, 0.0)
    """
    emb = _embeddings(test, "test")
    n = next(iter(emb.values())).shape[0]
    if n < 2:
        raise InvalidInputError("representation metrics need at least 2 test samples: with one, "
                                "retrieval has no negatives")
    cutoffs = [check_int(k, "ks", minimum=1) for k in ks]
    knn_k = check_int(knn_k, "knn_k", minimum=1)
    chosen = _pairs(pairs, list(emb))
    result: dict[str, Any] = {
        "n_samples": n,
        "widths": {m: int(z.shape[1]) for m, z in emb.items()},
        "pairs": [{"modalities": [a, b], **_pair_scores(emb[a], emb[b], cutoffs, knn_k)}
                  for a, b in chosen],
        "probe": None,
        "chance": {**{f"R@{k}": min(k, n) / n for k in cutoffs},
                   "median_rank": float(np.floor((n + 1) / 2))},
    }
    if train is not None:
        if y_train is None or y_test is None:
            raise InvalidInputError("the probe needs `y_train` and `y_test` with `train`")
        fit = _embeddings(train, "train")
        if set(fit) != set(emb):
            raise InvalidInputError(f"`train` must hold the modalities of `test` {sorted(emb)}; "
                                    f"got {sorted(fit)}")
        order = list(emb)
        result["probe"] = {
            name: linear_probe(np.hstack([fit[m] for m in ms]), y_train,
                               z_test=np.hstack([emb[m] for m in ms]), y_test=y_test,
                               seed=seed).accuracy
            for name, ms in [*((m, [m]) for m in order), ("all", order)]}
    return result
