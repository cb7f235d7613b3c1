"""Alignment metrics at scale, each beside the bare products it cannot avoid, in one run.

* mutual-kNN at n samples, d features, k neighbours: ``interplay.alignment.mutual_knn`` against
  the two chunked similarity products ``x[block] @ x.T`` over all blocks (same blocks, same
  dtype, nothing else done): the floor for any exact method.
* debiased linear CKA at n x d: ``cka(a, b, debiased=True)`` against the three d x d Gram
  products ``aᵀb``, ``aᵀa``, ``bᵀb`` on the same arrays.

Every measurement runs in a fresh child process, so the peak resident memory reported (from
``resource.getrusage``, which includes Python, numpy and the input arrays) is that task's own.
The anchors (platonic-rep's ``mutual_knn`` / ``unbiased_cka``) build the full n x n matrix:
40 GB at n = 10^5 in float32, so they cannot run here at all.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 nice -n 10 python \\
        benchmarks/bench_alignment_scale.py --out benchmarks/results/alignment_scale.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def _data(n: int, d: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, d)).astype(dtype)
    b = (a @ rng.standard_normal((d, d)).astype(dtype) / np.sqrt(d)
         + rng.standard_normal((n, d)).astype(dtype))
    return a, b


def _child(task: str, n: int, d: int, k: int, dtype: str) -> dict[str, float]:
    from interplay.alignment import cka, mutual_knn
    from interplay.alignment.knn import DEFAULT_BLOCK_BYTES
    from interplay.alignment.preprocess import _unit_rows

    a, b = _data(n, d, dtype)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    c0 = time.process_time()
    value = float("nan")
    if task == "knn":
        value = mutual_knn(a, b, k, dtype=dtype)
    elif task == "knn_products":
        step = max(1, DEFAULT_BLOCK_BYTES // (np.dtype(dtype).itemsize * n))
        for x in (_unit_rows(a, "a"), _unit_rows(b, "b")):
            for lo in range(0, n, step):
                x[lo:lo + step] @ x.T
    elif task == "cka":
        value = cka(a, b, debiased=True, dtype=dtype)
    elif task == "cka_products":
        a.T @ b
        a.T @ a
        b.T @ b
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": peak / 1024,
            "rss_before_mib": base / 1024, "value": value}


def _run(task: str, n: int, d: int, k: int, dtype: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", task, "--n", str(n), "--d",
                          str(d), "--k", str(k), "--dtype", dtype],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-knn", type=int, default=100_000)
    p.add_argument("--d-knn", type=int, default=128)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--n-cka", type=int, default=100_000)
    p.add_argument("--d-cka", type=int, default=512)
    p.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    p.add_argument("--metrics", nargs="+", default=["knn", "cka"], choices=["knn", "cka"])
    p.add_argument("--out", default=None)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--d", type=int, help=argparse.SUPPRESS)
    p.add_argument("--dtype", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n, args.d, args.k, args.dtype)))
        return
    lines = [f"# Alignment at scale ({datetime.date.today()}, load "
             f"{os.getloadavg()[0]:.1f}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')})",
             "", "| metric | n | d | dtype | interplay s (cpu s) | bare products s (cpu s) | "
             "ratio (wall) | ratio (cpu) | peak RSS MiB (products' run) | value |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for dtype in args.dtypes:
        for metric, task, n, d in ((f"mutual-kNN k={args.k}", "knn", args.n_knn, args.d_knn),
                                   ("debiased linear CKA", "cka", args.n_cka, args.d_cka)):
            if task not in args.metrics:
                continue
            ours = _run(task, n, d, args.k, dtype)
            bare = _run(task + "_products", n, d, args.k, dtype)
            lines.append(
                f"| {metric} | {n} | {d} | {dtype} | {ours['wall_s']:.2f} ({ours['cpu_s']:.2f})"
                f" | {bare['wall_s']:.2f} ({bare['cpu_s']:.2f}) | "
                f"{ours['wall_s'] / bare['wall_s']:.2f} | {ours['cpu_s'] / bare['cpu_s']:.2f} | "
                f"{ours['peak_rss_mib']:.0f} ({bare['peak_rss_mib']:.0f}) | "
                f"{ours['value']:.4f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        from interplay._atomic import atomic_write_text

        atomic_write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
