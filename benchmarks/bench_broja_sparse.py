"""BROJA on sparse supports: COPY tables and logic gates, interplay beside BROJA_2PID.

COPY (``y = (x1, x2)``, independent uniform sources) has ``|Y| = |X1| |X2|`` target values
but a single feasible coupling; the gates are the classic small examples (AND, XOR, RDN,
UNQ, RDNXOR, RDNUNQXOR, XORAND). Each case runs in its own process with one BLAS thread:
one untimed warm-up, then the median and the fastest CPU time of ``--repeats`` solves. When a
BROJA_2PID checkout is given (``--broja2pid DIR``, needs ``ecos``), it solves the same
distributions in its own processes; its code is imported from DIR, never copied here.
With ``--rounds N`` each case runs in N processes per solver, alternating between the
solvers, and the median over rounds is reported: on a shared machine, load that comes and
goes then falls on both alike. Prints a markdown table with the speed-up (CPU time,
BROJA_2PID / interplay) and the largest atom disagreement in bits.

    python benchmarks/bench_broja_sparse.py --broja2pid /path/to/BROJA_2PID --repeats 25 --rounds 5
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys

#: Name -> outcomes (x1, x2, y) of equal probability, every variable any hashable value.
GATES: dict[str, list[tuple[object, object, object]]] = {
    "AND": [(a, b, a & b) for a, b in itertools.product((0, 1), repeat=2)],
    "XOR": [(a, b, a ^ b) for a, b in itertools.product((0, 1), repeat=2)],
    "RDN": [(r, r, r) for r in (0, 1)],
    "UNQ": [(a, b, (a, b)) for a, b in itertools.product((0, 1), repeat=2)],
    "RDNXOR": [((a, r), (b, r), (a ^ b, r)) for a, b, r in itertools.product((0, 1), repeat=3)],
    "RDNUNQXOR": [((r, a, c), (r, b, d), (r, a, b, c ^ d))
                  for r, a, b, c, d in itertools.product((0, 1), repeat=5)],
    "XORAND": [(a, b, (a ^ b, a & b)) for a, b in itertools.product((0, 1), repeat=2)],
}


def copy_outcomes(a: int, b: int) -> list[tuple[object, object, object]]:
    """COPY with ``a`` x ``b`` source values: y is the pair."""
    return [(i, j, (i, j)) for i in range(a) for j in range(b)]


WORKER = r"""
import json, statistics, sys, time
import numpy as np
outcomes, solver = json.loads(sys.argv[1]), sys.argv[2]
repeats, folder, cold = int(sys.argv[3]), sys.argv[4], sys.argv[5] == "cold"
outcomes = [tuple(json.dumps(v) for v in o) for o in outcomes]
weight = 1.0 / len(outcomes)
if solver == "interplay":
    from interplay import pid
    from interplay.info.pid import broja
    axes = [sorted({o[k] for o in outcomes}) for k in range(3)]
    index = [{v: i for i, v in enumerate(ax)} for ax in axes]
    p = np.zeros(tuple(len(ax) for ax in axes))
    for o in outcomes:
        p[tuple(index[k][o[k]] for k in range(3))] += weight
    def solve():
        if cold:  # no small-block setup kept from an earlier solve of this support
            broja._STRUCTURES.clear()
        r = pid(p)
        return [r.redundancy, r.unique1, r.unique2, r.synergy], r.diagnostics.converged
else:
    sys.path.insert(0, folder)
    from broja2pid import BROJA_2PID
    pdf = {(o[2], o[0], o[1]): weight for o in outcomes}  # BROJA_2PID: (target, source, source)
    def solve():
        r = BROJA_2PID.pid(pdf)
        return [r["SI"], r["UIY"], r["UIZ"], r["CI"]], True
solve()
cpus = []
for _ in range(repeats):
    c = time.process_time()
    atoms, ok = solve()
    cpus.append(time.process_time() - c)
print(json.dumps({"cpu": statistics.median(cpus), "best": min(cpus),
                  "atoms": [float(a) for a in atoms], "ok": bool(ok)}))
"""


def run(outcomes: list, solver: str, repeats: int, folder: str, timeout: float,
        cold: bool = False) -> dict | None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", WORKER, json.dumps(outcomes), solver, str(repeats), folder,
             "cold" if cold else "warm"],
            capture_output=True, text=True, timeout=timeout, env=env, check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        print(f"{solver} failed: {exc.stderr.strip().splitlines()[-1]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_round(rounds: list[dict]) -> dict | None:
    """The median over rounds of each round's median and fastest CPU time; the atoms of the
    first round; whether every round's result was certified (BROJA_2PID's always count)."""
    if not rounds:
        return None
    return {key: statistics.median(r[key] for r in rounds) for key in ("cpu", "best")} \
        | {"atoms": rounds[0]["atoms"], "ok": all(r["ok"] for r in rounds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broja2pid", default=None, help="folder of a BROJA_2PID checkout")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1,
                        help="processes per case and solver, alternating; medians reported")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--cold", action="store_true",
                        help="interplay: drop the small-block setups kept per support before "
                             "every solve (what a first solve of a new support costs)")
    parser.add_argument("--copy", nargs="*", default=["20x20", "30x25", "50x25", "100x10"],
                        help="COPY sizes as AxB")
    args = parser.parse_args()
    cases = dict(GATES)
    for size in args.copy:
        a, b = map(int, size.split("x"))
        cases[f"COPY {a}x{b}"] = copy_outcomes(a, b)
    solvers = ["interplay"] + (["BROJA_2PID"] if args.broja2pid else [])
    print("| case | |X1| x |X2| x |Y| | " + " | ".join(
        f"{s} CPU ms: median (fastest)" for s in solvers)
        + (" | speed-up: median (fastest) | max atom diff (bits)" if len(solvers) > 1 else "")
        + " | interplay certified |")
    print("|" + "---|" * (3 + len(solvers) + (2 if len(solvers) > 1 else 0)))
    for name, outcomes in cases.items():
        shape = "x".join(str(len({o[k] for o in outcomes})) for k in range(3))
        rounds: dict[str, list[dict]] = {s: [] for s in solvers}
        for _ in range(args.rounds):  # the solvers' processes alternate, round after round
            for s in solvers:
                r = run(outcomes, s, args.repeats, args.broja2pid or "", args.timeout, args.cold)
                if r is not None:
                    rounds[s].append(r)
        results = {s: _median_round(rounds[s]) for s in solvers}
        cells = []
        for s in solvers:
            r = results[s]
            cells.append(f"{1e3 * r['cpu']:.3g} ({1e3 * r['best']:.3g})" if r else "timeout")
        if len(solvers) > 1:
            ours, theirs = results["interplay"], results["BROJA_2PID"]
            if ours and theirs:
                cells.append(f"{theirs['cpu'] / max(ours['cpu'], 1e-9):.1f}x "
                             f"({theirs['best'] / max(ours['best'], 1e-9):.1f}x)")
                pairs = zip(ours["atoms"], theirs["atoms"], strict=True)
                cells.append(f"{max(abs(x - y) for x, y in pairs):.1e}")
            else:
                cells += ["-", "-"]
        ours = results["interplay"]
        cells.append("-" if ours is None else "yes" if ours["ok"] else "NO")
        print(f"| {name} | {shape} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
