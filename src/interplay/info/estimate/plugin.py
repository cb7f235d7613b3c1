"""Plug-in PID of discrete samples: count the joint, decompose it, attach uncertainty.

The plug-in estimate replaces p(x1, x2, y) by the empirical frequencies of the samples and
solves the PID of that table. It is consistent but biased upwards for the mutual informations:
for I(X,Y) with alphabet sizes |X| and |Y| the leading bias term is
``(|X| - 1)(|Y| - 1) / (2 N ln 2)`` bits (Miller 1955; Panzeri & Treves 1996). The bias grows
with the number of joint cells, so :func:`plugin_pid` warns when the samples are too few for it.
"""

from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._validation import (
    MAX_JOINT_CELLS,
    check_base,
    check_choice,
    check_float,
    check_int,
    check_random_state,
)
from ...exceptions import ConvergenceWarning, InvalidInputError, SmallSampleWarning
from ..pid import ATOMS, PIDResult, list_pid_methods, pid
from ..pid.base import _REGISTRY
from ..samples import encode
from . import resampling

#: Fewer samples per joint cell than this triggers a :class:`SmallSampleWarning`.
MIN_SAMPLES_PER_CELL = 5
#: The predicted plug-in bias of I(X1,X2;Y) must stay below this fraction of the estimate ...
MAX_RELATIVE_BIAS = 0.1
#: ... unless it is below this many bits anyway.
NEGLIGIBLE_BIAS_BITS = 0.01

BIAS_CORRECTIONS = ("bootstrap",)

#: Solver options for resampled tables: their sampling spread dwarfs a 1e-6 bit duality gap.
REPLICATE_OPTIONS: dict[str, dict[str, Any]] = {"broja": {"tol": 1e-6}}


