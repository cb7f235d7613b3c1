"""BATCH neural PID: throughput, peak memory and error against the truth at 10^4 .. 10^6 rows.

The data are a noisy gate (``make_gate(gate, n, noise=0.1)``: the target is replaced by a
uniform draw with probability 0.1) whose two input bits are embedded as ``mean[bit] + 0.5 *
N(0, I)`` in R^dim (class means ~ sqrt(2 dim) apart, so the bits are recoverable and the PID of
the embeddings is the exact BROJA PID of the gate's pmf). The sources are written chunk by
chunk to ``.npy`` files and opened with ``mmap_mode="r"``: the estimator streams them.

Every size runs in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its
own. Training is a fixed budget (``--steps-per-epoch`` minibatches per epoch), so the time
grows with the rows only through the passes that read every row: the NaN/moment scan, the
held-out cross-entropies after every classifier epoch, and the held-out coupling readout.

    OMP_NUM_THREADS=1 /usr/bin/time -v python benchmarks/bench_batch_pid.py \
        --sizes 10000 100000 1000000 --out benchmarks/results/batch_pid.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ATOMS = ("redundancy", "unique1", "unique2", "synergy")
CHUNK = 100_000


def _write_sources(gate: str, n: int, dim: int, seed: int, folder: Path):
    """Gate samples with their bits embedded in R^dim, written to .npy files in chunks."""
    from interplay.data import make_gate

    data = make_gate(gate, n, noise=0.1, random_state=seed)
    rng = np.random.default_rng(seed + 1)
    means = rng.standard_normal((2, 2, dim)).astype(np.float32)
    paths = []
    for j, bits in enumerate((data.x1, data.x2)):
        path = folder / f"x{j + 1}.npy"
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
        for lo in range(0, n, CHUNK):
            b = bits[lo:lo + CHUNK]
            out[lo:lo + CHUNK] = means[j][b] + 0.5 * rng.standard_normal((b.size, dim),
                                                                         dtype=np.float32)
        out.flush()
        del out
        paths.append(path)
    return paths, data


def run_one(args: argparse.Namespace) -> dict:
    import torch

    from interplay import pid
    from interplay.neural.batch import batch_pid

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        (p1, p2), data = _write_sources(args.gate, args.single, args.dim, args.seed, Path(tmp))
        x1, x2 = np.load(p1, mmap_mode="r"), np.load(p2, mmap_mode="r")
        truth = pid(data.pmf, "broja")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start, cpu = time.perf_counter(), time.process_time()
        r = batch_pid(x1, x2, data.y, classifier_epochs=args.classifier_epochs,
                      align_epochs=args.align_epochs, steps_per_epoch=args.steps_per_epoch,
                      device=args.device, random_state=args.seed, progress=False)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        resident = _resident()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    errors = {a: getattr(r, a) - getattr(truth, a) for a in ATOMS}
    return {
        "n": args.single, "wall_s": wall, "cpu_s": cpu, "rows_per_s": args.single / wall,
        "peak_rss_mib": rss / 1024, "rss_before_mib": rss_before / 1024,
        "data_mib": 2 * args.single * args.dim * 4 / 2**20,
        "anon_rss_after_mib": resident.get("RssAnon", float("nan")),
        "file_rss_after_mib": resident.get("RssFile", float("nan")),
        "atoms": r.atoms, "truth": truth.atoms, "errors": errors,
        "max_abs_error": max(abs(e) for e in errors.values()),
        "align_steps": r.diagnostics.iterations, "residual": r.diagnostics.primal_residual,
        "warnings": list(r.warnings),
    }


def _resident() -> dict[str, float]:
    """Current anonymous and file-backed resident memory (MiB) from /proc/self/status (Linux)."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split() for line in lines if line.startswith(("RssAnon", "RssFile")))
    return {f[0].rstrip(":"): int(f[1]) / 1024 for f in fields}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--gate", default="and")
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--classifier-epochs", type=int, default=10)
    parser.add_argument("--align-epochs", type=int, default=3)
    parser.add_argument("--steps-per-epoch", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="torch device of the networks")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--single", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single is not None:
        print(json.dumps(run_one(args)))
        return
    rows = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--single", str(n), "--gate", args.gate,
               "--dim", str(args.dim), "--classifier-epochs", str(args.classifier_epochs),
               "--align-epochs", str(args.align_epochs),
               "--steps-per-epoch", str(args.steps_per_epoch), "--threads", str(args.threads),
               "--seed", str(args.seed), "--device", args.device]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    table = _table(rows, args)
    print(table)
    if args.out is not None:
        from interplay.training.checkpoint import atomic_write

        atomic_write(args.out, lambda fh: fh.write(table.encode()))


def _table(rows: list[dict], args: argparse.Namespace) -> str:
    command = "python benchmarks/bench_batch_pid.py " + " ".join(sys.argv[1:])
    head = (
        "# BATCH neural PID: throughput, memory and error\n\n"
        f"Command: `{command}` ({os.cpu_count()} CPU cores, shared; wall times depend on the "
        "load, CPU seconds less so).\n\n"
        f"Gate `{args.gate}` (target noise 0.1) embedded in R^{args.dim} per source, float32 "
        f".npy memory maps; classifier_epochs={args.classifier_epochs}, "
        f"align_epochs={args.align_epochs}, steps_per_epoch={args.steps_per_epoch}, "
        f"batch_size=256, {args.threads} torch thread(s), seed {args.seed}, "
        f"device {args.device}.\n\n"
        "| rows | wall s | CPU s | rows/s (wall) | peak RSS MiB | RSS before MiB "
        "| anon / file RSS after MiB | data on disk MiB | R | U1 | U2 | S "
        "| max abs error (bits) |\n" + "|---" * 13 + "|\n"
    )
    body = "".join(
        f"| {r['n']:,} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['rows_per_s']:,.0f} "
        f"| {r['peak_rss_mib']:.0f} | {r['rss_before_mib']:.0f} "
        f"| {r['anon_rss_after_mib']:.0f} / {r['file_rss_after_mib']:.0f} "
        f"| {r['data_mib']:.0f} | "
        + " | ".join(f"{r['atoms'][a]:.3f}" for a in ATOMS)
        + f" | {r['max_abs_error']:.3f} |\n"
        for r in rows
    )
    truth = rows[0]["truth"]
    foot = ("\nTruth (exact BROJA of the gate's pmf): "
            + ", ".join(f"{a} {truth[a]:.4f}" for a in ATOMS) + ".\n")
    notes = (
        "\nTraining is a fixed budget: at most steps_per_epoch minibatches per epoch (10,000 "
        "rows give 8,000 training rows, i.e. only 32 minibatches per epoch; 100,000 and more "
        "hit the cap of 300). Beyond that the time grows with the rows only through the passes "
        "over every row: the NaN/moment scan, the held-out cross-entropies after each "
        "classifier epoch and the held-out coupling readout on 20 % of the rows.\n\n"
        "Memory: peak RSS includes torch (~350 MiB) and the data generation (RSS before the "
        "call). The sources are memory-mapped .npy files; the pages read stay resident as "
        "file-backed memory (the second 'after' figure, from /proc/self/status), which the "
        "kernel can drop. Anonymous memory grows by O(n) integer arrays only (the generator's "
        "int64 gate values, 24 MiB at 10^6 rows, and the estimator's label codes and index "
        "arrays, ~32 bytes per row); no n x features array is allocated.\n"
    )
    return head + body + foot + notes


if __name__ == "__main__":
    main()
