"""In-context Markov chains: the sequences, the Bayes-optimal k-gram estimator, reference losses.

Each sequence has its own transition table of order k over an alphabet of m symbols (every row
drawn from a symmetric Dirichlet prior), so a learner can only predict well by estimating the
table from the sequence itself. The Bayes-optimal predictor under a Dirichlet(α) prior is the
add-α conditional k-gram estimator computed causally along the sequence
(:func:`kgram_estimator`); its cross-entropy is the floor a model is compared with.

Positions are 0-based. A context is the k symbols before a position; contexts are numbered in
base m with the most recent symbol as the least significant digit:
``c_t = sum_{j=1..k} x_{t-j} m^{j-1}``, and the transition table of a sequence has shape
``(m**k, m)`` with row ``c`` the distribution of the next symbol after context ``c``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import _describe, check_float, check_int
from ..exceptions import InvalidInputError

#: Largest number of contexts times symbols we build count tables for (per sequence).
MAX_TABLE_CELLS = 2**20


def _check_order_alphabet(order: Any, alphabet_size: Any, *, min_order: int = 1) -> tuple[int, int]:
    k = check_int(order, "order", minimum=min_order)
    m = check_int(alphabet_size, "alphabet_size", minimum=2)
    if m ** (k + 1) > MAX_TABLE_CELLS:
        raise InvalidInputError(
            f"`order` and `alphabet_size` give {m}**{k + 1} = {m ** (k + 1)} table cells; at "
            f"most {MAX_TABLE_CELLS} are supported. Use a smaller order or alphabet."
        )
    return k, m


def _check_length(length: int, order: int, name: str = "length") -> None:
    if length <= order:
        raise InvalidInputError(
            f"`{name}` must be longer than `order` ({order}) so that some symbol has a full "
            f"context, got {length}."
        )


def context_ids(seqs: np.ndarray, order: int, alphabet_size: int) -> np.ndarray:
    """The context number of every position, ``-1`` for the first ``order`` positions.

    Parameters
    ----------
    seqs : ndarray of int, shape (n_seqs, length)
        Symbols in ``0 .. alphabet_size - 1``.
    order : int
        Context length k (0 gives context 0 everywhere).
    alphabet_size : int
        m.

    Returns
    -------
    ndarray of int64, shape (n_seqs, length)
        ``c_t = sum_{j=1..k} x_{t-j} m^{j-1}`` for ``t >= k``, else ``-1``.
    """
    n, length = seqs.shape
    ctx = np.full((n, length), -1, dtype=np.int64)
    if length <= order:
        return ctx
    acc = np.zeros((n, length - order), dtype=np.int64)
    for j in range(1, order + 1):
        acc += seqs[:, order - j: length - j].astype(np.int64) * alphabet_size ** (j - 1)
    ctx[:, order:] = acc
    return ctx


def sample_markov(
    n_seqs: int,
    length: int,
    order: int,
    alphabet_size: int = 2,
    *,
    concentration: float = 1.0,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw sequences, each from its own random Markov chain of order ``order``.

    For every sequence a transition table is drawn, each of its ``m**k`` rows independently from
    a symmetric Dirichlet(``concentration``) distribution; the first k symbols are uniform and
    symbol t >= k is drawn from the row of its context (see the module docstring).

    Parameters
    ----------
    n_seqs : int
        Number of sequences (>= 1).
    length : int
        Symbols per sequence; must exceed ``order``.
    order : int
        Markov order k >= 1.
    alphabet_size : int, default 2
        m >= 2.
    concentration : float, default 1.0
        Dirichlet parameter of every row (> 0); 1 is uniform over the simplex (the paper's
        ``p ~ Uniform(0, 1)`` for a binary alphabet).
    random_state : int, Generator or None
        Seed or generator.

    Returns
    -------
    seqs : ndarray of int64, shape (n_seqs, length)
    tables : ndarray of float64, shape (n_seqs, m**k, m)
        The transition table of each sequence.

    Examples
    --------
    >>> seqs, tables = sample_markov(3, 20, order=2, random_state=0)
    >>> seqs.shape, tables.shape
    ((3, 20), (3, 4, 2))
    """
    n = check_int(n_seqs, "n_seqs", minimum=1)
    k, m = _check_order_alphabet(order, alphabet_size)
    length = check_int(length, "length", minimum=1)
    _check_length(length, k)
    conc = check_float(concentration, "concentration", low=0.0, low_open=True)
    rng = np.random.default_rng(random_state)
    tables = rng.dirichlet(np.full(m, conc), size=(n, m**k))
    seqs = np.empty((n, length), dtype=np.int64)
    seqs[:, :k] = rng.integers(0, m, size=(n, k))
    cum = np.cumsum(tables, axis=-1)
    cum[..., -1] = 1.0
    u = rng.random((n, length))
    rows = np.arange(n)
    ctx = np.zeros(n, dtype=np.int64)
    for j in range(1, k + 1):
        ctx += seqs[:, k - j] * m ** (j - 1)
    top = m ** (k - 1)
    for t in range(k, length):
        sym = (u[:, t, None] > cum[rows, ctx]).sum(axis=-1)
        seqs[:, t] = sym
        ctx = (ctx % top) * m + sym if k > 1 else sym.astype(np.int64)
    return seqs, tables