def plugin_pid(
    x1: Any,
    x2: Any,
    y: Any,
    *,
    method: str = "broja",
    base: float | str = 2,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    n_permutations: int = 0,
    bias_correction: str | None = None,
    random_state: int | np.random.Generator | None = None,
    progress: bool = True,
) -> PIDResult:
    """Partial information decomposition of I(X1, X2; Y) from discrete samples.

    The samples are counted into the empirical joint p̂(x1, x2, y) and decomposed with
    :func:`interplay.pid`; this is the *plug-in* estimator.

    Parameters
    ----------
    x1, x2 : array-like of shape (n_samples,) or (n_samples, n_columns)
        The two sources: integers, strings, booleans or categoricals. A 2-D input is one
        modality made of several columns; each distinct row is one symbol.
    y : array-like of shape (n_samples,) or (n_samples, n_columns)
        The target, with at least two distinct values.
    method : {"broja", "mmi", "imin", "ccs"}
        Redundancy measure passed to :func:`interplay.pid`.
    base : float or "e"
        Logarithm base of the result (2 gives bits).
    n_bootstrap : int
        Number of bootstrap resamples (rows drawn with replacement). With ``n_bootstrap > 0`` the
        result carries a percentile confidence interval for every atom in ``result.ci``.
    confidence : float
        Coverage of the intervals, in (0, 1).
    n_permutations : int
        Number of permutations for the test in ``result.p_values``. The null hypothesis is that
        Y is independent of (X1, X2): each permutation shuffles the rows of ``y`` against the
        fixed pairs (x1, x2), which keeps both sources, their dependence and the target's
        marginal, and removes all information about Y, so every atom is 0 under the null. The
        p-value of an atom is ``(1 + #{null >= observed}) / (1 + n_permutations)``; it tells
        whether the atom exceeds what the plug-in bias alone produces. It is a test against
        *no information*, not a test of one atom against the others being present.
    bias_correction : {None, "bootstrap"}
        ``"bootstrap"`` replaces every atom and mutual information by
        ``2 * estimate - mean(bootstrap estimates)`` (the bootstrap bias correction, Efron &
        Tibshirani 1993, ch. 10) and clips the result at 0 (atoms only for measures whose
        atoms are provably >= 0, e.g. BROJA, MMI; ``"ccs"`` atoms may stay negative). Needs
        ``n_bootstrap > 0``. The identities between atoms and mutual informations hold for the
        corrected values before clipping. The intervals then become *basic* bootstrap intervals
        ``[2 * estimate - q_hi, 2 * estimate - q_lo]`` (clipped the same way), which carry the
        same correction, instead of percentile intervals. Percentile intervals inherit the
        plug-in's upward bias and can miss a true value of 0; basic intervals do not.
    random_state : int, numpy Generator or None
        Seed for the resampling.
    progress : bool
        Show a progress bar while resampling.

    Returns
    -------
    PIDResult
        With ``estimator="plug-in"``, ``n_samples``, the settings, and ``ci``/``p_values`` when
        asked for. ``result.warnings`` lists the small-sample and clipping warnings.

    Warns
    -----
    SmallSampleWarning
        When there are fewer than 5 samples per joint cell (cells = product of the numbers of
        distinct values of X1, X2 and Y), or when the predicted plug-in bias of I(X1,X2;Y),
        ``(|X1 X2| - 1)(|Y| - 1) / (2 N ln 2)`` bits with ``|X1 X2|`` the number of observed
        source pairs, exceeds both 0.01 bits and 10 % of the estimate. The warning is also
        recorded in ``result.warnings``.

    Raises
    ------
    InvalidInputError
        On empty input, different lengths, missing values (NaN/None), a single-valued target,
        or alphabets whose joint table would exceed ``interplay._validation.MAX_JOINT_CELLS``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)
    >>> r = plugin_pid(a, b, a ^ b, method="mmi", progress=False)
    >>> round(r.synergy, 1), r.estimator, r.n_samples
    (1.0, 'plug-in', 4000)
    """
    check_choice(method, "method", tuple(list_pid_methods()))
    b = check_base(base)
    n_boot = check_int(n_bootstrap, "n_bootstrap", minimum=0)
    n_perm = check_int(n_permutations, "n_permutations", minimum=0)
    conf = check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    if bias_correction is not None:
        check_choice(bias_correction, "bias_correction", BIAS_CORRECTIONS)
        if n_boot == 0:
            raise InvalidInputError(
                "`bias_correction='bootstrap'` needs bootstrap resamples; "
                "set `n_bootstrap` (e.g. 200), got n_bootstrap=0."
            )
    rng = check_random_state(random_state)

    c1, c2, cy = _encode_all(x1, x2, y)
    shape = (int(c1.max()) + 1, int(c2.max()) + 1, int(cy.max()) + 1)
    cells = shape[0] * shape[1] * shape[2]
    if cells > MAX_JOINT_CELLS:
        raise InvalidInputError(
            f"the joint of x1 ({shape[0]} values), x2 ({shape[1]} values) and y ({shape[2]} "
            f"values) has {cells:,} cells, more than the limit of {MAX_JOINT_CELLS:,}. "
            "Discretize continuous columns into fewer bins first."
        )
    pairs = c1 * shape[1] + c2
    flat = pairs * shape[2] + cy
    n = flat.size

    def decompose(cell_of_sample: np.ndarray, **options: Any) -> PIDResult:
        counts = np.bincount(cell_of_sample, minlength=cells).reshape(shape)
        return pid(_trim(counts / n), method, base=b, **options)

    unconverged = [0]

    def replicate(cell_of_sample: np.ndarray) -> np.ndarray:
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always", ConvergenceWarning)
            row = _row(decompose(cell_of_sample, **REPLICATE_OPTIONS.get(method, {})))
        unconverged[0] += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        return row

    point = decompose(flat)
    notes = list(point.warnings)
    notes += _small_sample_notes(n, shape, pairs, point.mi_joint * math.log2(b))
    for note in notes[len(point.warnings):]:
        _warnings.warn(note, SmallSampleWarning, stacklevel=2)

    values = {**point.atoms, "mi_joint": point.mi_joint, "mi_x1": point.mi_x1, "mi_x2": point.mi_x2}
    ci: dict[str, tuple[float, float]] | None = None
    p_values: dict[str, float] | None = None
    if n_boot:
        boot = resampling.bootstrap(
            lambda idx: replicate(flat[idx]), n, n_boot, rng, progress=progress
        )
        if bias_correction == "bootstrap":
            means = dict(zip(_FIELDS, boot.mean(axis=0), strict=True))
            floor = 0.0 if _REGISTRY[method].nonnegative else -math.inf
            values = {
                k: max(2 * v - means[k], 0.0 if k.startswith("mi_") else floor)
                for k, v in values.items()
            }
            intervals = resampling.basic_intervals(
                boot[:, : len(ATOMS)], [getattr(point, a) for a in ATOMS], conf, floor=floor
            )
        else:
            intervals = resampling.percentile_intervals(boot[:, : len(ATOMS)], conf)
        ci = dict(zip(ATOMS, intervals, strict=True))
    if n_perm:
        null = resampling.permutation_null(
            lambda perm: replicate(pairs * shape[2] + cy[perm])[: len(ATOMS)], n, n_perm, rng,
            progress=progress,
        )
        observed = [float(getattr(point, a)) for a in ATOMS]
        p_values = dict(
            zip(ATOMS, resampling.permutation_p_values(null, observed), strict=True)
        )
    if unconverged[0]:
        notes.append(
            f"the solver missed its tolerance on {unconverged[0]} of the {n_boot + n_perm} "
            "resampled tables; their values are certified only to the reported gap."
        )

    settings = {
        **point.settings,
        "method": method,
        "n_bootstrap": n_boot,
        "confidence": conf,
        "n_permutations": n_perm,
        "bias_correction": bias_correction,
        "random_state": random_state if isinstance(random_state, (int, np.integer)) else None,
        "alphabet_sizes": {"x1": shape[0], "x2": shape[1], "y": shape[2]},
    }
    return point.with_(
        **values,
        estimator="plug-in" if bias_correction is None else "plug-in, bootstrap bias-corrected",
        settings=settings,
        ci=ci,
        p_values=p_values,
        n_samples=n,
        warnings=tuple(notes),
    )


