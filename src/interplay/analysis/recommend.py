"""PID-guided model selection: a dataset's interaction profile, and the fusion that suits it.

Liang et al. (NeurIPS 2023, "Quantifying & modeling multimodal interactions") propose to pick a
fusion architecture from the partial information decomposition of the data: how much of what
the modalities X1, X2 tell about Y is redundant (R), unique to one modality (U1, U2) or only
available from both together (synergy, S). Two steps:

1. :func:`profile_interactions` estimates the PID and normalises the atoms into *shares* that
   sum to 1 (the estimator is chosen from the data types, and the choice is explained);
2. :func:`recommend_fusion` ranks fusion modules by the relative accuracy they are predicted
   to reach on data with that profile.

The ranking rule is a linear model in the shares. For each fusion ``f`` an *affinity*
``A[f, a]`` is the accuracy ``f`` reaches, relative to the best fusion on the same data, on data
whose information is of kind ``a`` (redundant, unique or synergistic; U1 and U2 are pooled
because the fusions treat the modalities symmetrically). The predicted relative accuracy of
``f`` on a dataset with shares ``w`` is

.. math::  \\hat r_f = w_R A[f, R] + (w_{U_1} + w_{U_2}) A[f, U] + w_S A[f, S].

Why the interaction kinds separate the fusions: with a linear head, *early* and *late* fusion
produce logits that are a sum of one term per modality. When the modalities are conditionally
independent given Y (redundant or unique information), the Bayes posterior has exactly that
form (``log p(y|x1,x2) = log p(x1|y) + log p(x2|y) + c``), so additive fusion is the simplest
correct model; but no sum of per-modality terms represents an XOR of two modalities, so
synergy needs a fusion with cross-modal products (tensor, low-rank tensor, multiplicative
interactions) or attention whose weights depend on both modalities.

The affinities are *calibrated*, not asserted: :func:`calibrate_affinity` computes them from
measured accuracies. In the default table :data:`DEFAULT_AFFINITY` the redundancy and unique
columns come from real modality pairs (``benchmarks/model_selection_real.py``) and the synergy
column from the hard synthetic suite (``benchmarks/model_selection_hard.py``). Every
prediction carries an interval, and when the intervals do not separate the candidates the
simplest one within the noise is recommended (:func:`recommend_fusion`).

What the profile cannot say: whether the label can be predicted from each modality alone.
Unique information about one shared label (each of mfeat's feature sets names the digit) and
unique information about two parts of a composite label (X1 says the tens, X2 the units) have
the same shares, yet a unimodal ensemble is the best model for the first and fails the second.
Given the accuracy of a classifier on each modality alone (``unimodal_accuracy``; ``interplay
recommend`` measures it with a logistic-regression probe,
:func:`~interplay.analysis.unimodal_probe.probe_accuracy`), the ensemble is left out when the
better modality is less than halfway from chance to perfect (:data:`ENSEMBLE_MIN_SKILL`).
Costs (parameters, measured training time) can bound the candidates
(:mod:`~interplay.analysis.fusion_cost`). ``docs/model-selection.md`` reports how the rule does,
leave one dataset out, on real sets and on the hard synthetic suite, next to fixed policies.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._json import JSONResult
from .._json import jsonable as _jsonable
from .._validation import DEFAULT_SEED, check_choice, check_float, check_int
from ..estimators.bootstrap import bootstrap_replicates
from ..estimators.registry import (
    ALIASES,
    AUTO,
    CLUSTER_COMPONENTS,
    choose_estimator,
    default_options,
    estimate,
    get_estimator,
)
from ..exceptions import InvalidInputError, MissingDependencyError
from ..info.estimate.resampling import percentile_intervals
from ..info.pid.result import ATOMS, PIDResult

__all__ = [
    "DEFAULT_AFFINITY",
    "DEFAULT_TOLERANCE",
    "ENSEMBLE",
    "BALANCED",
    "ENSEMBLE_MIN_SKILL",
    "ESTIMATORS",
    "FusionAffinity",
    "InteractionProfile",
    "RankedFusion",
    "Recommendation",
    "calibrate_affinity",
    "choose_estimator",
    "fusion_facts",
    "profile_interactions",
    "recommend_fusion",
    "synergy_bias",
    "unimodal_skill",
]

#: Estimators :func:`profile_interactions` accepts (``"auto"`` picks one from the data; the
#: neural estimators are left out: a profile is a quick look before training anything).
ESTIMATORS = (AUTO, "plugin", "cluster", "gaussian", "copula", *ALIASES)
#: The interaction kinds of an affinity table (U1 and U2 pooled into ``"unique"``).
KINDS = ("redundancy", "unique", "synergy")
#: Total share below which a calibration suite says nothing about a kind of interaction.
MIN_KIND_WEIGHT = 0.5

#: Predicted relative accuracies closer than this are treated as equal by the ranking.
DEFAULT_TOLERANCE = 0.0
#: The unimodal ensemble is a candidate only when the better modality alone has at least this
#: skill, ``(accuracy - 1/C) / (1 - 1/C)`` for C classes (:func:`unimodal_skill`): halfway from
#: chance to perfect. Fixed, not fitted: on the benchmarks every threshold from 0.42 to 0.67
#: gives the same picks (docs/model-selection.md).
ENSEMBLE_MIN_SKILL = 0.5
#: Name of the unimodal ensemble among the candidates (one classifier per modality, trained
#: alone, probabilities averaged: ``interplay.models.UnimodalEnsemble``).
ENSEMBLE = "ensemble"
_ENSEMBLE_FACTS = (
    "averages the probabilities of one classifier per modality, each trained alone: no "
    "cross-modal term (cannot represent synergy), no modality competition in training, and "
    "it keeps working when a modality is missing", 0)
#: Balanced trainings among the candidates: ``{name: (fusion, balancer, options)}``, the
#: registered fusion trained with a registered balancer (:func:`interplay.balance.create_balancer`
#: with these options; in a YAML run ``balance: {name: <balancer>, options: {...}}``). Modality
#: dropout (``p`` 0.3, the fusion table's ``+ mdrop`` rows) and MMPareto (its defaults) are the
#: balancers docs/balancing.md measures helping most on av-digits and mfeat. They are candidates
#: of the model-selection benchmarks' ground truth and can be ranked with an affinity table that
#: covers them (``benchmarks/model_selection_real.py --print-default`` prints their rows), but
#: :data:`DEFAULT_AFFINITY` leaves them out: on the real sets, leave one out, they change no
#: pick, while on the bundled data they move ``interplay recommend``'s answer from the
#: ensemble to ``late + mmpareto``, which is not better there (docs/model-selection.md).
BALANCED: dict[str, tuple[str, str, tuple[tuple[str, float], ...]]] = {
    "late + mdrop": ("late", "modality_dropout", (("p", 0.3),)),
    "gated + mdrop": ("gated", "modality_dropout", (("p", 0.3),)),
    "late + mmpareto": ("late", "mmpareto", ()),
    "gated + mmpareto": ("gated", "mmpareto", ()),
}


def fusion_facts() -> dict[str, tuple[str, float]]:
    """What each candidate can represent and its simplicity rank (0 simplest).

    Read from the fusion classes' ``represents`` and ``simplicity`` attributes
    (:mod:`interplay.models.fusion`); the unimodal ensemble (:data:`ENSEMBLE`) has rank 0; a
    balanced training (:data:`BALANCED`) represents what its fusion does and ranks half a step
    after it (the same model, one more training choice).
    Without torch (the ``interplay[models]`` extra) the classes cannot be loaded and only the
    ensemble is described: rankings then break ties between fusions by name.
    """
    facts: dict[str, tuple[str, float]] = {ENSEMBLE: _ENSEMBLE_FACTS}
    try:
        from ..models import list_fusions
        from ..models.fusion.base import fusion_class
    except (ImportError, MissingDependencyError):
        return facts
    facts |= {name: (fusion_class(name).represents, fusion_class(name).simplicity)
              for name in list_fusions()}
    for name, (fusion, balancer, options) in BALANCED.items():
        if fusion in facts:
            given = ", ".join(f"{k}: {v:g}" for k, v in options)
            facts[name] = (f"{facts[fusion][0]}; trained with the {balancer} balancer against "
                           f"modality competition (balance: {{name: {balancer}"
                           + (f", options: {{{given}}}" if given else "") + "})",
                           facts[fusion][1] + 0.5)
    return facts


# --------------------------------------------------------------------------------- profile
@dataclass(frozen=True)
class InteractionProfile(JSONResult):
    """How two modalities inform a target: the PID and its atoms as shares of the total.

    Attributes
    ----------
    shares : dict
        ``redundancy``, ``unique1``, ``unique2``, ``synergy`` as fractions of
        ``R + U1 + U2 + S`` (negative atoms clipped to 0 first); they sum to 1.
    pid : PIDResult
        The decomposition the shares come from, in its own units.
    estimator : str
        ``"plugin"``, ``"cluster"``, ``"gaussian"`` or ``"copula"`` (``"exact"`` for a
        probability table).
    reason : str
        Why that estimator, and with which settings.
    modalities : tuple of str
        Names of X1 and X2.
    target : str
        Name of Y.
    share_ci : dict or None
        Bootstrap percentile interval of each share (when ``n_bootstrap > 0``). For the
        cluster estimator the clustering is held fixed (``bootstrap="fixed"``).
    warnings : tuple of str
        Small-sample and other notes of the estimate.
    modality_dims : pair of int or None
        Features per sample of X1 and X2 (flattened): what the cost of a candidate model
        depends on (:func:`recommend_fusion`'s budget).
    n_classes : int or None
        Distinct values of a class-label target (None for a numeric target).
    """

    shares: dict[str, float]
    pid: PIDResult
    estimator: str
    reason: str
    modalities: tuple[str, str] = ("x1", "x2")
    target: str = "y"
    share_ci: dict[str, tuple[float, float]] | None = None
    warnings: tuple[str, ...] = ()
    modality_dims: tuple[int, int] | None = None
    n_classes: int | None = None

    @property
    def dominant(self) -> str:
        """The atom with the largest share."""
        return max(ATOMS, key=lambda a: self.shares[a])

    @property
    def kind_shares(self) -> dict[str, float]:
        """Shares of ``redundancy``, ``unique`` (U1 + U2) and ``synergy``."""
        s = self.shares
        return {"redundancy": s["redundancy"], "unique": s["unique1"] + s["unique2"],
                "synergy": s["synergy"]}

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-ready)."""
        return _jsonable({
            "shares": self.shares, "dominant": self.dominant, "estimator": self.estimator,
            "reason": self.reason, "modalities": list(self.modalities), "target": self.target,
            "share_ci": self.share_ci, "warnings": list(self.warnings),
            "modality_dims": None if self.modality_dims is None else list(self.modality_dims),
            "n_classes": self.n_classes, "pid": self.pid.to_dict(),
        })


def shares_of(atoms: Mapping[str, float] | PIDResult) -> dict[str, float]:
    """The four atoms as fractions of their sum, after clipping negative atoms to 0.

    Raises :class:`InvalidInputError` when the atoms sum to 0 (no information about the target).

    >>> shares_of({"redundancy": 1.0, "unique1": 0.0, "unique2": 0.5, "synergy": 0.5})
    {'redundancy': 0.5, 'unique1': 0.0, 'unique2': 0.25, 'synergy': 0.25}
    """
    values = atoms.atoms if isinstance(atoms, PIDResult) else atoms
    clipped = {a: max(float(values[a]), 0.0) for a in ATOMS}
    total = sum(clipped.values())
    if not total > 0:
        raise InvalidInputError(
            "the modalities carry no information about the target (every PID atom is 0), so "
            "there is no interaction profile to base a recommendation on."
        )
    return {a: v / total for a, v in clipped.items()}


def profile_interactions(
    data: Any,
    x2: Any = None,
    y: Any = None,
    *,
    modalities: Sequence[str] | None = None,
    target: str | None = None,
    estimator: str = AUTO,
    method: str = "broja",
    n_clusters: int | None = None,
    n_components: int | None = CLUSTER_COMPONENTS,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    random_state: int = DEFAULT_SEED,
    progress: bool = True,
) -> InteractionProfile:
    """Estimate the PID of two modalities and a target, and normalise it into shares.

    Parameters
    ----------
    data : MultimodalDataset or array-like
        A dataset (then ``modalities`` picks X1 and X2, default its two modalities, and
        ``target`` picks Y, default its default target), or the samples of X1 with ``x2`` and
        ``y`` given. Modalities with more than one axis per sample (images, sequences) are
        flattened.
    x2, y : array-like, optional
        Samples of X2 and Y when ``data`` holds X1.
    modalities : pair of str, optional
        Names of X1 and X2 in a dataset.
    target : str, optional
        Target of a dataset.
    estimator : {"auto", "plugin", "cluster", "gaussian", "copula"}
        ``"auto"`` follows :func:`~interplay.estimators.choose_estimator`. ``"plugin"`` (also
        ``"discrete"``) counts the values; ``"cluster"`` standardises each modality, keeps
        ``n_components`` principal components and k-means clusters them
        (:func:`interplay.info.estimate.cluster_pid`); ``"gaussian"`` and ``"copula"`` fit a
        joint Gaussian to the samples or to their rank-normal scores.
    method : str
        Redundancy measure (``"broja"``, ``"mmi"``, ...).
    n_clusters, n_components : int
        Settings of the cluster estimator (``n_components=None``: no PCA). The plug-in table
        has ``n_clusters**2 * |Y|`` cells; keep at least 5 samples per cell. The defaults are
        ``quantify``'s (:func:`interplay.estimators.registry.cluster_defaults`): 10 principal
        components and ``n_clusters=None``, the most clusters (2 to 10) that keep 5 samples
        per joint cell.
    n_bootstrap : int
        Bootstrap resamples for intervals of the shares (rows resampled; the cluster
        estimator's clustering held fixed).
    confidence : float
        Coverage of the intervals.
    random_state : int
        Seed of k-means and of the bootstrap.
    progress : bool
        Show a progress bar while resampling.

    Returns
    -------
    InteractionProfile

    Notes
    -----
    The plug-in estimates behind the discrete and cluster estimators are biased upwards by
    about ``(|X1 X2| - 1)(|Y| - 1) / (2 N ln 2)`` bits, mostly into the synergy; with few
    samples per joint cell the synergy share is inflated and the profile carries a warning.
    The cluster estimator loses information that the clusters merge, which can move
    information between atoms (see :func:`interplay.cluster_sensitivity`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)
    >>> p = profile_interactions(a, b, a ^ b, progress=False)
    >>> p.dominant, p.estimator, round(p.shares["synergy"], 2)
    ('synergy', 'plugin', 1.0)
    """
    x1, x2, y, names, target_name = _samples(data, x2, y, modalities, target)
    check_choice(estimator, "estimator", ESTIMATORS)
    k = None if n_clusters is None else check_int(n_clusters, "n_clusters", minimum=2)
    comps = None if n_components is None else check_int(n_components, "n_components", minimum=1)
    n_boot = check_int(n_bootstrap, "n_bootstrap", minimum=0)
    conf = check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True,
                       high_open=True)
    seed = check_int(random_state, "random_state", minimum=0)
    if estimator == AUTO:
        chosen, reason = choose_estimator(x1, x2, y)
    else:
        chosen = get_estimator(estimator).name
        reason = f"{chosen}: chosen by the caller"
    options: dict[str, Any] = {"method": method}
    if chosen == "cluster":
        auto_k = default_options("cluster", y)["n_clusters"]
        options.update(n_clusters=auto_k if k is None else k, n_components=comps)
        reason += (f"; each modality standardised, "
                   f"{'all columns' if comps is None else f'{comps} principal components'}"
                   f", {options['n_clusters']} k-means clusters"
                   + (" (the most that keep 5 samples per joint cell)" if k is None else ""))
    share_ci = None
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        if n_boot:
            result, replicates = bootstrap_replicates(
                chosen, x1, x2, y, n_bootstrap=n_boot, mode="fixed", random_state=seed,
                progress=progress, **options)
            share_ci = _share_intervals(replicates, conf)
        else:
            result = estimate(chosen, x1, x2, y, random_state=seed, progress=False, **options)
    for w in caught:  # warned once, from here, in their own category
        _warnings.warn(w.message, w.category, stacklevel=2)
    notes = tuple(dict.fromkeys([*result.warnings, *(str(w.message) for w in caught)]))
    label = get_estimator(chosen).target == "label"
    return InteractionProfile(
        shares=shares_of(result), pid=result, estimator=chosen, reason=reason,
        modalities=names, target=target_name, share_ci=share_ci, warnings=notes,
        modality_dims=(_width(x1), _width(x2)), n_classes=_n_values(y) if label else None,
    )


