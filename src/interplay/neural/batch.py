"""BATCH: a neural minibatch estimator of the BROJA PID for continuous sources, discrete target.

The BROJA decomposition (Bertschinger et al. 2014) needs the *union information*

.. math:: V^* = \\min_{q \\in \\Delta_p} I_q(Y; X_1 X_2), \\quad
          \\Delta_p = \\{q : q(x_1, y) = p(x_1, y),\\ q(x_2, y) = p(x_2, y)\\},

after which ``R = I1 + I2 - V*``, ``U1 = V* - I2``, ``U2 = V* - I1`` and ``S = I12 - V*``
(``I1 = I(X1;Y)``, ``I2 = I(X2;Y)``, ``I12 = I(X1,X2;Y)``). ``Delta_p`` depends on the data only
through the pairwise marginals, so a minibatch of ``n`` rows defines a small instance of the
same program: the sources are the ``n`` observed points of each modality, each with mass
``1/n``, and the label marginals ``p(y | x1_a) / n`` and ``p(y | x2_b) / n`` come from
classifiers. BATCH (Liang et al., NeurIPS 2023, arXiv 2302.12247) parametrises the coupling of
that instance as

.. math:: q(a, b, y) \\propto \\exp(\\langle f_1(x_{1a})_y, f_2(x_{2b})_y \\rangle / \\tau)

(one embedding per label and row) scaled by Sinkhorn iterations onto the two marginals, and
trains the embeddings ``f1``, ``f2`` to minimise ``I_q(Y; X1 X2)`` over many minibatches;
held-out minibatches give the estimate.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import minimize_scalar

from .._progress import progress_bar as _progress
from .._threads import policy
from .._validation import check_base, check_choice, check_float, check_int, units_of
from ..exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    InterplayWarning,
    InvalidInputError,
    MissingDependencyError,
)
from ..info.estimate.resampling import percentile_intervals
from ..info.pid import ATOMS, PIDResult, SolverDiagnostics
from ..info.pid.broja import _neg_conditional_entropy, _round_to_marginals

try:
    import torch
    from torch import nn

    from .sinkhorn import log_floor, log_sinkhorn, sinkhorn
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    if not TYPE_CHECKING:  # to mypy, ``torch`` stays the module; batch_pid checks for None
        torch = None

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["batch_pid"]

#: Largest ``batch_size**2 * n_classes`` (cells of one minibatch coupling): 16.8 M float32 cells.
MAX_BATCH_CELLS = 2**24
#: Fewest samples of every class; fewer leave a classifier nothing to learn the class from.
MIN_PER_CLASS = 5
#: Temperature of the scores of unit-norm embeddings: score differences stay within
#: 2 / TEMPERATURE = 10 nats, sharp enough for near-deterministic pairings (a mismatched pair
#: keeps about e^-10 of the mass of a matched one) and blunt enough for Sinkhorn to converge.
TEMPERATURE = 0.2
#: Sinkhorn tolerance (total marginal violation) while training the alignment networks.
TRAIN_TOL = 1e-3
#: Differentiable Sinkhorn updates after each converged, gradient-free solve during training.
GRAD_STEPS = 10
#: Most held-out rows whose logits are kept in memory to fit the classifiers' temperatures.
CALIBRATION_ROWS = 2**16
#: Rows read at a time when scanning a (memory-mapped) source for NaN and its column moments.
SCAN_ROWS = 65_536
#: A clamp of the union information, or a classifier worse than the label prior, by more than
#: this many bits is reported as a warning.
WARN_BITS = 0.02

_VIEWS = ("x1", "x2", "x1x2")


def batch_pid(
    x1: Any,
    x2: Any,
    y: Any,
    *,
    hidden: int = 64,
    layers: int = 2,
    embed_dim: int = 10,
    batch_size: int = 256,
    classifier_epochs: int = 20,
    align_epochs: int = 5,
    steps_per_epoch: int | None = None,
    lr: float = 1e-3,
    align_lr: float = 1e-2,
    sinkhorn_iters: int = 500,
    sinkhorn_tol: float = 1e-5,
    validation_fraction: float = 0.2,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    device: str = "cpu",
    random_state: int | None = None,
    progress: bool = True,
    base: float | str = 2,
    method: str = "broja",
) -> PIDResult:
    """BROJA PID of continuous, high-dimensional sources and a discrete target (BATCH).

    1. Three MLP classifiers learn ``p(y|x1)``, ``p(y|x2)`` and ``p(y|x1,x2)`` on the training
       rows (cross-entropy, Adam; the epoch with the lowest held-out cross-entropy is kept),
       then each is calibrated by temperature scaling on held-out rows (Guo et al. 2017).
       Each mutual information is the cross-entropy bound ``I(X;Y) >= H(Y) - CE`` on the
       held-out rows (Barber & Agakov 2003), with ``H(Y)`` the held-out label entropy.
    2. Two MLPs embed each row of a modality into one unit-norm ``embed_dim`` vector per
       label. Over a minibatch of ``n`` rows, the scores ``<f1(x1_a)_y, f2(x2_b)_y> / 0.2`` are
       projected by Sinkhorn onto the marginals ``q(a, y) = p(y|x1_a) / n`` and
       ``q(b, y) = p(y|x2_b) / n``, and the embeddings are trained to minimise
       ``I_q(Y; A B) = H_q(Y) - H_q(Y | A, B)`` of that coupling (gradients through the last
       10 log-domain Sinkhorn updates from the converged potentials).
    3. On held-out minibatches the coupling is solved in float64 to ``sinkhorn_tol``, rounded
       exactly onto the marginals (Altschuler et al. 2017), and its ``I_q`` averaged: the union
       information ``V``. ``V`` is clamped into its provable interval
       ``[max(I1, I2), min(I12, I1 + I2)]`` (``I12`` is first raised to ``max(I1, I2)``, which
       is still a lower bound of it), and ``R = I1 + I2 - V``, ``U1 = V - I2``,
       ``U2 = V - I1``, ``S = I12 - V``; all four are then >= 0 and the PID identities hold.

    Assumptions: ``y`` is discrete with a handful of classes; the classifiers are close to
    calibrated (the coupling's marginals *are* their outputs); the rows are i.i.d.

    Biases. The cross-entropy terms are lower bounds: an under-fitted or over-fitted
    classifier under-estimates its mutual information, which moves the deficit between atoms
    (a weak joint classifier shrinks the synergy first). The coupling is batch-local: only
    pairs inside one minibatch can be matched, and label marginals that differ by chance
    between the two sides of a minibatch force mismatched pairs, a bias of ``V`` (mostly
    upwards) that shrinks as ``batch_size`` grows; the learned, low-rank coupling is only near
    the batch optimum, which biases ``V`` upwards too. Both lower the redundancy and the
    synergy in favour of the unique atoms (about 0.01 bits each on the noisy AND gate of
    ``benchmarks/bench_batch_pid.py``). The held-out rows that give the cross-entropies
    also choose each classifier's best epoch and fit its temperature, an optimism of order
    (number of choices) / (held-out rows). No certificate bounds the error.

    Changes from the original implementation (pliang279/PID,
    ``estimators/ce_alignment_information.py``): CPU by default and any ``device``;
    stabilised (log-domain) Sinkhorn in float64 for the estimate with a tolerance of ``1e-5``
    in total variation (the original stops at 0.01 per entry), followed by an exact rounding
    onto the marginals, so every coupling read out is feasible; label marginals of the two
    classifiers made consistent per minibatch (their per-label masses are set to the average
    of the two, without which no exact coupling exists); bounded scores (unit-norm
    embeddings, fixed temperature) so that Sinkhorn converges; calibrated classifiers, so that
    the coupling's ``I(Xi;Y)`` agrees with the cross-entropy terms; held-out rows for every
    term of the estimate; the union information clamped into its provable interval instead of
    clipping negative atoms; data streamed in minibatches from (memory-mapped) arrays, so
    memory is ``O(batch_size**2 * n_classes)`` whatever the number of rows.

    Parameters
    ----------
    x1, x2 : array-like of shape (n_samples,) or (n_samples, n_features)
        Numeric sources, rows aligned. NumPy arrays (including ``np.load(..., mmap_mode="r")``
        memory maps) are read a minibatch at a time and never copied whole.
    y : array-like of shape (n_samples,)
        Class labels (integers, booleans, strings, or integral floats), at least 2 classes and
        at least 5 samples of each.
    hidden, layers : int
        Width and number of hidden layers of every MLP (classifiers and embeddings).
    embed_dim : int
        Embedding size per label of the alignment networks.
    batch_size : int
        Rows per minibatch for training and for the coupling; ``batch_size**2 * n_classes``
        must not exceed ``2**24``.
    classifier_epochs, align_epochs : int
        Passes over the training rows for the classifiers and for the alignment networks.
    steps_per_epoch : int or None
        Cap on the minibatches per epoch (each epoch draws a fresh random subset); ``None``
        uses every training row. Set it to bound the time on very large data.
    lr, align_lr : float
        Adam learning rates of the classifiers and of the alignment networks. The coupling
        needs large score differences (near-deterministic pairings), hence the larger default.
    sinkhorn_iters : int
        Most Sinkhorn updates per held-out minibatch.
    sinkhorn_tol : float
        Sinkhorn stops on held-out minibatches when the total marginal violation (in
        probability mass) is below this. Training solves to ``1e-3`` only (the truncated
        gradient needs no more).
    validation_fraction : float
        Fraction of rows held out for the estimate, in (0, 1).
    n_bootstrap, confidence
        With ``n_bootstrap > 0``, ``result.ci`` holds percentile intervals of the atoms over
        the held-out minibatches resampled with replacement (needs at least 2 of them). The
        networks stay fixed, so the intervals show the noise of the held-out estimate, not
        the variability of training (for that, repeat with several ``random_state``).
    device : str
        Torch device for the networks, e.g. ``"cpu"`` or ``"cuda"``.
    random_state : int or None
        Seed of the split, the minibatches and the network initialisation; on CPU, the same
        seed gives the same result.
    progress : bool
        Show progress bars.
    base : float or "e"
        Logarithm base of the result (2 gives bits).
    method : {"broja"}
        The redundancy measure; BATCH estimates BROJA only (the argument gives it the
        signature of the other estimators of :mod:`interplay.estimators.registry`).

    Returns
    -------
    PIDResult
        With ``method="broja"``, ``estimator="batch"``, ``n_samples``; ``settings`` holds
        every option (``random_state`` is the seed used) and ``settings["fit"]`` the held-out
        cross-entropy (in the result's units) and accuracy of each classifier with its best
        epoch and fitted temperature, the raw and clamped union information, the coupling's
        own ``I(Xi;Y)``, the standard error of ``V`` over the held-out minibatches and the
        last epoch's mean alignment loss ``-H_q(Y | X1, X2)``.
        ``diagnostics`` reports the Sinkhorn residual (largest over the held-out minibatches,
        before rounding) and the alignment steps; ``duality_gap`` is NaN (no certificate).

    Warns
    -----
    InterplayWarning
        When a classifier is worse than the label frequencies on held-out rows, or the union
        information had to be moved into its provable interval, by more than 0.02 bits.
    ConvergenceWarning
        When Sinkhorn did not reach ``sinkhorn_tol`` within ``sinkhorn_iters`` updates.

    Raises
    ------
    InvalidInputError
        On non-numeric, NaN or infinite sources; different numbers of rows; a continuous,
        missing or single-valued target; fewer than 5 samples of a class; too many classes
        for ``batch_size``; out-of-range options; an unavailable ``device``.
    MissingDependencyError
        When torch (the ``interplay[models]`` extra) is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 3000), rng.integers(0, 2, 3000)
    >>> x1 = (2 * a - 1)[:, None] + 0.2 * rng.standard_normal((3000, 4))
    >>> x2 = (2 * b - 1)[:, None] + 0.2 * rng.standard_normal((3000, 4))
    >>> r = batch_pid(x1, x2, a ^ b, align_epochs=1, random_state=0, progress=False)
    >>> round(r.synergy, 1), r.estimator
    (1.0, 'batch')
    """
    check_choice(method, "method", ("broja",))
    if torch is None:
        raise MissingDependencyError(
            "The BATCH estimator needs torch: `pip install interplay[models]`."
        )
    start = time.perf_counter()
    opts = _Options.check(locals())
    b = check_base(base)
    data = _Stream.build(x1, x2, y, opts.batch_size)
    seed = int(np.random.default_rng().integers(2**31)) if opts.seed is None else opts.seed
    rng = np.random.default_rng(seed)
    perm = rng.permutation(data.n)
    n_val = int(round(opts.validation_fraction * data.n))
    if n_val < 2 or data.n - n_val < 2:
        raise InvalidInputError(
            f"`validation_fraction` = {opts.validation_fraction} leaves {data.n - n_val} "
            f"training and {n_val} held-out rows of {data.n}; both need at least 2."
        )
    if opts.n_bootstrap and n_val <= opts.batch_size:
        raise InvalidInputError(
            f"`n_bootstrap` > 0 resamples held-out minibatches, but the {n_val} held-out rows "
            f"make one minibatch of `batch_size` = {opts.batch_size}; lower `batch_size` or "
            "raise `validation_fraction`."
        )
    train, val = np.sort(perm[n_val:]), np.sort(perm[:n_val])
    dev = torch.device(opts.device)
    cuda = [dev.index if dev.index is not None else torch.cuda.current_device()] \
        if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda), policy():  # small networks: one thread
        torch.manual_seed(seed)
        nets = _Networks.create(data, opts, dev)
        with _progress(not progress) as bar:
            fit = _fit_classifiers(nets, data, train, val, opts, rng, bar)
            align_loss, steps = _fit_alignment(nets, data, train, opts, rng, bar)
            read = _readout(nets, data, val, opts, bar)
    return _assemble(read, fit, align_loss, steps, opts, seed, b, data, train.size,
                     time.perf_counter() - start)


@dataclass(frozen=True)
class _Options:
    hidden: int
    layers: int
    embed_dim: int
    batch_size: int
    classifier_epochs: int
    align_epochs: int
    steps_per_epoch: int | None
    lr: float
    align_lr: float
    sinkhorn_iters: int
    sinkhorn_tol: float
    validation_fraction: float
    n_bootstrap: int
    confidence: float
    device: str
    seed: int | None

    @classmethod
    def check(cls, kw: dict[str, Any]) -> _Options:
        steps = kw["steps_per_epoch"]
        seed = kw["random_state"]
        device = kw["device"]
        if not isinstance(device, (str, torch.device)):
            raise InvalidInputError(f"`device` must be a string such as 'cpu', got {device!r}.")
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError) as exc:
            raise InvalidInputError(f"`device` is not a torch device: {device!r}.") from exc
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise InvalidInputError(f"`device` = {device!r} but CUDA is not available here.")
        return cls(
            hidden=check_int(kw["hidden"], "hidden", minimum=1),
            layers=check_int(kw["layers"], "layers", minimum=1),
            embed_dim=check_int(kw["embed_dim"], "embed_dim", minimum=1),
            batch_size=check_int(kw["batch_size"], "batch_size", minimum=2),
            classifier_epochs=check_int(kw["classifier_epochs"], "classifier_epochs", minimum=1),
            align_epochs=check_int(kw["align_epochs"], "align_epochs", minimum=0),
            steps_per_epoch=None if steps is None else check_int(steps, "steps_per_epoch",
                                                                 minimum=1),
            lr=check_float(kw["lr"], "lr", low=0.0, low_open=True),
            align_lr=check_float(kw["align_lr"], "align_lr", low=0.0, low_open=True),
            sinkhorn_iters=check_int(kw["sinkhorn_iters"], "sinkhorn_iters", minimum=1),
            sinkhorn_tol=check_float(kw["sinkhorn_tol"], "sinkhorn_tol", low=0.0, low_open=True),
            validation_fraction=check_float(kw["validation_fraction"], "validation_fraction",
                                            low=0.0, high=1.0, low_open=True, high_open=True),
            n_bootstrap=check_int(kw["n_bootstrap"], "n_bootstrap", minimum=0),
            confidence=check_float(kw["confidence"], "confidence", low=0.0, high=1.0,
                                   low_open=True, high_open=True),
            device=str(dev),
            seed=None if seed is None else check_int(seed, "random_state", minimum=0),
        )


@dataclass
class _Stream:
    """The validated data, read a minibatch at a time (memory maps stay on disk)."""

    x1: np.ndarray
    x2: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    moments: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

    @property
    def n(self) -> int:
        return self.y.size

    @property
    def n_classes(self) -> int:
        return self.classes.size

    @classmethod
    def build(cls, x1: Any, x2: Any, y: Any, batch_size: int) -> _Stream:
        a1, a2 = _as_rows(x1, "x1"), _as_rows(x2, "x2")
        codes, classes = _encode_labels(y)
        if not a1.shape[0] == a2.shape[0] == codes.size:
            raise InvalidInputError(
                f"`x1`, `x2` and `y` must have the same number of rows, got {a1.shape[0]}, "
                f"{a2.shape[0]} and {codes.size}."
            )
        if batch_size**2 * classes.size > MAX_BATCH_CELLS:
            raise InvalidInputError(
                f"`batch_size`**2 * (number of classes) must be at most {MAX_BATCH_CELLS}, got "
                f"{batch_size}**2 * {classes.size}; lower `batch_size` or merge classes."
            )
        return cls(a1, a2, codes, classes, (_scan(a1, "x1"), _scan(a2, "x2")))

    def tensors(self, idx: np.ndarray, device: Any) -> tuple[Tensor, Tensor, Tensor]:
        """Standardised float32 rows ``idx`` (sorted) of both sources and their labels."""
        (m1, s1), (m2, s2) = self.moments
        t1 = torch.from_numpy(((self.x1[idx] - m1) / s1).astype(np.float32))
        t2 = torch.from_numpy(((self.x2[idx] - m2) / s2).astype(np.float32))
        return t1.to(device), t2.to(device), torch.from_numpy(self.y[idx]).to(device)


def _as_rows(x: Any, name: str) -> np.ndarray:
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"`{name}` must be a numeric array, got dtype {arr.dtype} of shape {arr.shape}."
        )
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(
            f"`{name}` must have shape (n_samples,) or (n_samples, n_features), got {arr.shape}."
        )
    return arr


def _scan(x: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Check finiteness and return column means and standard deviations, chunk by chunk."""
    total = np.zeros(x.shape[1])
    squares = np.zeros(x.shape[1])
    shift = np.asarray(x[0], dtype=np.float64)  # shifted sums keep the variance accurate
    for lo in range(0, x.shape[0], SCAN_ROWS):
        block = np.asarray(x[lo:lo + SCAN_ROWS], dtype=np.float64) - shift
        if not np.all(np.isfinite(block)):
            raise InvalidInputError(f"`{name}` contains NaN or infinite values.")
        total += block.sum(axis=0)
        squares += (block * block).sum(axis=0)
    mean = total / x.shape[0]
    std = np.sqrt(np.maximum(squares / x.shape[0] - mean * mean, 0.0))
    return mean + shift, np.where(std > 0, std, 1.0)


def _encode_labels(y: Any) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(
            f"`y` must hold one class label per row, shape (n_samples,), got {arr.shape}."
        )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError("`y` contains NaN or infinite values.")
        off = arr[arr != np.round(arr)]
        if off.size:
            raise InvalidInputError(
                f"`y` must be discrete class labels, got non-integer values such as {off[0]!r}. "
                "Bin a continuous target first, or use a continuous estimator "
                "(gaussian_pid_from_samples, copula_pid)."
            )
    elif arr.dtype.kind == "O" and any(v is None or v != v for v in arr):
        raise InvalidInputError("`y` contains missing values (None or NaN).")
    elif arr.dtype.kind not in "biuUS" and arr.dtype.kind != "O":
        raise InvalidInputError(f"`y` must hold class labels, got dtype {arr.dtype}.")
    classes, codes, counts = np.unique(arr, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise InvalidInputError(f"`y` must have at least 2 classes, got {classes.size}.")
    if counts.min() < MIN_PER_CLASS:
        raise InvalidInputError(
            f"`y` needs at least {MIN_PER_CLASS} samples of every class, got "
            f"{int(counts.min())} of class {classes[counts.argmin()]!r} "
            f"({classes.size} classes in {arr.size} rows); merge rare classes."
        )
    return codes.ravel().astype(np.int64), classes


@dataclass
class _Networks:
    classifiers: dict[str, nn.Module]
    embed1: nn.Module
    embed2: nn.Module
    embed_dim: int
    device: Any
    sharpness: dict[str, float]  # inverse temperatures of the classifiers (1 until calibrated)

    @classmethod
    def create(cls, data: _Stream, opts: _Options, device: Any) -> _Networks:
        d1, d2, k = data.x1.shape[1], data.x2.shape[1], data.n_classes
        width = {"x1": d1, "x2": d2, "x1x2": d1 + d2}
        clf = {v: _mlp(width[v], k, opts).to(device) for v in _VIEWS}
        e1 = _mlp(d1, k * opts.embed_dim, opts).to(device)
        e2 = _mlp(d2, k * opts.embed_dim, opts).to(device)
        return cls(clf, e1, e2, opts.embed_dim, device, dict.fromkeys(_VIEWS, 1.0))

    def logits(self, t1: Tensor, t2: Tensor) -> dict[str, Tensor]:
        views = {"x1": t1, "x2": t2, "x1x2": torch.cat([t1, t2], dim=1)}
        return {v: self.classifiers[v](views[v]) * self.sharpness[v] for v in _VIEWS}

    def scores(self, t1: Tensor, t2: Tensor, k: int) -> Tensor:
        """Per-label similarities ``<f1(x1_a)_y, f2(x2_b)_y> / TEMPERATURE`` of unit-norm
        embeddings, shape (k, n, n)."""
        e1 = nn.functional.normalize(self.embed1(t1).view(t1.shape[0], k, self.embed_dim), dim=2)
        e2 = nn.functional.normalize(self.embed2(t2).view(t2.shape[0], k, self.embed_dim), dim=2)
        return torch.einsum("aye,bye->yab", e1, e2) / TEMPERATURE


def _mlp(d_in: int, d_out: int, opts: _Options) -> nn.Module:
    mods: list[nn.Module] = []
    width = d_in
    for _ in range(opts.layers):
        mods += [nn.Linear(width, opts.hidden), nn.ReLU()]
        width = opts.hidden
    mods.append(nn.Linear(width, d_out))
    return nn.Sequential(*mods)


def _minibatches(idx: np.ndarray, size: int, rng: np.random.Generator | None,
                 cap: int | None = None) -> list[np.ndarray]:
    """Near-equal minibatches of ``idx`` (shuffled when ``rng`` is given), each sorted."""
    order = rng.permutation(idx) if rng is not None else idx
    parts = np.array_split(order, max(1, -(-order.size // size)))
    return [np.sort(p) for p in parts[:cap]]


def _fit_classifiers(nets: _Networks, data: _Stream, train: np.ndarray, val: np.ndarray,
                     opts: _Options, rng: np.random.Generator, bar: Any) -> dict[str, Any]:
    """Train the three classifiers; keep each one's epoch with the lowest held-out CE."""
    params = [p for m in nets.classifiers.values() for p in m.parameters()]
    optim = torch.optim.Adam(params, lr=opts.lr)
    batches_per_epoch = len(_minibatches(train, opts.batch_size, None, opts.steps_per_epoch))
    task = bar.add_task("classifiers", total=opts.classifier_epochs * batches_per_epoch)
    best: dict[str, tuple[float, int, dict[str, Any] | None]] = {
        v: (math.inf, -1, None) for v in _VIEWS
    }
    for epoch in range(opts.classifier_epochs):
        for idx in _minibatches(train, opts.batch_size, rng, opts.steps_per_epoch):
            t1, t2, ty = data.tensors(idx, nets.device)
            logits = nets.logits(t1, t2)
            losses = [nn.functional.cross_entropy(logits[v], ty) for v in _VIEWS]
            loss = sum(losses[1:], losses[0])
            optim.zero_grad()
            loss.backward()
            optim.step()
            bar.advance(task)
        for v, ce in _cross_entropies(nets, data, val, opts.batch_size).items():
            if ce < best[v][0]:
                best[v] = (ce, epoch, copy.deepcopy(nets.classifiers[v].state_dict()))
    for v in _VIEWS:
        state = best[v][2]
        if state is None:  # every held-out cross-entropy was NaN
            raise ConvergenceError(f"the {v!r} classifier's held-out cross-entropy is not finite")
        nets.classifiers[v].load_state_dict(state)
        nets.classifiers[v].eval()
    _calibrate(nets, data, val[:: max(1, val.size // CALIBRATION_ROWS)], opts.batch_size)
    return {v: {"best_epoch": best[v][1] + 1, "temperature": 1.0 / nets.sharpness[v]}
            for v in _VIEWS}


def _calibrate(nets: _Networks, data: _Stream, idx: np.ndarray, size: int) -> None:
    """Temperature scaling (Guo et al. 2017) of each classifier on held-out rows.

    The inverse temperature ``beta`` minimises the cross-entropy of ``softmax(beta * logits)``
    (convex in ``beta``). The coupling's marginals are the classifiers' probabilities, so an
    under- or over-confident classifier makes the coupling's ``I(Xi;Y)`` disagree with the
    cross-entropy bound; one fitted scalar removes most of that.
    """
    chunks: dict[str, list[Tensor]] = {v: [] for v in _VIEWS}
    labels = []
    for part in _minibatches(idx, size, None):
        t1, t2, ty = data.tensors(part, nets.device)
        with torch.no_grad():
            for v, z in nets.logits(t1, t2).items():
                chunks[v].append(z.double().cpu())
        labels.append(ty.cpu())
    ty = torch.cat(labels)
    for v in _VIEWS:
        z = torch.cat(chunks[v])

        def loss(log_beta: float, z: Tensor = z) -> float:
            return float(nn.functional.cross_entropy(z * math.exp(log_beta), ty))

        fit = minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded",
                              options={"xatol": 1e-4})
        nets.sharpness[v] = math.exp(fit.x) if fit.fun < loss(0.0) else 1.0


def _entropy(p: np.ndarray) -> float:
    """Shannon entropy (nats) of a pmf."""
    q = p[p > 0]
    return float(-(q * np.log(q)).sum())


def _cross_entropies(nets: _Networks, data: _Stream, idx: np.ndarray,
                     size: int) -> dict[str, float]:
    """Mean cross-entropy (nats) of each classifier on rows ``idx``."""
    ce = dict.fromkeys(_VIEWS, 0.0)
    for part in _minibatches(idx, size, None):
        t1, t2, ty = data.tensors(part, nets.device)
        with torch.no_grad():
            logits = nets.logits(t1, t2)
        for v, z in logits.items():
            ce[v] -= float(torch.log_softmax(z.double(), dim=1).gather(1, ty[:, None]).sum())
    return {v: ce[v] / idx.size for v in _VIEWS}


def _log_marginals(logp1: Tensor, logp2: Tensor) -> tuple[Tensor, Tensor]:
    """Row and column targets ``log q(a, y)``, ``log q(b, y)`` of shape (k, n), consistent per y.

    ``q(a, y) = p(y|x1_a) / n`` rescaled per label so that both sides carry the per-label
    mass ``(m1_y + m2_y) / 2``, with ``m_i`` the label frequencies the classifiers imply.
    """
    n1, n2 = logp1.shape[0], logp2.shape[0]
    lm1 = torch.logsumexp(logp1, dim=0) - math.log(n1)
    lm2 = torch.logsumexp(logp2, dim=0) - math.log(n2)
    lm = torch.logaddexp(lm1, lm2) - math.log(2.0)
    rows = logp1 - math.log(n1) + (lm - lm1)
    cols = logp2 - math.log(n2) + (lm - lm2)
    floor = log_floor(logp1.dtype)  # keeps every potential finite; adds < 1e-300 mass
    return rows.T.clamp_min(floor).contiguous(), cols.T.clamp_min(floor).contiguous()


def _coupling_loss(scores: Tensor, rows: Tensor, cols: Tensor, opts: _Options) -> Tensor:
    """``-H_q(Y | A, B)`` (nats) of the Sinkhorn coupling, differentiable in ``scores``.

    Sinkhorn first runs to tolerance without gradients; ``GRAD_STEPS`` more updates from those
    potentials carry the gradient (a truncated unrolling at the fixed point).
    """
    with torch.no_grad():
        warm = sinkhorn(scores, rows, cols, max_iter=opts.sinkhorn_iters, tol=TRAIN_TOL)
    state = log_sinkhorn(scores, rows, cols, max_iter=GRAD_STEPS, tol=0.0,
                         init=(warm.f, warm.g))
    logq = scores + state.f[:, :, None] + state.g[:, None, :]
    return (logq.exp() * (logq - torch.logsumexp(logq, dim=0, keepdim=True))).sum()


def _fit_alignment(nets: _Networks, data: _Stream, train: np.ndarray, opts: _Options,
                   rng: np.random.Generator, bar: Any) -> tuple[float, int]:
    """Train the embeddings to minimise ``I_q(Y; A B)``; returns the last epoch's mean loss."""
    params = [*nets.embed1.parameters(), *nets.embed2.parameters()]
    optim = torch.optim.Adam(params, lr=opts.align_lr)
    batches_per_epoch = len(_minibatches(train, opts.batch_size, None, opts.steps_per_epoch))
    task = bar.add_task("alignment", total=opts.align_epochs * batches_per_epoch)
    k, steps, last = data.n_classes, 0, math.nan
    for _ in range(opts.align_epochs):
        losses = []
        for idx in _minibatches(train, opts.batch_size, rng, opts.steps_per_epoch):
            t1, t2, _ = data.tensors(idx, nets.device)
            with torch.no_grad():
                logits = nets.logits(t1, t2)
                rows, cols = _log_marginals(torch.log_softmax(logits["x1"], dim=1),
                                            torch.log_softmax(logits["x2"], dim=1))
            loss = _coupling_loss(nets.scores(t1, t2, k), rows, cols, opts)
            optim.zero_grad()
            loss.backward()
            optim.step()
            losses.append(loss.item())
            steps += 1
            bar.advance(task)
        last = float(np.mean(losses))
    return last, steps


@dataclass
class _Readout:
    """Per held-out minibatch: summed cross-entropies (nats) and hits of each classifier, label
    counts, and the coupling's union information and own ``I(Xi;Y)`` (nats)."""

    cross_entropy: dict[str, np.ndarray]
    hits: dict[str, np.ndarray]
    counts: np.ndarray  # (batches, classes)
    union: np.ndarray
    coupling_mi: tuple[np.ndarray, np.ndarray]
    residual: float
    iterations: int


def _readout(nets: _Networks, data: _Stream, val: np.ndarray, opts: _Options,
             bar: Any) -> _Readout:
    """Held-out cross-entropies and the float64 union information of every minibatch."""
    parts = _minibatches(val, opts.batch_size, None)
    task = bar.add_task("held-out", total=len(parts))
    k = data.n_classes
    ce: dict[str, list[float]] = {v: [] for v in _VIEWS}
    hits: dict[str, list[float]] = {v: [] for v in _VIEWS}
    counts, union, mi1, mi2, residual, iters = [], [], [], [], 0.0, 0
    for part in parts:
        t1, t2, ty = data.tensors(part, nets.device)
        with torch.no_grad():
            logp = {v: torch.log_softmax(z.double(), dim=1)
                    for v, z in nets.logits(t1, t2).items()}
            rows, cols = _log_marginals(logp["x1"], logp["x2"])
            scores = nets.scores(t1, t2, k).double()
            state = sinkhorn(scores, rows, cols, max_iter=opts.sinkhorn_iters,
                             tol=opts.sinkhorn_tol)
        for v in _VIEWS:
            ce[v].append(-float(logp[v].gather(1, ty[:, None]).sum()))
            hits[v].append(float((logp[v].argmax(dim=1) == ty).sum()))
        counts.append(np.bincount(data.y[part], minlength=k))
        residual, iters = max(residual, state.residual), max(iters, state.iterations)
        logq = scores + state.f[:, :, None] + state.g[:, None, :]
        r, c = rows.exp().T.cpu().numpy(), cols.exp().T.cpu().numpy()
        q = _round_to_marginals(logq.exp().permute(1, 2, 0).cpu().numpy(), r, c)
        hy = _entropy(r.sum(axis=0))
        union.append(hy + _neg_conditional_entropy(q))
        mi1.append(hy + _neg_conditional_entropy(r[:, None, :]))
        mi2.append(hy + _neg_conditional_entropy(c[None, :, :]))
        bar.advance(task)
    return _Readout(
        cross_entropy={v: np.asarray(ce[v]) for v in _VIEWS},
        hits={v: np.asarray(hits[v]) for v in _VIEWS},
        counts=np.asarray(counts),
        union=np.asarray(union),
        coupling_mi=(np.asarray(mi1), np.asarray(mi2)),
        residual=residual,
        iterations=iters,
    )


@dataclass(frozen=True)
class _Terms:
    """Mutual informations (nats) of a set of held-out minibatches, before and after the
    provable-interval adjustments."""

    cross_entropy: dict[str, float]
    label_entropy: float
    raw: dict[str, float]  # H(Y) - CE per classifier, and the coupling's mean union information
    i1: float
    i2: float
    i12: float
    union: float

    @classmethod
    def of(cls, read: _Readout, pick: np.ndarray) -> _Terms:
        rows = read.counts[pick].sum()
        ce = {v: float(read.cross_entropy[v][pick].sum() / rows) for v in _VIEWS}
        hy = _entropy(read.counts[pick].sum(axis=0) / rows)
        mi = {v: hy - ce[v] for v in _VIEWS}
        i1, i2 = max(mi["x1"], 0.0), max(mi["x2"], 0.0)
        i12 = max(mi["x1x2"], i1, i2)
        raw = float(read.union[pick].mean())
        union = min(max(raw, i1, i2), min(i12, i1 + i2))
        return cls(ce, hy, {**mi, "union": raw}, i1, i2, i12, union)

    def atoms(self) -> np.ndarray:
        """R, U1, U2, S (nats)."""
        v = self.union
        return np.array([self.i1 + self.i2 - v, v - self.i2, v - self.i1, self.i12 - v])


def _notes(t: _Terms) -> list[str]:
    """Warnings about poor classifiers and the clamp of the union information."""
    bits, notes = math.log(2.0), []
    names = {"x1": "I(X1;Y)", "x2": "I(X2;Y)", "x1x2": "I(X1,X2;Y)"}
    for v in _VIEWS:
        if -t.raw[v] > WARN_BITS * bits:
            notes.append(
                f"the {v} classifier is worse than the label frequencies on held-out rows "
                f"(cross-entropy {-t.raw[v] / bits:.3g} bits above H(Y)); {names[v]} is set to "
                "0. Train longer, regularise, or give it more data."
            )
    joint = max(t.raw["x1x2"], 0.0)
    if t.i12 - joint > WARN_BITS * bits:
        notes.append(
            f"the joint classifier is worse than a unimodal one by {(t.i12 - joint) / bits:.3g} "
            "bits; I(X1,X2;Y) is raised to max(I(X1;Y), I(X2;Y))."
        )
    if abs(t.union - t.raw["union"]) > WARN_BITS * bits:
        notes.append(
            f"the union information {t.raw['union'] / bits:.4g} bits lies outside its provable "
            f"interval [{max(t.i1, t.i2) / bits:.4g}, {min(t.i12, t.i1 + t.i2) / bits:.4g}] "
            "and was clamped; the classifiers and the coupling disagree (calibration, or too "
            "little training)."
        )
    return notes


def _bootstrap(read: _Readout, n_boot: int, confidence: float, seed: int,
               ln_b: float) -> dict[str, tuple[float, float]] | None:
    """Percentile intervals of the atoms over held-out minibatches resampled with replacement.

    The networks stay fixed: the intervals show the evaluation noise of the held-out rows, not
    the variability of training.
    """
    if n_boot == 0:
        return None
    rng = np.random.default_rng([seed, 1])
    n = read.union.size
    reps = np.array([_Terms.of(read, rng.integers(0, n, n)).atoms() for _ in range(n_boot)])
    return dict(zip(ATOMS, percentile_intervals(reps / ln_b, confidence), strict=True))


def _assemble(read: _Readout, fit: dict[str, Any], align_loss: float, steps: int,
              opts: _Options, seed: int, base: float, data: _Stream, n_train: int,
              seconds: float) -> PIDResult:
    ln_b = math.log(base)
    terms = _Terms.of(read, np.arange(read.union.size))
    notes = _notes(terms)
    if read.residual > opts.sinkhorn_tol:
        warnings.warn(
            f"Sinkhorn stopped after {opts.sinkhorn_iters} updates with a marginal residual of "
            f"{read.residual:.3g} (asked for {opts.sinkhorn_tol:.3g}); the coupling was rounded "
            "onto the marginals. Raise `sinkhorn_iters`.",
            ConvergenceWarning, stacklevel=3,
        )
    for text in notes:
        warnings.warn(text, InterplayWarning, stacklevel=3)
    n_val = int(read.counts.sum())
    sem = float(read.union.std(ddof=1) / math.sqrt(read.union.size)) if read.union.size > 1 \
        else math.nan
    fit_info = {
        "classifiers": {
            v: {"cross_entropy": terms.cross_entropy[v] / ln_b,
                "accuracy": float(read.hits[v].sum() / n_val), **fit[v]} for v in _VIEWS
        },
        "label_entropy": terms.label_entropy / ln_b,
        "union_information_raw": terms.raw["union"] / ln_b,
        "union_information": terms.union / ln_b,
        "union_information_se": sem / ln_b,
        "coupling_mi_x1": float(read.coupling_mi[0].mean()) / ln_b,
        "coupling_mi_x2": float(read.coupling_mi[1].mean()) / ln_b,
        "heldout_batches": int(read.union.size),
        "align_loss": align_loss / ln_b,
    }
    settings = {
        "hidden": opts.hidden, "layers": opts.layers, "embed_dim": opts.embed_dim,
        "batch_size": opts.batch_size, "classifier_epochs": opts.classifier_epochs,
        "align_epochs": opts.align_epochs, "steps_per_epoch": opts.steps_per_epoch,
        "lr": opts.lr, "align_lr": opts.align_lr, "sinkhorn_iters": opts.sinkhorn_iters,
        "sinkhorn_tol": opts.sinkhorn_tol, "validation_fraction": opts.validation_fraction,
        "n_bootstrap": opts.n_bootstrap, "confidence": opts.confidence, "device": opts.device,
        "random_state": seed, "base": base, "n_classes": data.n_classes,
        "n_train": n_train, "n_validation": n_val, "fit": fit_info,
    }
    diag = SolverDiagnostics(
        converged=read.residual <= opts.sinkhorn_tol,
        iterations=steps,
        duality_gap=math.nan,
        primal_residual=read.residual,
        tolerance=opts.sinkhorn_tol,
        seconds=seconds,
        message=(f"{steps} alignment steps; held-out Sinkhorn residual {read.residual:.2g} "
                 f"after at most {read.iterations} updates; no optimality certificate"),
    )
    r, u1, u2, syn = terms.atoms() / ln_b
    return PIDResult(
        redundancy=float(r), unique1=float(u1), unique2=float(u2), synergy=float(syn),
        mi_joint=terms.i12 / ln_b, mi_x1=terms.i1 / ln_b, mi_x2=terms.i2 / ln_b,
        method="broja", units=units_of(base), estimator="batch", settings=settings,
        diagnostics=diag, ci=_bootstrap(read, opts.n_bootstrap, opts.confidence, seed, ln_b),
        n_samples=data.n, warnings=tuple(notes),
    )
