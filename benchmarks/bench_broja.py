"""BROJA solver against dit `cone` (ECOS) and cvxpy + Clarabel, side by side.

Each (solver, k, seed) runs in its own process with one BLAS thread under a timeout, on the
random joints of the research note (Dirichlet(1) over k^3 cells, generator
``default_rng(1000 * k + seed)``). Every solver's imports happen before the timed solve
(interplay's lazily loaded ones through a solve of another table). Prints a markdown table
of median wall and CPU seconds of the solve (the process's own CPU time, which a busy
machine disturbs less than wall time),
our speed-up over each anchor in CPU time, and the largest atom disagreement (bits).

    python benchmarks/bench_broja.py --sizes 2 4 8 16 32 --seeds 3 --timeout 300
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKER = r"""
import json, os, sys, time
import numpy as np
k, seed, solver = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
p = np.random.default_rng(1000 * k + seed).dirichlet(np.ones(k ** 3)).reshape(k, k, k)
if solver == "interplay":
    from interplay import pid
    # load what interplay imports on first use (both solver paths), as the anchors' imports
    pid(np.random.default_rng(0).dirichlet(np.ones(216)).reshape(6, 6, 6))
    t, c = time.perf_counter(), time.process_time(); r = pid(p)
    t, c = time.perf_counter() - t, time.process_time() - c
    atoms = [r.redundancy, r.unique1, r.unique2, r.synergy]
elif solver == "dit-cone":
    import dit
    from dit.pid import PID_BROJA
    d = dit.Distribution.from_ndarray(p)
    t, c = time.perf_counter(), time.process_time()
    r = PID_BROJA(d, ((0,), (1,)), (2,), method="cone")
    t, c = time.perf_counter() - t, time.process_time() - c
    atoms = [r.get_pi(((0,), (1,))), r.get_pi(((0,),)), r.get_pi(((1,),)), r.get_pi(((0, 1),))]
else:  # cvxpy + Clarabel, the BROJA program as a plain conic model
    import cvxpy as cp
    from interplay.info.pid.base import marginal_mis
    t, c = time.perf_counter(), time.process_time()
    qs = [cp.Variable((k, k), nonneg=True) for _ in range(k)]
    cons = []
    for y in range(k):
        cons += [cp.sum(qs[y], axis=1) == p[:, :, y].sum(1),
                 cp.sum(qs[y], axis=0) == p[:, :, y].sum(0)]
    tot = sum(qs)
    prob = cp.Problem(cp.Minimize(sum(cp.sum(cp.rel_entr(qs[y], tot)) for y in range(k))), cons)
    prob.solve(solver="CLARABEL")
    t, c = time.perf_counter() - t, time.process_time() - c
    i1, i2, i12 = marginal_mis(p)
    py = p.sum((0, 1)); hy = -(py * np.log(py)).sum()
    v = hy + prob.value
    r = i1 + i2 - v
    atoms = [x / np.log(2) for x in (r, i1 - r, i2 - r, i12 - v)]
print(json.dumps({"seconds": t, "cpu": c, "atoms": [float(a) for a in atoms]}))
"""


def run(k: int, seed: int, solver: str, timeout: float) -> dict | None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", WORKER, str(k), str(seed), solver],
            capture_output=True, text=True, timeout=timeout, env=env, check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        last = exc.stderr.strip().splitlines()[-1:]
        print(f"# {solver} k={k} seed={seed} failed: {last}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--anchors", nargs="*", default=["dit-cone", "clarabel"])
    args = ap.parse_args()
    print(f"# BROJA benchmark, {time.strftime('%Y-%m-%d %H:%M')}, one BLAS thread, "
          f"timeout {args.timeout:g} s")
    print("| k (cells) | interplay s (cpu s) | "
          + " | ".join(f"{a} s (cpu s) | speed-up (cpu) | max Δ bits" for a in args.anchors) + " |")
    print("|---|---|" + "---|---|---|" * len(args.anchors))
    for k in args.sizes:
        ours = [run(k, s, "interplay", args.timeout) for s in range(args.seeds)]
        ok = [o for o in ours if o]
        t_ours = statistics.median(o["seconds"] for o in ok) if ok else float("nan")
        c_ours = statistics.median(o["cpu"] for o in ok) if ok else float("nan")
        cells = [f"{k} ({k ** 3})", f"{t_ours:.3f} ({c_ours:.3f})" if ok else f"> {args.timeout:g}"]
        for anchor in args.anchors:
            res = [run(k, s, anchor, args.timeout) for s in range(args.seeds)]
            pairs = [(o, r) for o, r in zip(ours, res, strict=True) if o and r]
            if not pairs:
                bound = f"> {args.timeout / c_ours:.0f}x" if ok else "-"
                cells += [f"> {args.timeout:g} (timed out)", bound, "-"]
                continue
            t_a = statistics.median(r["seconds"] for _, r in pairs)
            c_a = statistics.median(r["cpu"] for _, r in pairs)
            delta = max(abs(a - b) for o, r in pairs
                        for a, b in zip(o["atoms"], r["atoms"], strict=True))
            cells += [f"{t_a:.3f} ({c_a:.3f})", f"{c_a / c_ours:.1f}x", f"{delta:.1e}"]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