def _width(x: Any) -> int:
    """Features per sample of a modality (its sample axis dropped, the rest flattened)."""
    shape = np.shape(x)
    return int(np.prod(shape[1:])) if len(shape) > 1 else 1


def _n_values(y: Any) -> int:
    arr = np.asarray(y)
    return int(np.unique(arr.reshape(arr.shape[0], -1), axis=0).shape[0])


def _share_intervals(replicates: Sequence[PIDResult], confidence: float
                     ) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the shares over bootstrap replicates without information left
    out (their shares are undefined)."""
    atoms = np.clip([[getattr(r, a) for a in ATOMS] for r in replicates], 0.0, None)
    totals = atoms.sum(axis=1)
    shares = atoms[totals > 0] / totals[totals > 0, None]
    return dict(zip(ATOMS, percentile_intervals(shares, confidence), strict=True))


def _samples(data: Any, x2: Any, y: Any, modalities: Sequence[str] | None,
             target: str | None) -> tuple[Any, Any, Any, tuple[str, str], str]:
    from ..data.dataset import MultimodalDataset

    if isinstance(data, MultimodalDataset):
        if x2 is not None or y is not None:
            raise InvalidInputError(
                "with a MultimodalDataset as `data`, choose X1, X2 and Y with `modalities` and "
                "`target`, not with `x2` and `y`."
            )
        return _from_dataset(data, modalities, target)
    if x2 is None or y is None:
        raise InvalidInputError(
            "`x2` and `y` are required when `data` holds the samples of X1 (or pass a "
            f"MultimodalDataset); got x2={'None' if x2 is None else 'given'}, "
            f"y={'None' if y is None else 'given'}."
        )
    if modalities is not None or target is not None:
        raise InvalidInputError(
            "`modalities` and `target` select from a MultimodalDataset; with arrays, pass "
            "x1, x2 and y directly."
        )
    n = {name: (np.shape(v)[0] if np.ndim(v) > 0 else 0)
         for name, v in (("x1", data), ("x2", x2), ("y", y))}
    if len(set(n.values())) > 1 or 0 in n.values():
        raise InvalidInputError(
            "`x1`, `x2` and `y` must hold the same number (>= 1) of samples, got "
            + ", ".join(f"{k}: {v}" for k, v in n.items()) + "."
        )
    return data, x2, y, ("x1", "x2"), "y"


def _from_dataset(ds: Any, modalities: Sequence[str] | None, target: str | None
                  ) -> tuple[Any, Any, Any, tuple[str, str], str]:
    names = ds.modality_names
    if modalities is None:
        if len(names) != 2:
            raise InvalidInputError(
                f"`modalities` must name the two modalities to profile; the dataset has "
                f"{len(names)}: {list(names)}."
            )
        pair = tuple(names)
    else:
        if isinstance(modalities, str) or len(modalities) != 2 or len(set(modalities)) != 2:
            raise InvalidInputError(
                f"`modalities` must be two different modality names, got {modalities!r}."
            )
        for m in modalities:
            check_choice(m, "modalities", list(names))
        pair = (modalities[0], modalities[1])
    if target is None and ds.default_target is None:
        raise InvalidInputError("the dataset has no target; build it with `targets=`.")
    tname = ds.default_target if target is None else check_choice(
        target, "target", list(ds.target_names))
    rows = ds.observed[pair[0]] & ds.observed[pair[1]]
    if not rows.any():
        raise InvalidInputError(
            f"no sample has both {pair[0]!r} and {pair[1]!r} observed; nothing to profile."
        )
    n = int(rows.sum())
    x1, x2 = (np.asarray(ds.modalities[m])[rows].reshape(n, -1) for m in pair)
    y = np.asarray(ds.targets[tname])[rows]
    return x1, x2, y, (pair[0], pair[1]), tname


# ---------------------------------------------------------------------------- affinities
@dataclass(frozen=True)
class FusionAffinity(JSONResult):
    """Relative accuracy each fusion reaches on data of each kind of interaction.

    Attributes
    ----------
    table : dict
        ``{fusion: {"redundancy": a_R, "unique": a_U, "synergy": a_S}}``, each in [0, 1]: the
        fusion's accuracy divided by the best fusion's on the same dataset, averaged over the
        calibration datasets with weights equal to their share of that kind.
    source : str
        Where the calibration comes from.
    n_datasets : int
        Number of calibration datasets.
    spread : dict
        ``{fusion: {kind: sd}}``: the share-weighted standard deviation of the fusion's
        relative accuracy around its affinity over the calibration datasets (how far a single
        dataset strays from the average); missing entries count as 0.
    """

    table: dict[str, dict[str, float]]
    source: str = ""
    n_datasets: int = 0
    spread: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-ready)."""
        return _jsonable({"table": self.table, "source": self.source,
                          "n_datasets": self.n_datasets, "spread": self.spread})


