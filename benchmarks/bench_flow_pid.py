"""Flow-PID against the copula and raw Gaussian PIDs on Gaussian oracles behind invertible maps.

Each system is a Gaussian oracle with a closed-form PID whose variables are pushed through
invertible maps, so the true PID is unchanged:

* ``scalar`` (d = 1): O1 noisy copies (rho = 0.5) through ``sinh(2 x1)``, ``x2^3``, ``exp(y)``.
  Per-column monotone maps: the copula undoes them exactly.
* ``mixing`` (d = 2, 4): O4 doubling system (vector target, MMI wrong) with every pair of
  coordinates ``(a, b)`` of each variable mapped to ``(a, b + 0.8 (a^2 - 1))``. No per-column
  map undoes this, so the copula PID is biased; a flow can.

Columns: the largest absolute atom error (bits) of each estimator against the closed form, the
same for the Gaussian PID of the *unmapped* samples ("clean": the sampling error floor at this
n), the flow's wall time and epochs. One thread; run

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_flow_pid.py \\
        --out benchmarks/results/flow_pid.md
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

import numpy as np
import torch

from interplay.data.gaussian import doubling_system, noisy_copies, sample_gaussian
from interplay.info.estimate.copula import copula_pid
from interplay.info.pid.gaussian import gaussian_pid_from_samples
from interplay.neural.flow import flow_pid
from interplay.training.checkpoint import atomic_write

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


def _mix(u: np.ndarray, beta: float = 0.8) -> np.ndarray:
    out = u.copy()
    out[:, 1::2] += beta * (u[:, 0::2] ** 2 - 1)
    return out


def _system(name: str, d: int, n: int, seed: int):
    if name == "scalar":
        system = noisy_copies(0.5)
        x1, x2, y = sample_gaussian(system, n, random_state=seed)
        return system, (x1, x2, y), (np.sinh(2 * x1), x2**3, np.exp(y))
    system = doubling_system(d // 2)
    clean = sample_gaussian(system, n, random_state=seed)
    return system, clean, tuple(_mix(v) for v in clean)


def _error(result, truth) -> float:
    return max(abs(result.atoms[a] - truth[a]) for a in ATOMS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", type=int, nargs="+", default=[2000, 5000, 20000])
    parser.add_argument("--cases", nargs="+", default=["scalar:1", "mixing:2", "mixing:4"])
    parser.add_argument("--flow", default="spline", choices=["spline", "affine"])
    parser.add_argument("--transforms", type=int, default=3)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="torch device of the flows")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    opts = {"flow": args.flow, "transforms": args.transforms, "hidden": tuple(args.hidden),
            "batch_size": args.batch_size, "lr": args.lr, "max_epochs": args.max_epochs,
            "random_state": args.seed, "progress": False, "device": args.device}
    lines = [
        f"# Flow-PID benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
        f"one torch thread, device {args.device}",
        "",
        "Command: `OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_flow_pid.py "
        + " ".join(sys.argv[1:]) + "`",
        "",
        f"Flow options: {opts}. Errors: largest |atom - truth| in bits. \"clean Gaussian\": "
        "the Gaussian PID of the same samples before the maps (the sampling-error floor). "
        "Mardia z: multivariate-kurtosis z-score of the held-out (x1, y) / (x2, y) pairs "
        "before and after the flows (about N(0, 1) when Gaussian).",
        "",
        "| system | d | n | clean Gaussian | raw Gaussian | copula | flow | flow s | epochs "
        "(best) | Mardia z before -> after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in args.cases:
        name, d = case.split(":")
        for n in args.ns:
            system, clean, data = _system(name, int(d), n, args.seed + n)
            t = time.perf_counter()
            flow = flow_pid(*data, **opts)
            seconds = time.perf_counter() - t
            fit = flow.settings["fit"]
            g = fit["gaussianity"]
            mardia = " / ".join(f"{g['before']['mardia_z'][p]:.1f} -> "
                                f"{g['after']['mardia_z'][p]:.1f}" for p in ("x1_y", "x2_y"))
            row = (f"| {name} | {d} | {n} | "
                   f"{_error(gaussian_pid_from_samples(*clean), system.truth):.3f} | "
                   f"{_error(gaussian_pid_from_samples(*data), system.truth):.3f} | "
                   f"{_error(copula_pid(*data), system.truth):.3f} | "
                   f"{_error(flow, system.truth):.3f} | {seconds:.1f} | "
                   f"{fit['epochs']} ({fit['best_epoch']}) | {mardia} |")
            print(row, flush=True)
            lines.append(row)
            if args.out:
                text = "\n".join(lines) + "\n"
                atomic_write(args.out, lambda fh, text=text: fh.write(text.encode()))


if __name__ == "__main__":
    main()
