"""Named real datasets: ``list_datasets()``, ``load_dataset(name)``, and their baseline figures.

Every entry documents its source, licence and modalities (in the dataset's metadata) and a
baseline figure that ``tests/data/test_bundled.py`` recomputes: standardised logistic regression
per modality and on all modalities (:func:`logistic_baseline`), or for a dataset without a
target the first canonical correlation between its two blocks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidInputError, MissingDependencyError
from .bundled_av import make_av_digits
from .bundled_classic import load_linnerud, load_mfeat, load_nutrimouse
from .bundled_digits import make_noisy_digits
from .dataset import MultimodalDataset


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset.

    Attributes
    ----------
    name : str
        The name :func:`load_dataset` takes.
    summary : str
        One line for listings.
    loader : callable
        Returns the :class:`MultimodalDataset`; keyword arguments pass through.
    requires : tuple of str
        What must be installed beyond interplay's core (Python extras or system programs).
    baseline : dict
        ``{"protocol": str, "scores": {target: {label: value}}}``: figures measured with the
        default arguments, per predicted target; labels are modality names and ``"all"`` (or
        others that ``protocol`` explains).
    """

    name: str
    summary: str
    loader: Callable[..., MultimodalDataset]
    requires: tuple[str, ...] = ()
    baseline: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, DatasetEntry] = {}

SPLIT_PROTOCOL = ("standardised logistic regression (C=1, lbfgs), trained on a stratified 70% "
                  "split (seed 0), accuracy on the other 30%")
CV_PROTOCOL = ("standardised logistic regression (C=1, lbfgs), 5-fold stratified "
               "cross-validation (shuffled, seed 0), mean accuracy")


def register_dataset(entry: DatasetEntry) -> None:
    """Add a dataset to the registry (a name may be registered once)."""
    if entry.name in _REGISTRY:
        raise InvalidInputError(f"A dataset named {entry.name!r} is already registered.")
    _REGISTRY[entry.name] = entry


def list_datasets() -> list[str]:
    """Names of the registered datasets, sorted.

    Examples
    --------
    >>> "mfeat" in list_datasets()
    True
    """
    return sorted(_REGISTRY)


def dataset_entry(name: str) -> DatasetEntry:
    """The registry entry of ``name`` (its summary, requirements and baseline figures)."""
    if name not in _REGISTRY:
        raise InvalidInputError(
            f"`name` must be one of {', '.join(list_datasets())}; got {name!r}."
        )
    return _REGISTRY[name]


def load_dataset(name: str, **kwargs: Any) -> MultimodalDataset:
    """Load a registered dataset by name; keyword arguments go to its loader.

    Nothing is downloaded: data ships with interplay or scikit-learn, or is generated locally.

    Examples
    --------
    >>> ds = load_dataset("nutrimouse")
    >>> ds.modality_names, ds.target_names
    (('gene', 'lipid'), ('genotype', 'diet'))
    """
    loader = dataset_entry(name).loader
    try:
        inspect.signature(loader).bind(**kwargs)
    except TypeError as exc:
        accepted = ", ".join(inspect.signature(loader).parameters) or "no arguments"
        raise InvalidInputError(
            f"load_dataset({name!r}) got an argument it does not take ({exc}); it accepts "
            f"{accepted}."
        ) from exc
    return loader(**kwargs)


def _sklearn() -> Any:
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError as exc:
        raise MissingDependencyError(
            "Baselines use scikit-learn: `pip install interplay[data]` (or `pip install "
            "scikit-learn`)."
        ) from exc

    def model() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))

    return model