def calibrate_affinity(
    profiles: Sequence[InteractionProfile | Mapping[str, float]],
    accuracies: Sequence[Mapping[str, float]],
    *,
    source: str = "",
) -> FusionAffinity:
    """Affinities from the accuracies of several fusions on datasets with known profiles.

    For dataset ``d`` with shares ``w_a(d)`` and accuracies ``acc_f(d)``, the relative accuracy
    is ``r_f(d) = acc_f(d) / max_g acc_g(d)`` and

    .. math::  A[f, a] = \\sum_d w_a(d)\\, r_f(d) \\Big/ \\sum_d w_a(d),

    a kernel (Nadaraya-Watson) estimate of the linear model in :mod:`this module's docstring
    <interplay.analysis.recommend>`: always within [0, 1] and defined for any number of
    datasets. It smooths rather than unmixes: a fusion that fails only on synergy looks better
    on synergy than it is when the synergistic datasets also hold other information. A kind
    whose shares sum to less than 0.5 over the suite is not covered; its affinity falls back to
    the fusion's mean relative accuracy. The spread of each entry is the share-weighted
    standard deviation ``sqrt(sum_d w_a(d) (r_f(d) - A[f, a])^2 / sum_d w_a(d))`` (over all
    datasets for an uncovered kind): it is what turns a predicted score into an interval.

    Parameters
    ----------
    profiles : sequence of InteractionProfile or dict
        One per dataset: a profile, or a dict with the four shares (``redundancy``,
        ``unique1``, ``unique2``, ``synergy``).
    accuracies : sequence of dict
        One per dataset, ``{fusion: accuracy}``, every dataset with the same fusions and
        accuracies > 0 for at least one of them.
    source : str
        Description of the suite, kept in the result.

    Returns
    -------
    FusionAffinity

    Examples
    --------
    >>> xor = {"redundancy": 0, "unique1": 0, "unique2": 0, "synergy": 1}
    >>> rdn = {"redundancy": 1, "unique1": 0, "unique2": 0, "synergy": 0}
    >>> aff = calibrate_affinity([xor, rdn], [{"early": 0.5, "tensor": 1.0},
    ...                                       {"early": 0.9, "tensor": 0.9}])
    >>> aff.table["early"]["synergy"], aff.table["tensor"]["redundancy"]
    (0.5, 1.0)
    """
    if isinstance(profiles, (str, bytes)) or not isinstance(profiles, Sequence) or \
            isinstance(accuracies, (str, bytes)) or not isinstance(accuracies, Sequence):
        raise InvalidInputError("`profiles` and `accuracies` must be sequences, one per dataset.")
    if len(profiles) != len(accuracies) or not profiles:
        raise InvalidInputError(
            f"`profiles` and `accuracies` must have the same length >= 1, got {len(profiles)} "
            f"and {len(accuracies)}."
        )
    weights = np.array([_kinds_of(p, f"profiles[{i}]") for i, p in enumerate(profiles)])
    fusions = _fusion_names(accuracies)
    rel = np.array([_relative(acc, fusions, i) for i, acc in enumerate(accuracies)])
    table: dict[str, dict[str, float]] = {}
    spread: dict[str, dict[str, float]] = {}
    covered = weights.sum(axis=0) >= MIN_KIND_WEIGHT
    for j, f in enumerate(fusions):
        table[f], spread[f] = {}, {}
        for k, kind in enumerate(KINDS):
            w = weights[:, k] if covered[k] else np.ones(len(profiles))
            mean = float(w @ rel[:, j] / w.sum())
            table[f][kind] = mean
            spread[f][kind] = float(np.sqrt(w @ (rel[:, j] - mean) ** 2 / w.sum()))
    return FusionAffinity(table=table, source=source, n_datasets=len(profiles), spread=spread)


