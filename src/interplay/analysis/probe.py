"""Linear probes and embedding plots: how good is a learned representation?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_float, check_int, check_samples
from ..exceptions import InvalidInputError, MissingDependencyError

__all__ = ["ProbeResult", "embedding_plot", "linear_probe"]

#: Inverse regularisation strengths searched, as the DVMIB study's grid (logspace(-3, 2, 11)).
DEFAULT_CS = tuple(float(c) for c in np.logspace(-3, 2, 11))


@dataclass
class ProbeResult:
    """Result of :func:`linear_probe`.

    Attributes
    ----------
    accuracy : float
        Accuracy on the test rows (``z_test``) if given, else on the validation split.
    validation_accuracy : float
        Best accuracy on the validation split (what chose ``C``).
    C : float
        Chosen inverse regularisation strength.
    n_train, n_validation, n_test : int
    """

    accuracy: float
    validation_accuracy: float
    C: float
    n_train: int
    n_validation: int
    n_test: int


def _labels(y: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InvalidInputError(f"`{name}` must be a 1-D array of {n} labels; got shape "
                                f"{arr.shape}.")
    return arr


def linear_probe(z: Any, y: Any, *, z_test: Any = None, y_test: Any = None,
                 validation: float = 0.2, Cs: Sequence[float] = DEFAULT_CS,
                 seed: int = 0) -> ProbeResult:
    """Multinomial logistic regression on a representation, ``C`` chosen on a validation split.

    Features are standardised with the training rows' statistics. ``C`` (inverse L2 strength)
    is chosen from ``Cs`` by accuracy on a stratified validation split of ``(z, y)``; the
    probe is refitted on all of ``(z, y)`` with that ``C`` and scored on ``(z_test, y_test)``.
    (The DVMIB paper uses a linear SVM with the same kind of grid; a logistic probe is the
    same linear family and gives probabilities.)

    Parameters
    ----------
    z : array, shape (n_samples, n_features)
    y : array, shape (n_samples,)
        Class labels.
    z_test, y_test : arrays, optional
        Held-out rows to report; without them the validation accuracy is reported.
    validation : float, default 0.2
        Fraction of ``(z, y)`` used to choose ``C``.
    Cs : sequence of float
        Candidate ``C`` values.
    seed : int
        Seeds the split.

    Returns
    -------
    ProbeResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200); z = y[:, None] + 0.1 * rng.normal(size=(200, 2))
    >>> linear_probe(z, y).accuracy
    1.0
    """
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
    except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
        raise MissingDependencyError("linear_probe needs scikit-learn: "
                                     "`pip install scikit-learn`.") from exc
    za = check_samples(z, "z", min_samples=4)
    ya = _labels(y, za.shape[0], "y")
    frac = check_float(validation, "validation", low=0.0, high=1.0, low_open=True,
                       high_open=True)
    seed = check_int(seed, "seed", minimum=0)
    cs = [check_float(c, "Cs", low=0.0, low_open=True) for c in Cs]
    if not cs:
        raise InvalidInputError("`Cs` must hold at least one value.")
    if (z_test is None) != (y_test is None):
        raise InvalidInputError("Pass both `z_test` and `y_test`, or neither.")
    if np.unique(ya).size < 2:
        raise InvalidInputError("`y` must hold at least two classes.")
    counts = np.unique(ya, return_counts=True)[1]
    strat = ya if counts.min() >= 2 else None
    tr, va = train_test_split(np.arange(za.shape[0]), test_size=frac, random_state=seed,
                              stratify=strat)
    mean, std = za[tr].mean(0), za[tr].std(0) + 1e-12

    def fit(rows: np.ndarray, c: float) -> Any:
        return LogisticRegression(C=c, max_iter=500).fit((za[rows] - mean) / std, ya[rows])

    scores = [float(fit(tr, c).score((za[va] - mean) / std, ya[va])) for c in cs]
    best = int(np.argmax(scores))
    if z_test is None:
        return ProbeResult(scores[best], scores[best], cs[best], len(tr), len(va), 0)
    zt = check_samples(z_test, "z_test")
    if zt.shape[1] != za.shape[1]:
        raise InvalidInputError(f"`z_test` must have {za.shape[1]} features like `z`; got "
                                f"{zt.shape[1]}.")
    yt = _labels(y_test, zt.shape[0], "y_test")
    mean, std = za.mean(0), za.std(0) + 1e-12
    model = fit(np.arange(za.shape[0]), cs[best])
    acc = float(model.score((zt - mean) / std, yt))
    return ProbeResult(acc, scores[best], cs[best], len(tr), len(va), zt.shape[0])


def embedding_plot(z: Any, y: Any, ax: Any = None, *, title: str = "", seed: int = 0,
                   perplexity: float = 30.0) -> np.ndarray:
    """Scatter a t-SNE (scikit-learn) map of ``z`` coloured by class ``y``; return the map.

    Parameters
    ----------
    z : array, shape (n_samples, n_features)
    y : array, shape (n_samples,)
        Class labels (colours from matplotlib's colour-blind-safe ``tab10`` order).
    ax : matplotlib Axes, optional
        Where to draw; without it nothing is drawn and only the map is returned.
    title : str
        Axes title.
    seed : int
        t-SNE random state.
    perplexity : float
        t-SNE perplexity (lowered to ``(n - 1) / 3`` for small samples).

    Returns
    -------
    ndarray, shape (n_samples, 2)
    """
    from sklearn.manifold import TSNE

    za = check_samples(z, "z", min_samples=4)
    ya = _labels(y, za.shape[0], "y")
    perp = min(check_float(perplexity, "perplexity", low=0.0, low_open=True),
               (za.shape[0] - 1) / 3)
    if za.shape[1] == 1:
        za = np.hstack([za, np.zeros_like(za)])
    emb = TSNE(2, perplexity=perp, random_state=check_int(seed, "seed", minimum=0),
               init="pca").fit_transform((za - za.mean(0)) / (za.std(0) + 1e-12))
    if ax is not None:
        for k, c in enumerate(np.unique(ya)):
            sel = ya == c
            ax.scatter(emb[sel, 0], emb[sel, 1], s=4, color=f"C{k % 10}", label=str(c))
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return emb