def logistic_baseline(
    ds: MultimodalDataset,
    *,
    target: str | None = None,
    modalities: Sequence[str] | None = None,
    folds: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Accuracy of standardised logistic regression on each modality and on all of them.

    Parameters
    ----------
    ds : MultimodalDataset
    target : str, optional
        Target to predict (the default target when omitted); must be 1-D classes.
    modalities : sequence of str, optional
        Modalities to score one by one (all when omitted); ``"all"`` concatenates them.
    folds : int, optional
        Use stratified k-fold cross-validation; otherwise one stratified 70/30 split.
    seed : int
        Seed of the split or of the folds' shuffle.

    Returns
    -------
    dict of str to float
        Accuracy per modality and under ``"all"``.
    """
    model = _sklearn()
    sub = ds.select(modalities=modalities, targets=[target] if target else None)
    y = sub.target
    names = list(sub.modality_names)
    out: dict[str, float] = {}
    groups = [[m] for m in names] + ([names] if len(names) > 1 else [])
    labels = names + (["all"] if len(names) > 1 else [])
    if folds is None:
        tr, _, te = sub.split_indices(validation=0.0, test=0.3, seed=seed, stratify=True)
        for label, g in zip(labels, groups, strict=True):
            x = sub.features(g)
            out[label] = float(model().fit(x[tr], y[tr]).score(x[te], y[te]))
        return out
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    cv = StratifiedKFold(check_int(folds, "folds", minimum=2), shuffle=True, random_state=seed)
    for label, g in zip(labels, groups, strict=True):
        out[label] = float(np.mean(cross_val_score(model(), sub.features(g), y, cv=cv)))
    return out


def composed_parity_baseline(ds: MultimodalDataset, *, seed: int = 0) -> float:
    """Synergy check for ``av-digits-synergy``: parity of two per-modality digit predictions.

    One logistic regression reads the image digit from ``image``, another the spoken digit from
    ``audio`` (70/30 stratified split, seed); the predicted parity is the parity of their sum.
    """
    model = _sklearn()
    tr, _, te = ds.split_indices(validation=0.0, test=0.3, seed=seed, stratify="parity")
    pred = []
    for mod, tgt in (("image", "image_digit"), ("audio", "audio_digit")):
        x, y = ds.features([mod]), ds.targets[tgt]
        pred.append(model().fit(x[tr], y[tr]).predict(x[te]))
    return float(np.mean((pred[0] + pred[1]) % 2 == ds.targets["parity"][te]))


def first_canonical_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Largest canonical correlation between the columns of ``a`` and ``b`` (both 2-D)."""
    def basis(x: np.ndarray) -> np.ndarray:
        x = x - x.mean(axis=0)
        q, _ = np.linalg.qr(x)
        return q

    return float(np.linalg.svd(basis(a).T @ basis(b), compute_uv=False)[0])


def load_av_digits_synergy(n_samples: int = 1797, *, image_noise: float = 0.4,
                           audio_snr_db: float = -12.0, n_voices: int = 24, seed: int = 0,
                           cache: bool = True, progress: bool = True) -> MultimodalDataset:
    """``av-digits`` with independent seen and heard digits; target = parity of their sum.

    Same arguments as :func:`~interplay.data.bundled_av.make_av_digits` without ``synergy``.
    """
    return make_av_digits(n_samples, image_noise=image_noise, audio_snr_db=audio_snr_db,
                          synergy=True, n_voices=n_voices, seed=seed, cache=cache,
                          progress=progress)


for _entry in (
    DatasetEntry(
        "linnerud",
        "20 men: exercise (3) vs physiological (3) measurements; two-block CCA classic.",
        load_linnerud, ("scikit-learn",),
        {"protocol": "first canonical correlation between the two blocks",
         "scores": {"exercise~physiological": {"cca1": 0.7956}}},
    ),
    DatasetEntry(
        "nutrimouse",
        "40 mice: liver genes (120) and fatty acids (21); targets genotype and diet.",
        load_nutrimouse, (),
        {"protocol": CV_PROTOCOL,
         "scores": {"genotype": {"gene": 1.0, "lipid": 0.975, "all": 1.0},
                    "diet": {"gene": 0.65, "lipid": 1.0, "all": 0.875}}},
    ),
    DatasetEntry(
        "mfeat",
        "UCI Multiple Features: 2000 handwritten digits in six real feature views.",
        load_mfeat, (),
        {"protocol": SPLIT_PROTOCOL,
         "scores": {"digit": {"fou": 0.818, "fac": 0.987, "kar": 0.938, "pix": 0.96,
                              "zer": 0.845, "mor": 0.71, "all": 0.988}}},
    ),
    DatasetEntry(
        "noisy-digits",
        "Noisy-MNIST-style two views of sklearn digits: rotated/scaled vs other image + noise.",
        make_noisy_digits, ("scikit-learn",),
        {"protocol": SPLIT_PROTOCOL,
         "scores": {"digit": {"rotated": 0.763, "noisy": 0.861, "all": 0.933}}},
    ),
    DatasetEntry(
        "av-digits",
        "Digit images + spoken digits (espeak-ng, MFCC), same digit in both; noise per modality.",
        make_av_digits, ("scikit-learn", "espeak-ng (system program)"),
        {"protocol": SPLIT_PROTOCOL,
         "scores": {"digit": {"image": 0.718, "audio": 0.883, "all": 0.961}}},
    ),
    DatasetEntry(
        "av-digits-synergy",
        "av-digits with independent seen/heard digits; target = parity of their sum.",
        load_av_digits_synergy, ("scikit-learn", "espeak-ng (system program)"),
        {"protocol": SPLIT_PROTOCOL + "; 'composed' = parity of per-modality digit "
                                      "predictions (composed_parity_baseline)",
         "scores": {"parity": {"image": 0.456, "audio": 0.52, "all": 0.497,
                               "composed": 0.829}}},
    ),
):
    register_dataset(_entry)