def _kinds_of(profile: Any, name: str) -> list[float]:
    if isinstance(profile, InteractionProfile):
        shares = profile.shares
    elif isinstance(profile, Mapping) and all(a in profile for a in ATOMS):
        shares = shares_of(profile)
    else:
        raise InvalidInputError(
            f"`{name}` must be an InteractionProfile or a dict with keys {list(ATOMS)}, got "
            f"{type(profile).__name__}."
        )
    return [shares["redundancy"], shares["unique1"] + shares["unique2"], shares["synergy"]]


def _fusion_names(accuracies: Sequence[Mapping[str, float]]) -> list[str]:
    first = accuracies[0]
    if not isinstance(first, Mapping) or not first:
        raise InvalidInputError(
            f"`accuracies[0]` must be a non-empty dict {{fusion: accuracy}}, got {first!r}."
        )
    names = sorted(first)
    for i, acc in enumerate(accuracies):
        if not isinstance(acc, Mapping) or sorted(acc) != names:
            got = sorted(acc) if isinstance(acc, Mapping) else type(acc).__name__
            raise InvalidInputError(
                f"`accuracies[{i}]` must hold the fusions {names}, got {got}."
            )
    return names


def _relative(acc: Mapping[str, float], fusions: list[str], i: int) -> list[float]:
    values = [check_float(acc[f], f"accuracies[{i}][{f!r}]", low=0.0) for f in fusions]
    best = max(values)
    if not best > 0:
        raise InvalidInputError(f"`accuracies[{i}]` must have at least one accuracy > 0.")
    return [v / best for v in values]


