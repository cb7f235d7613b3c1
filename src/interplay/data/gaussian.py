"""Jointly Gaussian systems (X1, X2, Y) with known partial information decompositions.

Every generator returns a :class:`GaussianSystem`: a covariance ordered X1, X2, Y, the block
sizes, and, where it is known in closed form, the true PID in bits. The cases are the oracles of
the Gaussian PID literature (Barrett 2015; Venkatesh et al. 2023):

* :func:`noisy_copies` -- both sources see Y through correlated noise (redundancy + synergy);
* :func:`unique_with_correlated_noise` -- only X1 sees Y, X2's noise is correlated with X1's
  (unique + synergy);
* :func:`markov_chain` -- Y -> X1 -> X2 (unique + redundancy; ``noise_var=0`` makes X2 = X1);
* :func:`doubling_system` -- k independent copies of a 2-D system, randomly rotated within each
  variable, where the vector target makes MMI wrong (additivity);
* :func:`scalar_target_system` -- random sources with a scalar target, where BROJA = MMI;
* :func:`wishart_system` -- a random covariance ``G G^T`` without a closed form (for invariances
  and solver agreement);
* :func:`sample_gaussian` -- draws from any of them (for bias-correction checks).

Examples
--------
>>> s = noisy_copies(0.5)
>>> s.sizes, round(s.truth["synergy"], 5)
((1, 1, 1), 0.1112)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_float, check_int
from ..exceptions import InvalidInputError

__all__ = [
    "GaussianSystem",
    "doubling_system",
    "markov_chain",
    "noisy_copies",
    "sample_gaussian",
    "scalar_target_system",
    "unique_with_correlated_noise",
    "wishart_system",
]


@dataclass(frozen=True)
class GaussianSystem:
    """A Gaussian (X1, X2, Y) system.

    Attributes
    ----------
    cov : ndarray of shape (d1 + d2 + dy, d1 + d2 + dy)
        Covariance ordered X1, X2, Y.
    sizes : (d1, d2, dy)
        Block sizes.
    truth : dict or None
        True ``redundancy``, ``unique1``, ``unique2``, ``synergy``, ``mi_joint``, ``mi_x1`` and
        ``mi_x2`` in bits, or None where no closed form is known.
    name : str
        Which oracle this is.
    """

    cov: np.ndarray
    sizes: tuple[int, int, int]
    truth: dict[str, float] | None = None
    name: str = ""
    params: dict[str, float] = field(default_factory=dict)


def _truth(r: float, i1: float, i2: float, i12: float) -> dict[str, float]:
    return {"redundancy": r, "unique1": i1 - r, "unique2": i2 - r,
            "synergy": i12 - i1 - i2 + r, "mi_joint": i12, "mi_x1": i1, "mi_x2": i2}


def _channel_cov(h1: np.ndarray, h2: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Covariance of (X1, X2, Y) for Xi = Hi Y + Ni, Cov(Y) = I, Cov(N1, N2) = ``noise``."""
    h = np.vstack([h1, h2])
    dy = h.shape[1]
    top = np.hstack([h @ h.T + noise, h])
    bottom = np.hstack([h.T, np.eye(dy)])
    return np.vstack([top, bottom])


def _half_log2(x: float) -> float:
    return 0.5 * math.log2(x)


def noisy_copies(rho: float = 0.0) -> GaussianSystem:
    """O1: ``X1 = Y + N1``, ``X2 = Y + N2``, unit variances, ``corr(N1, N2) = rho``.

    R = 1/2 bit, no unique information, S = 1/2 log2((3 + rho) / (2 (1 + rho))). With ``rho``
    near 1 the sources are almost copies (a regression case for solvers that produce NaN there).
    """
    rho = check_float(rho, "rho", low=-1.0, high=1.0, low_open=True, high_open=True)
    cov = _channel_cov(np.ones((1, 1)), np.ones((1, 1)), np.array([[1.0, rho], [rho, 1.0]]))
    i12 = _half_log2((3 + rho) / (1 + rho))
    return GaussianSystem(cov, (1, 1, 1), _truth(0.5, 0.5, 0.5, i12), "noisy_copies",
                          {"rho": rho})


def unique_with_correlated_noise(rho: float = 0.5) -> GaussianSystem:
    """O2: ``X1 = Y + N1``, ``X2 = N2`` (no signal), ``corr(N1, N2) = rho``.

    U1 = 1/2 bit, R = U2 = 0, S = 1/2 log2(1 + 1 / (1 - rho^2)) - 1/2.
    """
    rho = check_float(rho, "rho", low=-1.0, high=1.0, low_open=True, high_open=True)
    cov = _channel_cov(np.ones((1, 1)), np.zeros((1, 1)), np.array([[1.0, rho], [rho, 1.0]]))
    i12 = _half_log2(1 + 1 / (1 - rho**2))
    return GaussianSystem(cov, (1, 1, 1), _truth(0.0, 0.5, 0.0, i12),
                          "unique_with_correlated_noise", {"rho": rho})


