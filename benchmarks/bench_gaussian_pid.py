"""Gaussian PID: time and error for d1 = d2 = dy = d, side by side with Thin-PID and Tilde-PID.

Systems: "doubling" (oracle O4, d/2 rotated copies of the 2-D gain-2 system; the error is the
largest atom error against the closed form) and "wishart" (covariance G G^T with G standard
normal of side 3d, seed 0; no closed form: the certificate is our duality gap, and the
reference solvers' error column is their largest atom difference from our answer). In
brackets: the reference's union information minus ours (bits; negative would mean it found a
better coupling than our certified optimum).

The reference solvers are not part of interplay and are never vendored: pass importable
modules that provide upstream's ``exact_gauss_thin_pid(cov, dm, dx, dy)`` (flow-pid,
``pid/thin_pid.py``) or ``exact_gauss_tilde_pid(cov, dm, dx, dy)`` (gpid,
``src/gpid/tilde_pid.py``); they take the covariance ordered target first and return
``(I_X, I_Y, I_XY, I_union, obj, UI_X, UI_Y, R, S)`` in bits. They run in this process, one
after the other, under the same BLAS settings. Run single-threaded:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_gaussian_pid.py \\
        --out benchmarks/results/gaussian_pid.md
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=REFS python \\
        benchmarks/bench_gaussian_pid.py --thin flowpid.thin_pid --tilde gpid.tilde_pid \\
        --thin-max-d 300 --out benchmarks/results/gaussian_pid.md

Times are the best of ``--repeat`` runs for interplay (one run for the references), wall and
CPU seconds; on a shared machine CPU seconds are the fairer comparison. "Thin-PID s (note)" is
the research note's single-thread measurement (pid-continuous.md section 4), for reference.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from interplay.data.gaussian import GaussianSystem, doubling_system, wishart_system
from interplay.info.pid.gaussian import gaussian_pid
from interplay.training.checkpoint import atomic_write

ATOMS = ("redundancy", "unique1", "unique2", "synergy")
#: Thin-PID seconds from the research note (pid-continuous.md section 4), for comparison only.
NOTE_THIN = {("doubling", 2): 0.017, ("doubling", 10): 0.024, ("doubling", 50): 0.111,
             ("doubling", 100): 0.405, ("wishart", 2): 0.017, ("wishart", 10): 0.039,
             ("wishart", 50): 0.922, ("wishart", 100): 2.56}


def _clock(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _reference(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(module), name)


def _run_reference(fn: Callable[..., Any], s: GaussianSystem
                   ) -> tuple[dict[str, float], float, float, float]:
    """Atoms, union information (bits), wall and CPU seconds of an upstream solver."""
    d1, d2, dy = s.sizes
    order = np.r_[np.arange(d1 + d2, d1 + d2 + dy), np.arange(d1 + d2)]  # target first
    cov = s.cov[np.ix_(order, order)]
    out, wall, cpu = _clock(lambda: fn(cov, dy, d1, d2))
    atoms = dict(zip(("unique1", "unique2", "redundancy", "synergy"),
                     (float(v) for v in out[5:9]), strict=True))
    return atoms, float(out[3]), wall, cpu


def _system(name: str, d: int) -> GaussianSystem:
    return doubling_system(d // 2) if name == "doubling" else wishart_system(d, d, d)


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 10, 50, 100, 300, 1000])
    parser.add_argument("--systems", nargs="+", default=["doubling", "wishart"],
                        choices=["doubling", "wishart"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--thin", help="module with upstream exact_gauss_thin_pid")
    parser.add_argument("--tilde", help="module with upstream exact_gauss_tilde_pid")
    parser.add_argument("--thin-max-d", type=int, default=100,
                        help="largest d at which Thin-PID is run")
    parser.add_argument("--tilde-max-d", type=int, default=100,
                        help="largest d at which Tilde-PID is run")
    parser.add_argument("--out", help="write the table (markdown) here")
    args = parser.parse_args()
    refs = {}  # name -> (function, largest d)
    if args.thin:
        refs["Thin-PID"] = (_reference(args.thin, "exact_gauss_thin_pid"), args.thin_max_d)
    if args.tilde:
        refs["Tilde-PID"] = (_reference(args.tilde, "exact_gauss_tilde_pid"),
                             args.tilde_max_d)
    head = ["system", "d", "interplay s (cpu s)", "Newton iterations", "gap (bits)",
            "max atom error (bits)"]
    for ref in refs:
        head += [f"{ref} s (cpu s)", f"{ref} error (bits)", f"{ref} / interplay (cpu)"]
    head.append("Thin-PID s (note)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    print(lines[0], flush=True)
    load_before = os.getloadavg()
    for d in args.dims:
        for name in args.systems:
            s = _system(name, d)
            runs = [_clock(lambda s=s: gaussian_pid(s.cov, s.sizes))
                    for _ in range(args.repeat)]
            r, wall, cpu = min(runs, key=lambda run: run[1])
            truth = s.truth or {a: getattr(r, a) for a in ATOMS}
            err = (max(abs(getattr(r, a) - truth[a]) for a in ATOMS) if s.truth else None)
            row = [name, str(d), f"{wall:.4f} ({cpu:.4f})", str(r.diagnostics.iterations),
                   f"{r.diagnostics.duality_gap:.1e}", _fmt(err, ".1e")]
            union = r.mi_joint - r.synergy
            for fn, max_d in refs.values():
                if d > max_d:
                    row += ["not run", "-", "-"]
                    continue
                atoms, ref_union, rwall, rcpu = _run_reference(fn, s)
                rerr = max(abs(atoms[a] - truth[a]) for a in ATOMS)
                row += [f"{rwall:.3f} ({rcpu:.3f})",
                        f"{rerr:.1e}" + ("" if s.truth else " vs ours")
                        + f" (union {ref_union - union:+.1e})",
                        f"{rcpu / cpu:.0f}x"]
            row.append(_fmt(NOTE_THIN.get((name, d)), ".3f"))
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    load_after = os.getloadavg()
    if args.out:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        command = " ".join(["python", *sys.argv])
        text = "\n".join([
            f"# Gaussian PID benchmark, {stamp}, one BLAS thread (shared 2-core machine)",
            "",
            f"Command: `OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} "
            f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '?')} {command}`",
            "",
            f"Load average (1 min) before / after: {load_before[0]:.1f} / {load_after[0]:.1f}. "
            "Wall time counts the waits for a core on this shared machine; CPU time does not.",
            "",
            *[f"{name}: `{fn.__module__}` from `{sys.modules[fn.__module__].__file__}`."
              for name, (fn, _) in refs.items()],
            "",
            *lines,
            "",
        ])
        atomic_write(args.out, lambda fh: fh.write(text.encode()))


if __name__ == "__main__":
    main()
