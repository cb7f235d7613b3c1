"""Write src/interplay/data/bundled/gates.csv, used by `interplay quantify --example gates`.

Three fair bits s, a, b. The first modality sees ``x1 = 2*s + a``, the second ``x2 = 2*s + b``
(both see the shared bit s), and the target is ``y = 3*s + (a + b)``: the shared bit plus the
arithmetic "sum" gate of a and b (equivalently the pair XOR(a, b), AND(a, b)). With probability
0.05 a row's y is replaced by a uniformly random value from 0..5.

Without the noise the BROJA PID is known exactly: s gives 1 bit of redundancy, the sum gate gives
0.5 bit of redundancy and 1 bit of synergy, so R = 1.5, U1 = U2 = 0, S = 1 bit (the sum gate's
values are in Bertschinger et al. 2014 and dit's canonical `sum` distribution). With the noise,
the exact BROJA PID of the generating distribution is R = 1.264, U1 = U2 = 0, S = 0.898 bit
(I(X1,X2;Y) = 2.162 bits); the tests check the bundled samples against it.

Run once from the repository root: ``python benchmarks/make_bundled_gates.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

N_SAMPLES = 2000
NOISE = 0.05
SEED = 20240601
OUT = Path(__file__).resolve().parents[1] / "src" / "interplay" / "data" / "bundled" / "gates.csv"


def make_gates(n: int = N_SAMPLES, noise: float = NOISE, seed: int = SEED) -> pd.DataFrame:
    """The shared-bit-plus-sum-gate samples as a DataFrame with integer columns x1, x2, y."""
    rng = np.random.default_rng(seed)
    s, a, b = (rng.integers(0, 2, n) for _ in range(3))
    y = 3 * s + a + b
    replaced = rng.random(n) < noise
    y[replaced] = rng.integers(0, 6, int(replaced.sum()))
    return pd.DataFrame({"x1": 2 * s + a, "x2": 2 * s + b, "y": y})


if __name__ == "__main__":
    make_gates().to_csv(OUT, index=False)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