# Redundancy and unique columns: the 10 real modality sets of
# benchmarks/model_selection_real.py; synergy column: the 10 sets of the hard synthetic suite,
# benchmarks/model_selection_hard.py (where synergy is learnable and the unimodal ensemble is
# measured on it). See docs/model-selection.md. Regenerate with
# `python benchmarks/model_selection_real.py --print-default`.
DEFAULT_AFFINITY = FusionAffinity(
    table={
        "cross_attention": {"redundancy": 0.9839, "unique": 0.9719, "synergy": 0.9909},
        "early": {"redundancy": 0.9836, "unique": 0.9754, "synergy": 0.6087},
        "ensemble": {"redundancy": 0.9923, "unique": 0.9949, "synergy": 0.5730},
        "gated": {"redundancy": 0.9869, "unique": 0.9789, "synergy": 0.9959},
        "late": {"redundancy": 0.9823, "unique": 0.9728, "synergy": 0.6128},
        "low_rank_tensor": {"redundancy": 0.9772, "unique": 0.9696, "synergy": 0.9912},
        "multiplicative": {"redundancy": 0.9830, "unique": 0.9743, "synergy": 0.9938},
        "perceiver": {"redundancy": 0.9796, "unique": 0.9648, "synergy": 0.9882},
        "poe": {"redundancy": 0.9784, "unique": 0.9656, "synergy": 0.9908},
        "tensor": {"redundancy": 0.9786, "unique": 0.9644, "synergy": 0.9947},
    },
    source=(
        '10 real sets of benchmarks/model_selection_real.py (redundancy, unique) and the hard '
        'synthetic suite of benchmarks/model_selection_hard.py (synergy)'
    ),
    n_datasets=20,
    spread={
        "cross_attention": {"redundancy": 0.0170, "unique": 0.0307, "synergy": 0.0073},
        "early": {"redundancy": 0.0254, "unique": 0.0275, "synergy": 0.2085},
        "ensemble": {"redundancy": 0.0249, "unique": 0.0194, "synergy": 0.1757},
        "gated": {"redundancy": 0.0110, "unique": 0.0194, "synergy": 0.0033},
        "late": {"redundancy": 0.0269, "unique": 0.0322, "synergy": 0.2082},
        "low_rank_tensor": {"redundancy": 0.0148, "unique": 0.0220, "synergy": 0.0071},
        "multiplicative": {"redundancy": 0.0140, "unique": 0.0219, "synergy": 0.0063},
        "perceiver": {"redundancy": 0.0212, "unique": 0.0393, "synergy": 0.0104},
        "poe": {"redundancy": 0.0187, "unique": 0.0354, "synergy": 0.0082},
        "tensor": {"redundancy": 0.0193, "unique": 0.0331, "synergy": 0.0053},
    },
)


# ------------------------------------------------------------------------ recommendation
@dataclass(frozen=True)
class RankedFusion:
    """One candidate in a ranking.

    Attributes
    ----------
    name : str
        The fusion's registry name, or :data:`ENSEMBLE`.
    score : float
        Predicted accuracy relative to the best model, in [0, 1].
    reason : str
        What the model can represent, and so which interactions it suits.
    affinity : dict
        Its calibrated relative accuracy on redundant, unique and synergistic data.
    interval : tuple of float
        Range of the predicted relative accuracy: the score's range over the profile's share
        intervals, widened by one calibration spread (see :func:`recommend_fusion`).
    within_noise : bool
        Whether the interval reaches the top-ranked candidate's (the profile does not tell it
        apart from the top).
    parameters : int or None
        Parameters of the candidate built for the data's sizes
        (:func:`~interplay.analysis.fusion_cost.candidate_costs`; None when the sizes are
        unknown).
    train_seconds : float or None
        Its training time estimated from the benchmark's measurements (None: not measured or
        sizes unknown).
    """

    name: str
    score: float
    reason: str
    affinity: dict[str, float] = field(default_factory=dict)
    interval: tuple[float, float] = (0.0, 1.0)
    within_noise: bool = False
    parameters: int | None = None
    train_seconds: float | None = None


