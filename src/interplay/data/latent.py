"""High-dimensional modalities built from discrete latent blocks with a known PID.

:func:`make_latent_blocks` draws independent uniform latent bits of four kinds,

* ``shared`` bits ``r`` seen by both modalities (redundancy),
* ``unique1`` bits ``u1`` seen only by X1 and ``unique2`` bits ``u2`` seen only by X2,
* ``synergy`` pairs ``(a_i, b_i)``, ``a_i`` seen by X1 and ``b_i`` by X2, of which the target
  holds only ``a_i XOR b_i`` (truly synergistic: neither bit alone says anything about it),

and sets the target to the tuple ``Y = (r, u1, u2, a XOR b)``, coded as one integer label.
Each modality's latent vector (its bits as +-1, then ``nuisance`` independent standard-normal
dimensions) is embedded into ``R^d`` by a random injective map and observed with Gaussian noise.

The true PID is that of the discrete latent system. The blocks are independent and BROJA's
atoms add over independent subsystems (as in :func:`~interplay.data.make_mixture`), so the
truth is the sum of the exact PIDs (:func:`interplay.pid`) of the four one-bit blocks: with
``flip = 0`` that is exactly ``shared``, ``unique1``, ``unique2`` and ``synergy`` bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_choice, check_float, check_int, check_random_state
from ..exceptions import InvalidInputError
from ..info.pid import ATOMS, pid
from .dataset import DatasetMetadata, MultimodalDataset

__all__ = ["NONLINEARITIES", "make_latent_blocks"]

NONLINEARITIES = ("mlp", "linear")
#: Residual layers of the random map for ``nonlinearity="mlp"``.
N_LAYERS = 3
#: Lipschitz constant of each residual branch; below 1 makes every layer a bijection of R^d.
RESIDUAL_GAIN = 0.9
#: The target label is an int64 in mixed radix; keep its bits well inside that.
MAX_TARGET_BITS = 30

_KEYS = (*ATOMS, "mi_joint", "mi_x1", "mi_x2")


def make_latent_blocks(
    n_samples: int,
    *,
    shared: int = 1,
    unique1: int = 1,
    unique2: int = 1,
    synergy: int = 1,
    dims: Sequence[int] = (16, 16),
    nuisance: int = 2,
    noise: float = 0.1,
    flip: float = 0.0,
    nonlinearity: str = "mlp",
    random_state: int | np.random.Generator | None = None,
) -> tuple[MultimodalDataset, dict[str, float]]:
    """Two continuous modalities whose PID about a discrete target is known.

    Latent system (all bits independent and uniform): X1 sees ``z1 = (r, u1, a)`` and X2 sees
    ``z2 = (r, u2, b)``, each bit flipped independently with probability ``flip`` on its way
    into a modality (so the two modalities see independent flips of ``r``). The target is the
    clean tuple ``Y = (r, u1, u2, a XOR b)``, coded as an integer in binary, first bit most
    significant: there are ``2 ** (shared + unique1 + unique2 + synergy)`` classes.

    Observations: ``X_i = f_i(2 z_i - 1, e_i) + noise * eps_i``, with ``e_i`` the ``nuisance``
    standard-normal dimensions, ``eps_i`` standard normal and ``f_i`` a random map into
    ``R^{d_i}``: a random linear embedding (orthonormal columns, so injective), followed for
    ``"mlp"`` by ``3`` residual layers ``h <- Q (h + 0.9 tanh(W h + c))`` with ``||W||_2 = 1``
    and ``Q`` a random rotation (each layer is a bijection of ``R^d``, its residual branch
    being a contraction), and standardised to unit variance per column.

    Truth, and when it holds: ``truth`` is the exact BROJA PID of ``(z1, z2, Y)``. Because
    ``f_i`` is injective and the nuisance is independent of everything, it is also the PID of
    ``(X1, X2, Y)`` exactly when ``noise = 0``. With ``noise > 0`` the observations hold less
    information (data processing inequality); the truth stays close while the noise is small
    against the distance between the images of different bit patterns (of order 1 for the
    standardised features), and is an upper bound on every mutual information otherwise.
    Flips keep the truth exact but make it non-integer: a flipped shared bit, for example, also
    creates some synergy (two noisy looks at one bit).

    Parameters
    ----------
    n_samples : int
        Number of samples (>= 1).
    shared, unique1, unique2, synergy : int
        Number of latent bits (pairs for ``synergy``) of each kind (>= 0); at least one must
        be positive and their sum at most 30.
    dims : (int, int)
        Dimensions ``(d1, d2)`` of the two modalities; ``d_i`` must be at least the latent size
        of modality i (its bits plus ``nuisance``) for the map to be injective.
    nuisance : int
        Independent standard-normal latent dimensions per modality, carrying no information.
    noise : float
        Standard deviation (>= 0) of the Gaussian noise added to each standardised feature.
    flip : float
        Probability in [0, 0.5] that a bit is flipped on its way into a modality.
    nonlinearity : {"mlp", "linear"}
        The random map: residual tanh layers, or the linear embedding alone.
    random_state : int, Generator or None
        Seed or generator; the same seed gives the same maps (whatever ``n_samples``) and the
        same samples.

    Returns
    -------
    dataset : MultimodalDataset
        Modalities ``"x1"`` (n_samples, d1) and ``"x2"`` (n_samples, d2), float64; target
        ``"y"`` (n_samples,) int64. ``metadata.extra`` holds the settings and the truth.
    truth : dict of str to float
        ``redundancy``, ``unique1``, ``unique2``, ``synergy``, ``mi_joint``, ``mi_x1`` and
        ``mi_x2`` in bits.

    Raises
    ------
    InvalidInputError
        Negative counts, no bits at all, more than 30 bits, ``dims`` not two integers large
        enough for the latent sizes, ``noise < 0``, ``flip`` outside [0, 0.5], an unknown
        ``nonlinearity``.

    Examples
    --------
    >>> ds, truth = make_latent_blocks(500, shared=1, unique1=0, unique2=2, synergy=1,
    ...                                random_state=0)
    >>> {k: round(v, 9) for k, v in truth.items() if k in ("redundancy", "unique2", "synergy")}
    {'redundancy': 1.0, 'unique2': 2.0, 'synergy': 1.0}
    >>> ds.modalities["x1"].shape, int(ds.target.max()) + 1 <= 16
    ((500, 16), True)
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    counts = {name: check_int(v, name, minimum=0) for name, v in (
        ("shared", shared), ("unique1", unique1), ("unique2", unique2), ("synergy", synergy))}
    total = sum(counts.values())
    if total == 0 or total > MAX_TARGET_BITS:
        raise InvalidInputError(
            f"`shared + unique1 + unique2 + synergy` must be between 1 and {MAX_TARGET_BITS} "
            f"bits, got {total}."
        )
    n_nuisance = check_int(nuisance, "nuisance", minimum=0)
    latent = (counts["shared"] + counts["unique1"] + counts["synergy"] + n_nuisance,
              counts["shared"] + counts["unique2"] + counts["synergy"] + n_nuisance)
    d1, d2 = _check_dims(dims, latent)
    sigma = check_float(noise, "noise", low=0.0)
    eps = check_float(flip, "flip", low=0.0, high=0.5)
    kind = check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    map_rng, rng = check_random_state(random_state).spawn(2)  # the maps do not depend on n_samples
    maps = [_random_map(m, d, kind, map_rng) for m, d in zip(latent, (d1, d2), strict=True)]

    bits = {name: rng.integers(0, 2, size=(n, k)) for name, k in (
        ("r", counts["shared"]), ("u1", counts["unique1"]), ("u2", counts["unique2"]),
        ("a", counts["synergy"]), ("b", counts["synergy"]))}
    y = _binary_label(np.hstack([bits["r"], bits["u1"], bits["u2"], bits["a"] ^ bits["b"]]))
    z1 = _flip(np.hstack([bits["r"], bits["u1"], bits["a"]]), eps, rng)
    z2 = _flip(np.hstack([bits["r"], bits["u2"], bits["b"]]), eps, rng)
    x1 = _observe(z1, n_nuisance, maps[0], sigma, rng)
    x2 = _observe(z2, n_nuisance, maps[1], sigma, rng)

    truth = latent_truth(**counts, flip=eps)
    params = {**counts, "n_samples": n, "dims": [d1, d2], "nuisance": n_nuisance,
              "noise": sigma, "flip": eps, "nonlinearity": kind}
    metadata = DatasetMetadata(
        name="latent-blocks",
        description=(
            "Two continuous modalities generated from independent latent bits: shared bits "
            "(redundant), bits seen by one modality (unique) and bit pairs whose XOR is in the "
            "target (synergistic); the target is the tuple of the relevant bits."
        ),
        source=f"interplay.data.make_latent_blocks({params})",
        licence="no restriction (synthetic)",
        modality_kinds={"x1": "embedding", "x2": "embedding"},
        extra={"params": params, "truth": truth},
    )
    dataset = MultimodalDataset({"x1": x1, "x2": x2}, targets={"y": y}, metadata=metadata)
    return dataset, truth


