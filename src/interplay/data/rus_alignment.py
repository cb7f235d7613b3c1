"""The redundancy/uniqueness/heterogeneity benchmark of Tjandrasuwita et al. (ICML 2025).

Two modalities share binary latents and each has private ones; the label depends on ``r``
shared bits and ``8 - r`` private bits, so the task-relevant uniqueness is ``U = 8 - r``. One
modality is passed through a fixed random tanh network of chosen depth (the heterogeneity).
Implemented from the paper's description; every information quantity is computed exactly by
enumerating the label-relevant latents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError
from ..info.measures import co_information, mutual_information

#: Label-relevant bits in total (shared + unique), as in the paper.
LABEL_BITS = 8


@dataclass(frozen=True)
class RUSAlignment:
    """Samples of the two modalities and the label, with the exact information quantities.

    Attributes
    ----------
    x1 : ndarray of shape (n_samples, shared_bits + unique_bits)
        Modality 1: the shared and its private bits, as -1/+1 (not transformed).
    x2 : ndarray of shape (n_samples, shared_bits + unique_bits)
        Modality 2: the shared and its private bits through the random tanh network of
        ``depth`` hidden layers (at depth 0, one random linear map).
    y : ndarray of shape (n_samples,)
        Class labels in ``{0, ..., n_classes - 1}``.
    latents : dict of str to ndarray
        ``"shared"``, ``"unique1"``, ``"unique2"``: the 0/1 latent bits of every sample.
    info : dict of str to float
        Exact, in bits: ``I(X1;Y)``, ``I(X2;Y)``, ``I(X1,X2;Y)``, ``I(X1;X2)``,
        ``coinformation`` = I(X1;X2;Y), and the PID atoms ``redundancy``, ``unique1``,
        ``unique2``, ``synergy`` of the label about the two modalities (``pid_method``).
    pmf : ndarray of shape (n_z1, n_z2, n_classes)
        Exact joint distribution of the label-relevant parts of the two modalities and Y
        (the rest of each modality is independent of everything and carries no information).
    params : dict
    """

    x1: np.ndarray
    x2: np.ndarray
    y: np.ndarray
    latents: dict[str, np.ndarray]
    info: dict[str, float]
    pmf: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)


def _label_table(n_classes: int, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """p(y | z) for the 2^8 label-relevant bit patterns z, rescaled until p(y) is uniform."""
    w = rng.uniform(0.0, 1.0, size=(LABEL_BITS, n_classes))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    z = (np.arange(2**LABEL_BITS)[:, None] >> np.arange(LABEL_BITS)[::-1]) & 1
    logits = z @ w / temperature
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    for _ in range(1000):  # iterative proportional fitting of the class marginal
        p *= (1.0 / n_classes) / p.mean(axis=0)
        p /= p.sum(axis=1, keepdims=True)
        if np.max(np.abs(p.mean(axis=0) - 1.0 / n_classes)) < 1e-12:
            break
    return p


def _tanh_network(d: int, depth: int, gain: float, rng: np.random.Generator
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rng.normal(0.0, gain / np.sqrt(d), size=(d, d)), rng.normal(0.0, 0.1, size=d))
            for _ in range(depth + 1)]


def _apply(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    h = x
    for i, (w, b) in enumerate(layers):
        if i > 0:
            h = np.tanh(h)
        h = h @ w + b
    return h


def make_rus_alignment(
    n_samples: int,
    *,
    redundancy: int = 4,
    depth: int = 0,
    shared_bits: int = 8,
    unique_bits: int = 4,
    n_classes: int = 4,
    temperature: float = 0.05,
    gain: float = 1.5,
    pid_method: str = "mmi",
    random_state: int | np.random.Generator | None = None,
    data_seed: int | None = None,
) -> RUSAlignment:
    """Two binary modalities with set redundancy and uniqueness, and heterogeneity by depth.

    Latents: shared bits ``c`` (``shared_bits``) and private bits ``u1``, ``u2``
    (``unique_bits`` each), all uniform and independent. ``x1 = [c, u1]`` and ``x2 = [c, u2]``.
    The label reads ``redundancy`` bits of ``c``, ``(8 - redundancy) // 2`` bits of ``u1`` and
    the rest of the 8 from ``u2``: ``p(y | z) = softmax(z W / temperature)`` with ``W`` of
    shape ``(8, n_classes)`` drawn uniformly, rows normalised, then rescaled until the classes
    are balanced. ``x2`` goes through a fixed random network ``Linear`` then ``depth`` x
    [``tanh``, ``Linear``] (weights ``N(0, gain²/d)``); ``x1`` stays as -1/+1 bits.

    Parameters
    ----------
    n_samples : int
        Samples to draw (the latents uniformly at random, the label from ``p(y | z)``).
    redundancy : int in [0, 8]
        Shared label bits ``r``; the label-relevant uniqueness is ``U = 8 - r``.
    depth : int >= 0
        Hidden tanh layers of the transformation of modality 2 (the paper's ``D_phi``).
    shared_bits, unique_bits : int
        Latent bits per group; they must cover the label's needs
        (``shared_bits >= r``, ``unique_bits >= 8 - r - (8 - r) // 2``).
    n_classes : int
    temperature : float
        Softmax temperature of the label (0.05 in the paper).
    gain : float
        Scale of the random network's weights; > 1 keeps the tanh layers nonlinear.
    pid_method : {"mmi", "broja"}
        PID measure for ``info``, computed on the enumerated distribution: ``"mmi"``
        (redundancy = min(I(X1;Y), I(X2;Y)), instant) or ``"broja"`` (exact solve; seconds up to
        ``redundancy=5``, minutes from 6 on, where the table has 2^14 to 2^16 cells).
    random_state : int, Generator or None
        Seed of the task: the label weights, which bits are read and the network.
    data_seed : int, optional
        Seed of the samples (default: drawn from ``random_state``), so that several sample
        draws share one task.

    Returns
    -------
    RUSAlignment

    Examples
    --------
    >>> d = make_rus_alignment(1000, redundancy=8, random_state=0)
    >>> round(d.info["I(X1;Y)"] - d.info["I(X1,X2;Y)"], 12), d.info["I(X1;X2)"]
    (0.0, 8.0)
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    r = check_int(redundancy, "redundancy", minimum=0)
    if r > LABEL_BITS:
        raise InvalidInputError(f"`redundancy` must be in [0, {LABEL_BITS}], got {r}.")
    dep = check_int(depth, "depth", minimum=0)
    sb = check_int(shared_bits, "shared_bits", minimum=0)
    ub = check_int(unique_bits, "unique_bits", minimum=0)
    k = check_int(n_classes, "n_classes", minimum=2)
    temp = check_float(temperature, "temperature", low=0.0, low_open=True)
    g = check_float(gain, "gain", low=0.0, low_open=True)
    check_choice(pid_method, "pid_method", ("broja", "mmi"))
    n_u1 = (LABEL_BITS - r) // 2
    n_u2 = LABEL_BITS - r - n_u1
    if sb < r or ub < n_u2 or sb + ub == 0:
        raise InvalidInputError(
            f"redundancy={r} needs shared_bits >= {r} and unique_bits >= {n_u2}; got "
            f"shared_bits={sb}, unique_bits={ub}."
        )
    task = np.random.default_rng(random_state)
    table = _label_table(k, temp, task)
    red = np.sort(task.choice(sb, size=r, replace=False))
    sel1 = np.sort(task.choice(ub, size=n_u1, replace=False))
    sel2 = np.sort(task.choice(ub, size=n_u2, replace=False))
    network = _tanh_network(sb + ub, dep, g, task)
    rng = np.random.default_rng(task.integers(2**63) if data_seed is None else data_seed)

    c = rng.integers(0, 2, size=(n, sb))
    u1 = rng.integers(0, 2, size=(n, ub))
    u2 = rng.integers(0, 2, size=(n, ub))
    z = np.concatenate([c[:, red], u1[:, sel1], u2[:, sel2]], axis=1)
    code = z @ (1 << np.arange(LABEL_BITS)[::-1])
    cum = np.cumsum(table[code], axis=1)
    y = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), k - 1)
    x1 = 2.0 * np.concatenate([c, u1], axis=1) - 1.0
    x2 = _apply(network, 2.0 * np.concatenate([c, u2], axis=1) - 1.0)

    pmf = _relevant_pmf(table, r, n_u1, n_u2)
    info = _information(pmf, pid_method)
    info["I(X1;X2)"] = float(sb)  # the shared bits; the random network is injective
    params = {"n_samples": n, "redundancy": r, "uniqueness": LABEL_BITS - r, "depth": dep,
              "shared_bits": sb, "unique_bits": ub, "n_classes": k, "temperature": temp,
              "gain": g, "pid_method": pid_method, "label_shared": red.tolist(),
              "label_unique1": sel1.tolist(), "label_unique2": sel2.tolist()}
    return RUSAlignment(x1=x1, x2=x2, y=y.astype(np.int64),
                        latents={"shared": c, "unique1": u1, "unique2": u2}, info=info,
                        pmf=pmf, params=params)