def markov_chain(noise_var: float = 1.0) -> GaussianSystem:
    """O3: ``X1 = Y + N(0, 1)``, ``X2 = X1 + N(0, noise_var)``: Y -> X1 -> X2.

    R = I(X2;Y) = 1/2 log2(1 + 1/(1 + noise_var)), U1 = 1/2 - R, U2 = S = 0. ``noise_var=0``
    makes X2 an exact copy of X1 (a singular covariance; fully redundant sources).
    """
    v = check_float(noise_var, "noise_var", low=0.0)
    cov = np.array([[2.0, 2.0, 1.0], [2.0, 2.0 + v, 1.0], [1.0, 1.0, 1.0]])
    i2 = _half_log2(1 + 1 / (1 + v))
    return GaussianSystem(cov, (1, 1, 1), _truth(i2, 0.5, i2, 0.5), "markov_chain",
                          {"noise_var": v})


def _random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _scalar_mmi(a: float, b: float) -> tuple[float, float, float, float]:
    """(R, I1, I2, I12) in bits for X1 = a Y + N1, X2 = b Y + N2, independent unit noises."""
    i1, i2 = _half_log2(1 + a * a), _half_log2(1 + b * b)
    return min(i1, i2), i1, i2, _half_log2(1 + a * a + b * b)


def doubling_system(k: int = 1, gain: float = 2.0, *, random_state: int | None = 0
                    ) -> GaussianSystem:
    """O4: ``k`` independent copies of a 2-D system, rotated randomly within X1, X2 and Y.

    The base system is ``X1 = diag(gain, 1) Y + N1``, ``X2 = diag(1, sqrt(2)) Y + N2`` with
    independent unit noises: two scalar subsystems, so the true PID is the sum of their MMI
    PIDs, times ``k``. For ``gain > 1`` each source dominates in a different subsystem and MMI
    (one PID on the whole vector target) is wrong. Dimensions: ``d1 = d2 = dy = 2k``. With
    ``gain=2`` and ``k=50`` the truth is R = 50, U1 = 33.048, U2 = 14.624, S = 16.952 bits.
    """
    k = check_int(k, "k", minimum=1)
    gain = check_float(gain, "gain", low=0.0)
    rng = np.random.default_rng(random_state)
    d = 2 * k
    g1 = np.tile([gain, 1.0], k)
    g2 = np.tile([1.0, math.sqrt(2.0)], k)
    qy, q1, q2 = (_random_orthogonal(d, rng) for _ in range(3))
    h1 = q1 @ (g1[:, None] * qy.T)
    h2 = q2 @ (g2[:, None] * qy.T)
    cov = _channel_cov(h1, h2, np.eye(2 * d))
    parts = [_scalar_mmi(gain, 1.0), _scalar_mmi(1.0, math.sqrt(2.0))]
    r, i1, i2, i12 = (k * sum(p[j] for p in parts) for j in range(4))
    return GaussianSystem(cov, (d, d, d), _truth(r, i1, i2, i12), "doubling",
                          {"k": k, "gain": gain})


def _gauss_mi_bits(cov: np.ndarray, ia: slice, ib: slice) -> float:
    idx = np.r_[np.arange(cov.shape[0])[ia], np.arange(cov.shape[0])[ib]]
    sub = cov[np.ix_(idx, idx)]
    da = len(np.arange(cov.shape[0])[ia])
    la = np.linalg.slogdet(sub[:da, :da])[1]
    lb = np.linalg.slogdet(sub[da:, da:])[1]
    return 0.5 * (la + lb - np.linalg.slogdet(sub)[1]) / math.log(2)


def wishart_system(d1: int, d2: int, dy: int, *, random_state: int | None = 0) -> GaussianSystem:
    """A random covariance ``G G^T`` with ``G`` standard normal of side d1 + d2 + dy (no truth)."""
    d1, d2, dy = (check_int(v, n, minimum=1) for v, n in ((d1, "d1"), (d2, "d2"), (dy, "dy")))
    rng = np.random.default_rng(random_state)
    n = d1 + d2 + dy
    g = rng.standard_normal((n, n))
    return GaussianSystem(g @ g.T, (d1, d2, dy), None, "wishart")


def scalar_target_system(d1: int, d2: int, *, random_state: int | None = 0) -> GaussianSystem:
    """O5: a random covariance with a scalar target; the truth is MMI (Barrett 2015)."""
    sys = wishart_system(d1, d2, 1, random_state=random_state)
    cov = sys.cov
    i1 = _gauss_mi_bits(cov, slice(0, d1), slice(d1 + d2, None))
    i2 = _gauss_mi_bits(cov, slice(d1, d1 + d2), slice(d1 + d2, None))
    i12 = _gauss_mi_bits(cov, slice(0, d1 + d2), slice(d1 + d2, None))
    return GaussianSystem(cov, (d1, d2, 1), _truth(min(i1, i2), i1, i2, i12), "scalar_target")


def sample_gaussian(system: GaussianSystem, n_samples: int, *, random_state: int | None = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n_samples`` zero-mean samples of (X1, X2, Y) from a system's covariance."""
    if not isinstance(system, GaussianSystem):
        raise InvalidInputError(f"`system` must be a GaussianSystem, got {type(system).__name__}.")
    n = check_int(n_samples, "n_samples", minimum=1)
    rng = np.random.default_rng(random_state)
    w, v = np.linalg.eigh(system.cov)
    z = rng.standard_normal((n, len(w))) @ (v * np.sqrt(np.clip(w, 0, None))).T
    d1, d2, _ = system.sizes
    return z[:, :d1], z[:, d1:d1 + d2], z[:, d1 + d2:]