def latent_truth(
    shared: int, unique1: int, unique2: int, synergy: int, *, flip: float = 0.0
) -> dict[str, float]:
    """Exact BROJA PID (bits) of the latent system of :func:`make_latent_blocks`.

    The sum over blocks of :func:`interplay.pid` of each one-bit block's exact pmf; BROJA's
    atoms and the mutual informations add over independent subsystems. Raises
    :class:`~interplay.exceptions.ConvergenceError` if the solver misses its tolerance.
    """
    blocks = {"shared": shared, "unique1": unique1, "unique2": unique2, "synergy": synergy}
    truth = dict.fromkeys(_KEYS, 0.0)
    for name, count in blocks.items():
        if count:
            r = pid(_block_pmf(name, flip), "broja", on_failure="raise")  # never a wrong truth
            for key in _KEYS:
                truth[key] += count * max(float(getattr(r, key)), 0.0)
    return truth


def _block_pmf(kind: str, flip: float) -> np.ndarray:
    """``p[x1, x2, y]`` of one block; each bit reaching a modality is flipped w.p. ``flip``."""
    channel = np.array([[1 - flip, flip], [flip, 1 - flip]])  # channel[bit, seen]
    p = np.zeros((2, 2, 2))
    for s1 in range(2):  # the latent bit(s) of the block: s1 for X1's side, s2 for X2's
        for s2 in range(2):
            for o1 in range(2):
                for o2 in range(2):
                    if kind == "shared":
                        if s1 != s2:
                            continue
                        prob, y, seen1, seen2 = 0.5, s1, channel[s1, o1], channel[s1, o2]
                    elif kind == "unique1":
                        prob, y, seen1, seen2 = 0.25, s1, channel[s1, o1], float(o2 == s2)
                    elif kind == "unique2":
                        prob, y, seen1, seen2 = 0.25, s2, float(o1 == s1), channel[s2, o2]
                    else:  # synergy
                        prob, y, seen1, seen2 = 0.25, s1 ^ s2, channel[s1, o1], channel[s2, o2]
                    p[o1, o2, y] += prob * seen1 * seen2
    return p