def _relevant_pmf(table: np.ndarray, r: int, n_u1: int, n_u2: int) -> np.ndarray:
    """p(z1, z2, y) with z1 = (shared label bits, unique1 bits), z2 = (shared, unique2)."""
    codes = np.arange(2**LABEL_BITS)
    shared = codes >> (n_u1 + n_u2)
    a = (codes >> n_u2) & ((1 << n_u1) - 1)
    b = codes & ((1 << n_u2) - 1)
    z1 = (shared << n_u1) | a
    z2 = (shared << n_u2) | b
    pmf = np.zeros((2 ** (r + n_u1), 2 ** (r + n_u2), table.shape[1]))
    np.add.at(pmf, (z1, z2), table / 2**LABEL_BITS)
    return pmf


def _information(pmf: np.ndarray, method: str) -> dict[str, float]:
    from ..info.pid import pid

    nz1 = np.flatnonzero(pmf.sum(axis=(1, 2)))
    nz2 = np.flatnonzero(pmf.sum(axis=(0, 2)))
    compact = pmf[np.ix_(nz1, nz2)]
    result = pid(compact, method)
    return {
        "I(X1;Y)": mutual_information(compact, 0, 2),
        "I(X2;Y)": mutual_information(compact, 1, 2),
        "I(X1,X2;Y)": mutual_information(compact, (0, 1), 2),
        "coinformation": co_information(compact, 0, 1, 2),
        "redundancy": float(result.redundancy),
        "unique1": float(result.unique1),
        "unique2": float(result.unique2),
        "synergy": float(result.synergy),
    }
