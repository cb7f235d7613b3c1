"""Gaussian PID: time and error for d1 = d2 = dy = d, next to the research note's figures.

Run single-threaded (the note's Tilde-PID / Thin-PID figures were taken that way):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_gaussian_pid.py --max-d 100
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_gaussian_pid.py \
        --dims 500 1000 --systems doubling

The "MMI s" column (the closed form, mostly whitening) is a yardstick of the machine's speed and
load at the time. Systems: "doubling" (oracle O4, d/2 rotated copies of the 2-D gain-2 system;
the error is the largest atom error against the closed form) and "wishart" (covariance G G^T
with G standard normal; no closed form, the certificate is the solver's duality gap). Note
figures are the research note's single-thread measurements of Thin-PID (upstream code, 2-core
machine); they were not re-run here.
"""

from __future__ import annotations

import argparse
import time

from interplay.data.gaussian import doubling_system, wishart_system
from interplay.info.pid.gaussian import gaussian_pid

ATOMS = ("redundancy", "unique1", "unique2", "synergy")
#: Thin-PID seconds from the research note (pid-continuous.md section 4), for comparison only.
NOTE_THIN = {("doubling", 2): 0.017, ("doubling", 10): 0.024, ("doubling", 50): 0.111,
             ("doubling", 100): 0.405, ("wishart", 2): 0.017, ("wishart", 10): 0.039,
             ("wishart", 50): 0.922, ("wishart", 100): 2.56}


def _timed(cov, sizes, method):
    t, c = time.perf_counter(), time.process_time()
    r = gaussian_pid(cov, sizes, method)
    return r, time.perf_counter() - t, time.process_time() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 10, 50, 100, 200, 500, 1000])
    parser.add_argument("--max-d", type=int, default=1000)
    parser.add_argument("--systems", nargs="+", default=["doubling", "wishart"],
                        choices=["doubling", "wishart"])
    args = parser.parse_args()
    print("| system | d | MMI s | BROJA s (cpu s) | iterations | gap (bits) "
          "| max atom error (bits) | Thin-PID s (note) |")
    print("|---|---|---|---|---|---|---|---|")
    for d in [d for d in args.dims if d <= args.max_d]:
        for name in args.systems:
            s = doubling_system(d // 2) if name == "doubling" else wishart_system(d, d, d)
            _, t_mmi, _ = _timed(s.cov, s.sizes, "mmi")
            r, t, cpu = _timed(s.cov, s.sizes, "broja")
            err = (f"{max(abs(r.atoms[a] - s.truth[a]) for a in ATOMS):.1e}"
                   if s.truth else "n/a")
            note = NOTE_THIN.get((name, d))
            print(f"| {name} | {d} | {t_mmi:.3f} | {t:.3f} ({cpu:.3f}) | "
                  f"{r.diagnostics.iterations} | "
                  f"{r.diagnostics.duality_gap:.1e} | {err} | "
                  f"{'' if note is None else note} |", flush=True)


if __name__ == "__main__":
    main()