def check_sequences(
    seqs: Any, alphabet_size: int | None, name: str = "seqs"
) -> tuple[np.ndarray, int]:
    """Validate integer sequences ``(n_seqs, length)``; return them and the alphabet size."""
    arr = np.asarray(seqs)
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidInputError(
            f"`{name}` must be a non-empty 2-D array (n_seqs, length), got {_describe(arr)}."
        )
    if not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
            raise InvalidInputError(f"`{name}` must hold integer symbols, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise InvalidInputError(f"`{name}` must hold symbols >= 0, got {int(arr.min())}.")
    if alphabet_size is None:
        m = int(arr.max()) + 1
        if m < 2:
            raise InvalidInputError(
                f"`{name}` holds a single symbol, so the alphabet size cannot be inferred; pass "
                "alphabet_size (>= 2)."
            )
    else:
        m = check_int(alphabet_size, "alphabet_size", minimum=2)
        if arr.max() >= m:
            raise InvalidInputError(
                f"`{name}` holds symbol {int(arr.max())}, outside the alphabet 0..{m - 1} "
                "given by alphabet_size."
            )
    return arr, m


def _add_alpha(seqs: np.ndarray, order: int, alpha: float, m: int) -> np.ndarray:
    """Causal add-alpha conditional k-gram predictions (order 0 allowed: the unigram)."""
    n, length = seqs.shape
    probs = np.full((n, length, m), 1.0 / m)
    ctx = context_ids(seqs, order, m)
    counts = np.zeros((n, m**order, m))
    rows = np.arange(n)
    for t in range(order, length):
        c = ctx[:, t]
        row = counts[rows, c]
        total = row.sum(axis=-1, keepdims=True)
        denom = total + m * alpha
        with np.errstate(invalid="ignore", divide="ignore"):
            pred = (row + alpha) / denom
        # alpha = 0 and an unseen context: no evidence, predict uniformly
        probs[:, t] = np.where(denom > 0, pred, 1.0 / m)
        counts[rows, c, seqs[:, t]] += 1.0
    return probs


def kgram_estimator(
    seqs: Any, order: int, alpha: float = 1.0, alphabet_size: int | None = None
) -> np.ndarray:
    """In-context add-α conditional k-gram predictions, computed causally along each sequence.

    Row t of a sequence is the prediction of symbol t from the symbols before it. For
    ``t >= k``, with ``c`` the k symbols before t,

    .. math::

        \\hat p_t(a) = \\frac{N_{<t}(c \\to a) + \\alpha}{N_{<t}(c) + m \\alpha},

    where ``N_{<t}(c -> a)`` counts the positions ``s`` with ``k <= s < t`` whose context is
    ``c`` and whose symbol is ``a`` (transitions that end before t), and ``N_{<t}(c)`` sums them
    over ``a``. For ``t < k`` the prediction is uniform. Under a Dirichlet(α) prior on every row
    of the transition table this is the posterior mean, i.e. the Bayes-optimal prediction; α = 1
    is Laplace's rule. With ``alpha = 0`` an unseen context is predicted uniformly.

    Parameters
    ----------
    seqs : array of int, shape (n_seqs, length)
        Symbols in ``0 .. m - 1``; ``length`` must exceed ``order``.
    order : int
        Context length k >= 1.
    alpha : float, default 1.0
        Pseudo-count (>= 0).
    alphabet_size : int, optional
        m (>= 2); default ``seqs.max() + 1``.

    Returns
    -------
    ndarray of float64, shape (n_seqs, length, m)
        Each row sums to 1.

    Examples
    --------
    >>> p = kgram_estimator([[0, 1, 0, 1, 0]], order=1)
    >>> p[0, 4]   # after context 1 (seen once, followed by 0): (1 + 1) / (1 + 2)
    array([0.66666667, 0.33333333])
    """
    arr, m = check_sequences(seqs, alphabet_size)
    k, m = _check_order_alphabet(order, m)
    a = check_float(alpha, "alpha", low=0.0)
    _check_length(arr.shape[1], k, "seqs.shape[1] (the sequence length)")
    return _add_alpha(arr, k, a, m)


def cross_entropy_bits(probs: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """``-log2 probs[i, t, seqs[i, t]]`` for every sequence and position, shape (n_seqs, length)."""
    picked = np.take_along_axis(probs, seqs[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore"):
        return -np.log2(picked)


def true_predictions(seqs: np.ndarray, tables: np.ndarray, order: int) -> np.ndarray:
    """Predictions under each sequence's true transition table (uniform for ``t < k``)."""
    n, length = seqs.shape
    m = tables.shape[-1]
    probs = np.full((n, length, m), 1.0 / m)
    ctx = context_ids(seqs, order, m)
    probs[:, order:] = tables[np.arange(n)[:, None], ctx[:, order:]]
    return probs


def reference_losses(
    seqs: Any,
    order: int,
    tables: np.ndarray | None = None,
    *,
    alpha: float = 1.0,
    alphabet_size: int | None = None,
) -> dict[str, Any]:
    """Cross-entropies (bits per symbol) of the reference predictors on ``seqs``.

    Three predictors: the add-α conditional k-gram estimator (the Bayes-optimal floor, "kgram"),
    the in-context add-α unigram estimator, which ignores the context ("unigram"), and, when
    ``tables`` is given, the true transition table of each sequence ("true"; lower than the
    floor because it knows the table). Averages are over positions ``t >= k`` (those with a
    context); ``by_position`` holds the mean over sequences at every position.

    Returns
    -------
    dict
        ``{"kgram": float, "unigram": float, "true": float (if tables), "by_position":
        {name: list of floats}}``.
    """
    arr, m = check_sequences(seqs, alphabet_size)
    k, m = _check_order_alphabet(order, m)
    _check_length(arr.shape[1], k, "seqs.shape[1] (the sequence length)")
    a = check_float(alpha, "alpha", low=0.0)
    preds = {"kgram": _add_alpha(arr, k, a, m), "unigram": _add_alpha(arr, 0, a, m)}
    if tables is not None:
        tab = np.asarray(tables, dtype=np.float64)
        if tab.shape != (arr.shape[0], m**k, m):
            raise InvalidInputError(
                f"`tables` must have shape {(arr.shape[0], m**k, m)}, got {tab.shape}."
            )
        preds["true"] = true_predictions(arr, tab, k)
    out: dict[str, Any] = {"by_position": {}}
    for name, p in preds.items():
        ce = cross_entropy_bits(p, arr)
        out[name] = float(ce[:, k:].mean())
        out["by_position"][name] = ce.mean(axis=0).tolist()
    return out


def uniform_loss(alphabet_size: int) -> float:
    """Cross-entropy of the uniform prediction, ``log2 m`` bits."""
    return math.log2(alphabet_size)