@dataclass(frozen=True)
class Recommendation(JSONResult):
    """Candidates ranked by the relative accuracy predicted for a dataset's profile, and the pick.

    Attributes
    ----------
    ranking : tuple of RankedFusion
        Highest predicted score first.
    profile : InteractionProfile or None
        The profile the ranking is for (None when shares were given as a dict).
    shares : dict
        The four shares used.
    affinity_source : str
        Where the affinities come from.
    notes : tuple of str
        Caveats of the recommendation.
    recommended : str
        The pick: the top-ranked candidate when its interval clears every other's, else the
        simplest candidate within the noise of the top one.
    separated : bool
        Whether the profile separates the top-ranked candidate from the others.
    why : str
        Why the pick won, in one sentence.
    excluded : dict
        ``{candidate: reason}`` for the candidates left out by the cost budget or, for the
        ensemble, by the unimodal-skill gate.
    """

    ranking: tuple[RankedFusion, ...]
    profile: InteractionProfile | None
    shares: dict[str, float]
    affinity_source: str = ""
    notes: tuple[str, ...] = field(default=())
    recommended: str = ""
    separated: bool = True
    why: str = ""
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """Name of the recommended model (see ``recommended``)."""
        return self.recommended or self.ranking[0].name

    @property
    def best_fusion(self) -> str:
        """The fusion module to train: the pick when it is a fusion, else the simplest fusion
        within the noise, else the top-ranked fusion."""
        fusions = [r for r in self.ranking if r.name != ENSEMBLE]
        if not fusions:
            raise InvalidInputError("the ranking holds no fusion module, only the ensemble.")
        if self.best != ENSEMBLE:
            return self.best
        close = [r.name for r in fusions if r.within_noise]
        if close:
            rank = {f: s for f, (_, s) in fusion_facts().items()}
            return min(close, key=lambda f: (rank.get(f, 1000), f))
        return fusions[0].name

    @property
    def names(self) -> list[str]:
        """Candidate names, highest predicted score first."""
        return [r.name for r in self.ranking]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-ready)."""
        return _jsonable({
            "best": self.best,
            "best_fusion": self.best_fusion if any(r.name != ENSEMBLE for r in self.ranking)
            else None,
            "separated": self.separated,
            "why": self.why,
            "ranking": [{"name": r.name, "score": r.score, "interval": list(r.interval),
                         "within_noise": r.within_noise, "reason": r.reason,
                         "parameters": r.parameters, "train_seconds": r.train_seconds,
                         "affinity": r.affinity} for r in self.ranking],
            "shares": self.shares,
            "affinity_source": self.affinity_source,
            "notes": list(self.notes),
            "excluded": self.excluded,
            "profile": None if self.profile is None else self.profile.to_dict(),
        })


def synergy_bias(pid: PIDResult) -> float:
    """Expected upward bias of a plug-in (or cluster) estimate of I(X1, X2; Y), in the PID's units.

    Miller-Madow: ``(|X1| |X2| - 1)(|Y| - 1) / (2 N)`` nats, from the alphabet sizes and the
    sample count the result records; a plug-in PID puts it mostly into the synergy
    (:func:`profile_interactions`, Notes). 0 when the result lacks them (exact tables,
    Gaussian and copula estimators).
    """
    sizes = (pid.settings or {}).get("alphabet_sizes") or {}
    n = pid.n_samples
    if pid.estimator not in ("plugin", "discrete", "cluster") or not n or \
            not all(k in sizes for k in ("x1", "x2", "y")):
        return 0.0
    nats = (sizes["x1"] * sizes["x2"] - 1) * (sizes["y"] - 1) / (2.0 * n)
    return float(nats / np.log(2.0)) if pid.units == "bits" else float(nats)


def recommend_fusion(
    profile: InteractionProfile | Mapping[str, float] | PIDResult,
    candidates: Sequence[str] | None = None,
    *,
    affinity: FusionAffinity | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    correct_bias: bool = True,
    max_params: int | None = None,
    max_train_seconds: float | None = None,
    modality_dims: Sequence[int] | None = None,
    n_classes: int | None = None,
    n_train: int | None = None,
    unimodal_accuracy: Sequence[float] | None = None,
    min_skill: float = ENSEMBLE_MIN_SKILL,
) -> Recommendation:
    """Rank fusions (and the unimodal ensemble) for a dataset, and pick one without over-claiming.

    The score of candidate ``f`` is ``w_R A[f,R] + (w_U1 + w_U2) A[f,U] + w_S A[f,S]`` with
    ``w`` the profile's shares and ``A`` the affinities (see the module docstring). Its
    *interval* is the score's range over every share vector inside the profile's bootstrap
    intervals (``share_ci``; the point shares when there are none), widened on both sides by
    the calibration spread ``sum_k w_k sd[f,k]``: how far one dataset's relative accuracy
    strays from the calibrated average (the per-kind errors taken as fully correlated, the
    widest a share-weighted sum of them can spread).

    The pick: when the top-ranked candidate's interval lies above every other candidate's, it
    wins (``separated``). Otherwise the profile does not tell the candidates apart, and the
    recommendation says so and picks the *simplest* candidate whose interval reaches the top
    one's (simplicity: the fusion class's ``simplicity``; the unimodal ensemble, with no
    cross-modal term, counts as the simplest) rather than a confident wrong answer.

    Parameters
    ----------
    profile : InteractionProfile, PIDResult or dict
        From :func:`profile_interactions`, a PID, or a dict with the four atoms or shares
        (``redundancy``, ``unique1``, ``unique2``, ``synergy``; normalised here).
    candidates : sequence of str, optional
        Models to rank (default: every entry of the affinity table).
    affinity : FusionAffinity, optional
        Default :data:`DEFAULT_AFFINITY`; see :func:`calibrate_affinity` to make your own.
    tolerance : float
        Scores closer than this are ordered by simplicity in the ranking (0: by score only).
    correct_bias : bool
        For a plug-in or cluster PID (an :class:`InteractionProfile` or :class:`PIDResult`
        that records its alphabet sizes and sample count), lower the synergy by the expected
        plug-in bias :func:`synergy_bias` before forming the shares: on real data with a few
        thousand samples that bias is as large as the synergy estimates themselves.
    max_params : int, optional
        Cost budget: candidates whose model (built as ``interplay train`` builds it by default
        for these modality sizes and classes,
        :func:`~interplay.analysis.fusion_cost.candidate_costs`) has more parameters are left
        out, and the recommendation says so (``excluded``).
    max_train_seconds : float, optional
        Cost budget: candidates whose training time, measured by the real-data benchmark and
        scaled to ``n_train`` rows, is longer are left out; a candidate the benchmark did not
        time is kept, with a note that its time is unavailable.
    modality_dims : pair of int, optional
        Features per sample of X1 and X2 (default: the profile's ``modality_dims``).
    n_classes : int, optional
        Classes of the target (default: the profile's ``n_classes``).
    n_train : int, optional
        Training rows, to scale the measured times (default: the PID's sample count).
    unimodal_accuracy : pair of float, optional
        Test accuracy of a classifier on X1 alone and on X2 alone (for ``interplay
        recommend``: a quick logistic-regression probe). When the better one's skill
        (:func:`unimodal_skill`) is below ``min_skill``, the unimodal ensemble is left out: the
        label is then not predictable from either modality alone (it needs the modalities
        combined, whatever the PID calls that information), and averaging two weak
        classifiers cannot combine them. The profile cannot tell this apart: unique
        information about one shared label (mfeat's digit) and unique information about two
        parts of a composite label have the same shares.
    min_skill : float
        The skill threshold (default :data:`ENSEMBLE_MIN_SKILL`).

    Returns
    -------
    Recommendation

    Raises
    ------
    InvalidInputError
        On a profile without information (all atoms 0), an empty or repeated candidate list,
        a candidate the affinity table does not cover, a ``max_params`` without known
        modality sizes, or a budget that leaves no candidate.

    Examples
    --------
    >>> aff = FusionAffinity(
    ...     {"late": {"redundancy": 1.0, "unique": 1.0, "synergy": 0.5},
    ...      "tensor": {"redundancy": 0.99, "unique": 0.99, "synergy": 1.0}},
    ...     spread={"late": {"redundancy": 0.01, "unique": 0.01, "synergy": 0.05},
    ...             "tensor": {"redundancy": 0.01, "unique": 0.01, "synergy": 0.02}})
    >>> xor = {"redundancy": 0.0, "unique1": 0.0, "unique2": 0.0, "synergy": 1.0}
    >>> rec = recommend_fusion(xor, affinity=aff)
    >>> rec.best, rec.separated
    ('tensor', True)
    >>> copy = {"redundancy": 1.0, "unique1": 0.0, "unique2": 0.0, "synergy": 0.0}
    >>> rec = recommend_fusion(copy, affinity=aff)
    >>> rec.best, rec.separated
    ('late', False)
    """
    aff = DEFAULT_AFFINITY if affinity is None else affinity
    if not isinstance(aff, FusionAffinity):
        raise InvalidInputError(
            f"`affinity` must be a FusionAffinity (see calibrate_affinity), got "
            f"{type(aff).__name__}."
        )
    share_ci, bias = None, 0.0
    if isinstance(profile, InteractionProfile):
        shares, share_ci = profile.shares, profile.share_ci
        if correct_bias and isinstance(profile.pid, PIDResult):
            bias = synergy_bias(profile.pid)
            shares = shares_of({**profile.pid.atoms,
                                "synergy": max(profile.pid.synergy - bias, 0.0)})
    elif isinstance(profile, (PIDResult, Mapping)):
        if isinstance(profile, Mapping) and not all(a in profile for a in ATOMS):
            raise InvalidInputError(
                f"`profile` as a dict must have the keys {list(ATOMS)}, got {sorted(profile)}."
            )
        shares = shares_of(profile)
        if correct_bias and isinstance(profile, PIDResult):
            bias = synergy_bias(profile)
            shares = shares_of({**profile.atoms, "synergy": max(profile.synergy - bias, 0.0)})
    else:
        raise InvalidInputError(
            "`profile` must be an InteractionProfile (see profile_interactions), a PIDResult "
            f"or a dict of the four atoms, got {type(profile).__name__}."
        )
    if bias > 0 and share_ci is not None:  # the bias shifts every bootstrap replicate too
        drop = profile.shares["synergy"] - shares["synergy"]  # type: ignore[union-attr]
        lo, hi = share_ci["synergy"]
        share_ci = {**share_ci, "synergy": (max(lo - drop, 0.0), max(hi - drop, 0.0))}
    names = _check_candidates(candidates, aff)
    tol = check_float(tolerance, "tolerance", low=0.0, high=1.0)
    costs = _costs(names, profile, modality_dims, n_classes, n_train,
                   need_sizes=max_params is not None)
    excluded, budget_notes = _apply_budget(costs, max_params, max_train_seconds)
    if unimodal_accuracy is not None and ENSEMBLE in names and ENSEMBLE not in excluded:
        skill = _gate_skill(unimodal_accuracy, profile, n_classes)
        limit = check_float(min_skill, "min_skill", low=0.0, high=1.0)
        if skill < limit and len(names) - len(excluded) > 1:
            excluded[ENSEMBLE] = (f"the better modality alone reaches a skill of {skill:.2f} "
                                  f"< {limit:.2f}: the label needs the modalities combined")
            budget_notes += (f"the ensemble is left out: {excluded[ENSEMBLE]} (skill = "
                             "(accuracy - 1/C) / (1 - 1/C) of a classifier on one modality).",)
    names = [f for f in names if f not in excluded]
    w = dict(zip(KINDS, _kinds_of(shares, "profile"), strict=True))
    bounds = _kind_bounds(w, share_ci)
    scores = {f: sum(w[k] * aff.table[f][k] for k in KINDS) for f in names}
    intervals = {f: _score_interval(aff.table[f], aff.spread.get(f, {}), w, bounds)
                 for f in names}
    facts = fusion_facts()
    simple = {f: rank for f, (_, rank) in facts.items()}
    order = _occam_order(scores, tol, simple)
    top_low = intervals[order[0]][0]
    close = {f for f in order if intervals[f][1] >= top_low}
    ranking = tuple(
        RankedFusion(f, float(scores[f]),
                     facts[f][0] if f in facts else "known only from its calibration",
                     dict(aff.table[f]), intervals[f], f in close, *costs[f])
        for f in order)
    pick, separated, why = _pick(ranking, simple)
    notes = () if separated else (
        "the profile does not separate " + ", ".join(r.name for r in ranking if r.within_noise)
        + ": their predicted relative accuracies overlap within the profile's and the "
        "calibration's uncertainty; the simplest of them is recommended.",)
    if isinstance(profile, InteractionProfile) and profile.warnings:
        lo, hi = bounds["synergy"]
        notes += (f"the profile carries {len(profile.warnings)} estimator warning(s); the "
                  f"ranking used a synergy share of {shares['synergy']:.1%}"
                  + ("" if share_ci is None else f" (range [{lo:.1%}, {hi:.1%}])")
                  + " after the bias correction: trust the pick as far as that interval "
                  "separates the candidates.",)
    if bias > 0:
        notes += (f"the synergy was lowered by the plug-in estimate's expected bias "
                  f"({bias:.3f} {getattr(profile, 'units', None) or 'bits'} of "
                  "(|X1||X2| - 1)(|Y| - 1) / 2N, which a plug-in puts mostly into synergy) "
                  "before the shares were formed.",)
    return Recommendation(
        ranking=ranking,
        profile=profile if isinstance(profile, InteractionProfile) else None,
        shares=dict(shares), affinity_source=aff.source, notes=notes + budget_notes,
        recommended=pick, separated=separated, why=why, excluded=excluded,
    )


def unimodal_skill(accuracy: float, n_classes: int) -> float:
    """How far a classifier's accuracy lies from chance (``1/C``, 0) towards perfect (1).

    >>> round(unimodal_skill(0.55, 10), 6)
    0.5
    """
    c = check_int(n_classes, "n_classes", minimum=2)
    acc = check_float(accuracy, "unimodal_accuracy", low=0.0, high=1.0)
    return (acc - 1.0 / c) / (1.0 - 1.0 / c)


def _gate_skill(unimodal_accuracy: Sequence[float], profile: Any,
                n_classes: int | None) -> float:
    if isinstance(unimodal_accuracy, (str, bytes)) or not isinstance(unimodal_accuracy,
                                                                     Sequence) \
            or len(unimodal_accuracy) != 2:
        raise InvalidInputError(
            f"`unimodal_accuracy` must be two accuracies (X1 alone, X2 alone), got "
            f"{unimodal_accuracy!r}.")
    classes = n_classes if n_classes is not None else getattr(profile, "n_classes", None)
    if classes is None:
        raise InvalidInputError(
            "`unimodal_accuracy` needs the number of classes: pass `n_classes` or a profile "
            "of a class-label target from profile_interactions.")
    return max(unimodal_skill(a, classes) for a in unimodal_accuracy)


def _costs(names: Sequence[str], profile: Any, modality_dims: Sequence[int] | None,
           n_classes: int | None, n_train: int | None, need_sizes: bool
           ) -> dict[str, tuple[int | None, float | None]]:
    """``{candidate: (parameters, train_seconds)}``; parameters None when the sizes are unknown
    (an error when ``need_sizes``), seconds None when the benchmark did not time it."""
    from .fusion_cost import MEASURED_TRAIN_ROWS, MEASURED_TRAIN_SECONDS, candidate_costs

    known = isinstance(profile, InteractionProfile)
    dims = modality_dims if modality_dims is not None else (
        profile.modality_dims if known else None)
    classes = n_classes if n_classes is not None else (profile.n_classes if known else None)
    pid_result = profile.pid if known else profile if isinstance(profile, PIDResult) else None
    rows = n_train if n_train is not None else getattr(pid_result, "n_samples", None)
    if rows is not None:
        rows = check_int(rows, "n_train", minimum=1)
    params: dict[str, int | None] = dict.fromkeys(names)
    if dims is not None and classes is not None:
        try:
            built = candidate_costs([f for f in names if f == ENSEMBLE or f in fusion_facts()],
                                    tuple(dims), classes)
            params.update({f: c.parameters for f, c in built.items()})
        except MissingDependencyError:
            if need_sizes:
                raise
    if need_sizes and any(v is None for v in params.values()):
        missing = [f for f, v in params.items() if v is None]
        raise InvalidInputError(
            "`max_params` needs the candidates' parameter counts, which need the modality "
            "sizes and the number of classes: pass a profile from profile_interactions (a "
            "class-label target) or `modality_dims` and `n_classes`"
            + (f"; {', '.join(missing)} cannot be built here" if dims is not None and
               classes is not None else "") + ".")
    scale = 1.0 if rows is None else rows / MEASURED_TRAIN_ROWS
    return {f: (params[f], None if f not in MEASURED_TRAIN_SECONDS else
                round(MEASURED_TRAIN_SECONDS[f] * scale, 1)) for f in names}


def _apply_budget(costs: Mapping[str, tuple[int | None, float | None]],
                  max_params: int | None, max_train_seconds: float | None
                  ) -> tuple[dict[str, str], tuple[str, ...]]:
    """Candidates over the budget with the reason, and the notes the recommendation prints."""
    from .fusion_cost import TIMING_SOURCE

    limit_p = None if max_params is None else check_int(max_params, "max_params", minimum=1)
    limit_t = None if max_train_seconds is None else check_float(
        max_train_seconds, "max_train_seconds", low=0.0, low_open=True)
    excluded: dict[str, str] = {}
    for f, (params, seconds) in costs.items():
        if limit_p is not None and params is not None and params > limit_p:
            excluded[f] = f"{params:,} parameters > max_params {limit_p:,}"
        elif limit_t is not None and seconds is not None and seconds > limit_t:
            excluded[f] = f"about {seconds:g} s of training > max_train_seconds {limit_t:g}"
    if len(excluded) == len(costs):
        cheapest = min(costs, key=lambda f: (costs[f][0] or 0, costs[f][1] or 0.0))
        raise InvalidInputError(
            "the cost budget leaves no candidate: every one is over it ("
            + "; ".join(f"{f}: {why}" for f, why in excluded.items())
            + f"). The cheapest is {cheapest}; raise the budget.")
    notes: tuple[str, ...] = ()
    if excluded:
        notes += ("left out by the cost budget: "
                  + "; ".join(f"{f} ({why})" for f, why in excluded.items()) + ".",)
    if limit_t is not None:
        untimed = [f for f, (_, s) in costs.items() if s is None]
        notes += (f"training times: {TIMING_SOURCE}"
                  + (f"; unavailable for {', '.join(untimed)} (kept)" if untimed else "")
                  + ".",)
    return excluded, notes


def _kind_bounds(w: Mapping[str, float], share_ci: Mapping[str, Sequence[float]] | None
                 ) -> dict[str, tuple[float, float]]:
    """Interval of each kind's share (U1 and U2 added), containing the point share."""
    if share_ci is None:
        return {k: (w[k], w[k]) for k in KINDS}
    raw = {"redundancy": share_ci["redundancy"], "synergy": share_ci["synergy"],
           "unique": (share_ci["unique1"][0] + share_ci["unique2"][0],
                      share_ci["unique1"][1] + share_ci["unique2"][1])}
    return {k: (min(float(raw[k][0]), w[k]), max(float(raw[k][1]), w[k])) for k in KINDS}


def _score_interval(row: Mapping[str, float], sd: Mapping[str, float],
                    w: Mapping[str, float], bounds: Mapping[str, tuple[float, float]]
                    ) -> tuple[float, float]:
    """Smallest and largest score over shares inside ``bounds`` that sum to 1 (a fractional
    knapsack: fill the lower bounds, then pour the rest into the lowest or highest affinity
    first), widened by the share-weighted calibration spread."""
    def extreme(highest: bool) -> float:
        share = {k: bounds[k][0] for k in KINDS}
        left = 1.0 - sum(share.values())
        for k in sorted(KINDS, key=lambda k: row[k], reverse=highest):
            add = min(max(left, 0.0), bounds[k][1] - share[k])
            share[k] += add
            left -= add
        return sum(share[k] * row[k] for k in KINDS)

    noise = float(sum(w[k] * sd.get(k, 0.0) for k in KINDS))
    return (max(extreme(False) - noise, 0.0), min(extreme(True) + noise, 1.0))


def _pick(ranking: Sequence[RankedFusion], simple: Mapping[str, float]) -> tuple[str, bool, str]:
    """The recommended candidate, whether the profile separated the top one, and why it won.

    Eligible: the top-ranked candidate, and any other whose score lies inside the top one's
    interval (the one-standard-error rule) and whose interval reaches no further down than
    twice the top one's half-width below the top's lower end (not riskier). The simplest
    eligible candidate is picked.
    """
    top = ranking[0]
    low, half = top.interval[0], top.score - top.interval[0]
    eligible = [r for r in ranking
                if r is top or (r.score >= low and r.interval[0] >= low - 2 * half)]
    pick = min(eligible, key=lambda r: (simple.get(r.name, 1000), r.name))
    close = [r.name for r in ranking if r.within_noise and r is not top]
    if not close:
        nxt = ranking[1] if len(ranking) > 1 else None
        return top.name, True, (
            f"{top.name} is predicted at {top.score:.1%} of the best "
            f"[{top.interval[0]:.1%}, {top.interval[1]:.1%}]"
            + ("" if nxt is None else
               f", above the interval of every other candidate (next: {nxt.name}, at most "
               f"{nxt.interval[1]:.1%})") + ".")
    if pick is top:
        return top.name, False, (
            f"{top.name} has the highest prediction ({top.score:.1%} "
            f"[{top.interval[0]:.1%}, {top.interval[1]:.1%}]); {', '.join(close)} overlap it "
            "but are predicted lower or are riskier, and none is simpler and as safe.")
    return pick.name, False, (
        f"{len(close) + 1} candidates are within the noise of the top prediction ({top.name}, "
        f"{top.score:.1%} [{top.interval[0]:.1%}, {top.interval[1]:.1%}]): {pick.name} is the "
        f"simplest whose prediction lies inside that interval without more downside "
        f"(predicted {pick.score:.1%} [{pick.interval[0]:.1%}, {pick.interval[1]:.1%}]).")


def _occam_order(scores: Mapping[str, float], tolerance: float,
                 simple: Mapping[str, float]) -> list[str]:
    """Best score first; among scores within ``tolerance`` of the best left, simplest first
    (``simple``: rank by simplicity; unranked fusions last, by name)."""
    left = dict(scores)
    order: list[str] = []
    while left:
        top = max(left.values())
        block = [f for f, v in left.items() if v >= top - tolerance - 1e-12]
        block.sort(key=lambda f: (simple.get(f, len(simple) + 1000), f))
        order += block
        for f in block:
            del left[f]
    return order


def _check_candidates(candidates: Sequence[str] | None, aff: FusionAffinity) -> list[str]:
    if candidates is None:
        return sorted(aff.table)
    if isinstance(candidates, str) or not isinstance(candidates, Sequence) or not candidates:
        raise InvalidInputError(
            f"`candidates` must be a non-empty list of fusion names, got {candidates!r}."
        )
    if len(set(candidates)) != len(candidates):
        raise InvalidInputError(f"`candidates` names a fusion twice: {list(candidates)}.")
    for c in candidates:
        if c not in aff.table:
            raise InvalidInputError(
                f"`candidates` holds {c!r}, which the affinity table does not cover; it knows "
                f"{', '.join(sorted(aff.table))}. Calibrate it with calibrate_affinity."
            )
    return list(candidates)
