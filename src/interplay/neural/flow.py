"""Flow-PID: normalizing flows make each (source, target) pair Gaussian, then the Gaussian PID.

The PID is invariant under invertible maps applied to each variable separately: with
``Zi = fi(Xi)`` and ``Zy = fy(Y)`` every mutual information, and the BROJA optimisation over
couplings with fixed ``(Xi, Y)`` marginals, is unchanged. If flows can be found that make the
pairs ``(Z1, Zy)`` and ``(Z2, Zy)`` jointly Gaussian, the Gaussian PID of the latents is the PID of
the data (Zhao, Balachandran, Tian & Liang, NeurIPS 2025, "Flow-PID"; the restriction to Gaussian
couplings loses nothing when the pairs are Gaussian).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from .._threads import policy
from .._validation import check_base, check_choice, check_float, check_int, check_samples
from ..exceptions import InterplayWarning, InvalidInputError, MissingDependencyError
from ..info.estimate import resampling
from ..info.estimate.copula import copula_normalize
from ..info.pid.gaussian import gaussian_pid_from_samples
from ..info.pid.result import ATOMS, PIDResult

__all__ = ["flow_pid", "gaussianity"]

FLOWS = ("spline", "affine")
INITS = ("copula", "standardize")
#: Fewest rows accepted; flows fitted on fewer are noise.
MIN_SAMPLES = 50
#: Rows used for Mardia's statistic (its cost grows with the rows, its power saturates).
_GAUSSIANITY_ROWS = 20000


def _require_torch() -> Any:
    """Import the torch half of Flow-PID, or say which extra installs it."""
    try:
        return importlib.import_module("interplay.neural._flows")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("torch", "zuko"):
            raise
        raise MissingDependencyError(
            f"flow_pid needs torch and zuko ({exc.name} is missing); install them with "
            "`pip install 'interplay[models]'`."
        ) from exc


def flow_pid(
    x1: Any,
    x2: Any,
    y: Any,
    *,
    flow: str = "spline",
    transforms: int = 3,
    hidden: int | Sequence[int] = (64, 64),
    init: str = "copula",
    max_epochs: int = 200,
    patience: int = 10,
    validation_fraction: float = 0.2,
    batch_size: int = 512,
    lr: float = 1e-3,
    device: Any = "cpu",
    random_state: int | None = None,
    progress: bool = True,
    base: float | str = 2,
    method: str = "broja",
    bias_correction: bool = True,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
) -> PIDResult:
    """Flow-PID of continuous sources and target: Gaussianise the pairs, then the Gaussian PID.

    Each variable gets its own invertible flow ``zi = fi(xi)``, ``zy = fy(y)`` (zuko's neural
    spline or masked affine autoregressive flows), trained so that the pairs ``(z1, zy)`` and
    ``(z2, zy)`` are jointly Gaussian. The model for a pair is ``p(xi, y) = q_i(fi(xi), fy(y))
    |det J_fi(xi)| |det J_fy(y)|`` with ``q_i`` a Gaussian of learnable mean and Cholesky
    factor, so by the change of variables the training loss, the negative log-likelihood of
    both pairs (a composite likelihood), is

        L = -E[ log q1(z1, zy) + log q2(z2, zy) + log|det J_f1| + log|det J_f2|
                + 2 log|det J_fy| ]

    in nats per sample (``fy`` enters both pairs, hence the 2). Minimising it is maximum
    likelihood for the pairs; at its optimum (infinite data and capacity) both pairs are
    Gaussian. The Gaussian PID (:func:`~interplay.info.pid.gaussian.gaussian_pid_from_samples`)
    of the latents' sample covariance is the estimate.

    Inputs first go through a fixed per-column map (``init``): the Gaussian-copula normal scores
    (:func:`~interplay.info.estimate.copula.copula_normalize`) or plain standardisation. The
    flows start as the identity, so at epoch 0 the estimate is the copula (or raw Gaussian)
    PID, and training only moves away from it when held-out likelihood improves: training runs
    on ``1 - validation_fraction`` of the rows and keeps the epoch with the lowest validation
    NLL (early stopping after ``patience`` epochs without improvement).

    Parameters
    ----------
    x1, x2, y : array-like of shape (n_samples,) or (n_samples, n_features)
        Samples of the two sources and the target, rows aligned; at least 50 rows.
    flow : {"spline", "affine"}
        Rational-quadratic neural spline flow (Durkan et al. 2019; zuko ``NSF``) or masked
        affine autoregressive flow (Papamakarios et al. 2017; zuko ``MAF``). The spline acts on
        [-5, 5] and is the identity outside.
    transforms : int
        Autoregressive layers per flow (orders alternate between layers).
    hidden : int or sequence of int
        Hidden-layer widths of each layer's conditioner network (an int is one layer).
    init : {"copula", "standardize"}
        The fixed per-column map in front of the flows.
    max_epochs, patience : int
        Epoch limit, and epochs without a validation improvement of 1e-4 nats before stopping.
    validation_fraction : float
        Share of rows held out for early stopping and the Gaussianity check, in (0, 0.5].
    batch_size : int
        Rows per Adam step (at most the number of training rows).
    lr : float
        Adam learning rate.
    device : str or torch.device
        Where the flows train ("cpu", "cuda", "cuda:1", ...).
    random_state : int or None
        Seeds the split, the minibatch order and the initial weights; equal seeds give equal
        results on the same device.
    progress : bool
        Show a progress bar over epochs (on a terminal).
    base : float or "e"
        Logarithm base of the result (2 gives bits).
    method : {"broja", "mmi"}
        Gaussian PID of the latents (see :func:`~interplay.info.pid.gaussian.gaussian_pid`).
    bias_correction : bool
        First-order finite-sample correction of the latent Gaussian MIs.
    n_bootstrap : int
        Bootstrap resamples of the latent rows for percentile intervals (``result.ci``). The
        flows are held fixed, so the intervals show the sampling error of the Gaussian PID
        given the learned maps, not the variability of the flow fit: they are too narrow when
        the fit itself is uncertain (few rows, large flows).
    confidence : float
        Coverage of the intervals, in (0, 1).

    Returns
    -------
    PIDResult
        ``estimator="flow"``; ``settings`` records every option, and ``settings["fit"]`` the fit:
        ``train_nll`` and ``val_nll`` per epoch (nats per sample, the loss above in the
        coordinates after ``init``), ``initial_val_nll`` (epoch 0), ``final_train_nll`` and
        ``final_val_nll`` at the kept epoch (``final_train_nll`` is None when epoch 0 is kept),
        ``epochs``, ``best_epoch``, ``stopped_early``, ``message``, and ``gaussianity`` of the
        held-out rows before and after the flows (per-dimension skewness and excess kurtosis
        of each variable, and Mardia's multivariate-kurtosis z-score of each pair; all near 0
        for Gaussian data).

    Notes
    -----
    What it assumes and when it is biased:

    * Variables are continuous. Discrete columns (class labels) have no density: the
      likelihood then rewards collapsing mass onto points and the estimate is unreliable (a
      warning says so); use :func:`~interplay.info.estimate.cluster.cluster_pid` or
      :func:`~interplay.neural.batch_pid`.
    * R, U1 and U2 depend only on the two pairs, which the loss makes Gaussian. S also uses
      ``I(X1, X2; Y)`` from the latents' *joint* covariance, which the loss does not fit: S
      is exact only when the three latents are jointly Gaussian.
    * A finite flow may not Gaussianise the pairs; the remaining non-Gaussianity is shown in
      ``settings["fit"]["gaussianity"]``. With Gaussian marginals the Gaussian MI is a lower
      bound on the true MI (Ince et al. 2017), so dependence the flows leave non-Gaussian
      tends to be lost, and the atoms can move between each other (in
      ``benchmarks/results/flow_pid.md`` the copula alone loses about half of a redundancy
      hidden by a map across dimensions; the trained flows recover it). ``"affine"`` flows
      on one-dimensional variables are affine maps and leave the PID where ``init`` put it.
    * Finite samples bias every plug-in Gaussian MI upwards (about ``d^2 / n``), corrected to
      first order by ``bias_correction``; flows fitted on few rows over-fit, which early
      stopping limits but does not remove.
    * For a scalar target the Gaussian BROJA PID equals MMI (Barrett 2015), so then Flow-PID
      is MMI in the learned latent space.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal(2000)
    >>> x1, x2 = y + rng.standard_normal(2000), y + rng.standard_normal(2000)
    >>> r = flow_pid(np.sinh(x1), x2 ** 3, y, max_epochs=3, transforms=1, random_state=0,
    ...              progress=False)
    >>> abs(r.redundancy - 0.5) < 0.05
    True
    """
    a1, a2, ay = _check_data(x1, x2, y)
    n = a1.shape[0]
    check_choice(flow, "flow", FLOWS)
    check_choice(init, "init", INITS)
    transforms = check_int(transforms, "transforms", minimum=1)
    hidden = _check_hidden(hidden)
    max_epochs = check_int(max_epochs, "max_epochs", minimum=1)
    patience = check_int(patience, "patience", minimum=1)
    validation_fraction = check_float(validation_fraction, "validation_fraction", low=0.0,
                                      high=0.5, low_open=True)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    if random_state is not None:
        random_state = check_int(random_state, "random_state", minimum=0)
    for flag, name in ((progress, "progress"), (bias_correction, "bias_correction")):
        if not isinstance(flag, bool):
            raise InvalidInputError(f"`{name}` must be True or False, got {flag!r}.")
    b = check_base(base)
    check_choice(method, "method", ("broja", "mmi"))
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=0)
    confidence = check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True,
                             high_open=True)
    engine = _require_torch()
    dev = engine.check_device(device)

    starts = [_start_map(a, name, init) for a, name in ((a1, "x1"), (a2, "x2"), (ay, "y"))]
    rng = np.random.default_rng(random_state)
    val_idx, train_idx = _split(n, validation_fraction, sum(a.shape[1] for a in starts), rng)
    with policy():  # small flows: one thread (see interplay._threads)
        (z1, z2, zy), report = engine.fit_latents(
            starts, train_idx, val_idx, rng, dev, flow=flow, transforms=transforms,
            hidden=hidden, max_epochs=max_epochs, patience=patience,
            batch_size=min(batch_size, len(train_idx)), lr=lr, progress=progress,
        )

    def latent_pid(rows: slice | np.ndarray) -> PIDResult:
        return gaussian_pid_from_samples(z1[rows], z2[rows], zy[rows], method,
                                         bias_correction=bias_correction, base=b)

    result = latent_pid(slice(None))
    if n_bootstrap:
        boot = resampling.bootstrap(
            lambda idx: np.array([latent_pid(idx).atoms[a] for a in ATOMS]), n, n_bootstrap,
            rng, progress=progress,
        )
        intervals = resampling.percentile_intervals(boot, confidence)
        result = result.with_(ci=dict(zip(ATOMS, intervals, strict=True)))
    fit_report = _summary(report, [s[val_idx] for s in starts],
                          [z[val_idx] for z in (z1, z2, zy)])
    settings = {
        **result.settings, "flow": flow, "transforms": transforms, "hidden": hidden,
        "init": init, "max_epochs": max_epochs, "patience": patience,
        "validation_fraction": validation_fraction, "batch_size": batch_size, "lr": lr,
        "device": str(dev), "random_state": random_state, "method": method,
        "n_bootstrap": n_bootstrap, "confidence": confidence,
        "fit": fit_report,
    }
    return result.with_(estimator="flow", settings=settings, n_samples=n)


def _summary(report: Any, before: list[np.ndarray], after: list[np.ndarray]) -> dict[str, Any]:
    """The fit report of ``settings["fit"]`` (JSON-ready)."""
    best = report.best_epoch
    return {
        "initial_val_nll": report.initial_val_nll,
        "train_nll": report.train_nll,
        "val_nll": report.val_nll,
        "final_train_nll": report.train_nll[best - 1] if best else None,
        "final_val_nll": report.val_nll[best - 1] if best else report.initial_val_nll,
        "epochs": report.epochs,
        "best_epoch": best,
        "stopped_early": report.stopped_early,
        "message": report.message,
        "gaussianity": {"before": gaussianity(before), "after": gaussianity(after)},
    }


def gaussianity(variables: Sequence[np.ndarray]) -> dict[str, Any]:
    """How far (x1, x2, y) samples are from Gaussian: marginal moments and Mardia's kurtosis.

    Per variable, the skewness and excess kurtosis of each dimension (0 for a Gaussian; their
    standard errors are about ``sqrt(6/n)`` and ``sqrt(24/n)``). Per pair ``(xi, y)``, Mardia's
    multivariate kurtosis ``b2 = mean(((v - mean)^T S^-1 (v - mean))^2)`` as the z-score
    ``(b2 - d(d + 2)) / sqrt(8 d (d + 2) / n)``, approximately standard normal for Gaussian
    data (Mardia 1970); it also sees non-Gaussian dependence between Gaussian marginals.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = gaussianity([rng.standard_normal((5000, 2)) for _ in range(3)])
    >>> abs(g["mardia_z"]["x1_y"]) < 4
    True
    """
    out: dict[str, Any] = {"skewness": {}, "excess_kurtosis": {}, "mardia_z": {}}
    for name, v in zip(("x1", "x2", "y"), variables, strict=True):
        out["skewness"][name] = [float(s) for s in stats.skew(v, axis=0)]
        out["excess_kurtosis"][name] = [float(k) for k in stats.kurtosis(v, axis=0)]
    for name, v in (("x1_y", np.hstack([variables[0], variables[2]])),
                    ("x2_y", np.hstack([variables[1], variables[2]]))):
        out["mardia_z"][name] = _mardia_z(v[:_GAUSSIANITY_ROWS])
    return out


def _mardia_z(v: np.ndarray) -> float:
    n, d = v.shape
    c = v - v.mean(axis=0)
    s = c.T @ c / n
    m = np.einsum("ij,ij->i", c @ np.linalg.pinv(s), c)
    b2 = float(np.mean(m**2))
    return (b2 - d * (d + 2)) / math.sqrt(8 * d * (d + 2) / n)


# --------------------------------------------------------------------------- input handling


def _check_data(x1: Any, x2: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = [check_samples(a, name) for a, name in ((x1, "x1"), (x2, "x2"), (y, "y"))]
    rows = [a.shape[0] for a in arrays]
    if len(set(rows)) != 1:
        raise InvalidInputError(
            f"`x1`, `x2` and `y` must have the same number of rows, got {rows[0]}, {rows[1]} "
            f"and {rows[2]}."
        )
    n = rows[0]
    if n < MIN_SAMPLES:
        raise InvalidInputError(
            f"flow_pid needs at least {MIN_SAMPLES} rows to train and validate its flows, "
            f"got {n}."
        )
    for a, name in zip(arrays, ("x1", "x2", "y"), strict=True):
        spread = np.ptp(a, axis=0)
        if np.any(spread == 0):
            raise InvalidInputError(
                f"`{name}` has a constant column (index {int(np.argmin(spread))}); it carries "
                "no information and has no density. Drop it."
            )
        distinct = min(len(np.unique(col)) for col in a.T)
        if distinct < 0.9 * n:
            warnings.warn(
                f"`{name}` has a column with only {distinct} distinct values in {n} rows. "
                "Flow-PID assumes continuous variables; on discrete ones the flows' "
                "likelihood degenerates. Consider cluster_pid or batch_pid.",
                InterplayWarning, stacklevel=3,
            )
    return arrays[0], arrays[1], arrays[2]


def _check_hidden(hidden: Any) -> tuple[int, ...]:
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, str) or not isinstance(hidden, Sequence) or len(hidden) == 0:
        raise InvalidInputError(
            f"`hidden` must be a positive integer or a non-empty sequence of them, "
            f"got {hidden!r}."
        )
    return tuple(check_int(h, "hidden", minimum=1) for h in hidden)


def _start_map(a: np.ndarray, name: str, init: str) -> np.ndarray:
    if init == "copula":
        return copula_normalize(a, name)
    return (a - a.mean(axis=0)) / a.std(axis=0)


def _split(n: int, fraction: float, dims: int, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    n_val = math.ceil(fraction * n)
    if min(n_val, n - n_val) <= dims + 1:
        raise InvalidInputError(
            f"Too few rows for {dims} dimensions in all: {n} rows with validation_fraction "
            f"{fraction} leave {n_val} for validation and {n - n_val} for training; each "
            f"needs more than {dims + 1}."
        )
    perm = rng.permutation(n)
    return np.sort(perm[:n_val]), np.sort(perm[n_val:])