def _check_dims(dims: Any, latent: tuple[int, int]) -> tuple[int, int]:
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence) or len(dims) != 2:
        raise InvalidInputError(f"`dims` must be a pair of integers (d1, d2), got {dims!r}.")
    out = tuple(check_int(d, f"dims[{i}]", minimum=1) for i, d in enumerate(dims))
    for i, (d, m) in enumerate(zip(out, latent, strict=True)):
        if d < m:
            raise InvalidInputError(
                f"`dims[{i}]` must be at least the latent size of x{i + 1} ({m}: its bits plus "
                f"`nuisance`) so that the map is injective, got {d}."
            )
    return out[0], out[1]


def _binary_label(bits: np.ndarray) -> np.ndarray:
    weights = 2 ** np.arange(bits.shape[1] - 1, -1, -1, dtype=np.int64)
    return bits.astype(np.int64) @ weights


def _flip(bits: np.ndarray, prob: float, rng: np.random.Generator) -> np.ndarray:
    return bits ^ (rng.random(bits.shape) < prob) if prob > 0 else bits


def _random_map(m: int, d: int, kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Parameters of a random injective map ``R^m -> R^d``: the embedding, then per residual
    layer ``(W, c, Q)`` with ``||W||_2 = 1`` and ``Q`` a rotation."""
    params = [_orthonormal(d, m, rng)]
    for _ in range(N_LAYERS if kind == "mlp" else 0):
        w = rng.standard_normal((d, d))
        params += [w / np.linalg.norm(w, 2), rng.uniform(-1.0, 1.0, size=d),
                   _orthonormal(d, d, rng)]
    return params


def _observe(bits: np.ndarray, nuisance: int, params: list[np.ndarray], noise: float,
             rng: np.random.Generator) -> np.ndarray:
    """``f(2 bits - 1, nuisance) + noise * eps``, ``f`` given by :func:`_random_map`,
    standardised per column."""
    z = np.hstack([2.0 * bits - 1.0, rng.standard_normal((bits.shape[0], nuisance))])
    h = z @ params[0].T
    for w, c, q in zip(params[1::3], params[2::3], params[3::3], strict=True):
        h = (h + RESIDUAL_GAIN * np.tanh(h @ w.T + c)) @ q.T
    h = (h - h.mean(axis=0)) / np.where(h.std(axis=0) > 0, h.std(axis=0), 1.0)
    return h + noise * rng.standard_normal(h.shape) if noise > 0 else h


def _orthonormal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A ``rows x cols`` matrix with orthonormal columns (``rows >= cols``), Haar-distributed."""
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    return q * np.sign(np.diag(r))