_FIELDS = (*ATOMS, "mi_joint", "mi_x1", "mi_x2")


def _row(r: PIDResult) -> np.ndarray:
    return np.array([getattr(r, f) for f in _FIELDS])


def _encode_all(x1: Any, x2: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes = [encode(v, name=name).codes for v, name in ((x1, "x1"), (x2, "x2"), (y, "y"))]
    lengths = {name: c.size for name, c in zip(("x1", "x2", "y"), codes, strict=True)}
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(
            "`x1`, `x2` and `y` must have the same number of samples, got "
            + ", ".join(f"{k}: {v}" for k, v in lengths.items())
            + "."
        )
    if int(codes[2].max()) == 0:
        raise InvalidInputError(
            "`y` must take at least two distinct values; it is constant, so there is no "
            "information to decompose."
        )
    return codes[0], codes[1], codes[2]


def _trim(p: np.ndarray) -> np.ndarray:
    """Drop the values of each variable that have zero probability (the PID is unchanged)."""
    keep: Sequence[np.ndarray] = [
        p.sum(axis=tuple(a for a in range(3) if a != ax)) > 0 for ax in range(3)
    ]
    return p[np.ix_(*keep)]


def _small_sample_notes(
    n: int, shape: tuple[int, int, int], pairs: np.ndarray, mi_joint_bits: float
) -> list[str]:
    notes = []
    cells = shape[0] * shape[1] * shape[2]
    if n < MIN_SAMPLES_PER_CELL * cells:
        notes.append(
            f"only {n / cells:.2g} samples per joint cell ({n} samples, {cells} cells = "
            f"{shape[0]} x {shape[1]} x {shape[2]} values); the plug-in PID is biased below "
            f"{MIN_SAMPLES_PER_CELL} samples per cell. Use fewer values, more samples, or "
            "bias_correction='bootstrap'."
        )
    n_pairs = np.unique(pairs).size
    bias = (n_pairs - 1) * (shape[2] - 1) / (2 * n * math.log(2))
    if bias > NEGLIGIBLE_BIAS_BITS and bias > MAX_RELATIVE_BIAS * mi_joint_bits:
        notes.append(
            f"the expected plug-in bias of I(X1,X2;Y), about {bias:.3g} bits, is more than "
            f"{MAX_RELATIVE_BIAS:.0%} of the estimate ({mi_joint_bits:.3g} bits); the atoms may "
            "be dominated by bias."
        )
    return notes

