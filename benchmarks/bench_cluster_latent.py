"""Cluster-PID sensitivity on the latent-block generator, against the exact truth.

Data: ``make_latent_blocks`` with one shared bit, one unique bit per modality and one XOR pair
(truth R = U1 = U2 = S = 1 bit, I(X1,X2;Y) = 4 bits, 16 target classes), 16 dimensions per
modality, 2 nuisance dimensions, noise 0.1, random residual-tanh map. Each modality holds 3
bits, i.e. 8 latent patterns, so 8 clusters is the "right" number; fewer merge patterns
(information lost), more split them (plug-in bias, mostly into the synergy).

For each sample size and projection, ``cluster_sensitivity`` runs over the cluster counts;
"bias" is the predicted plug-in bias (observed label pairs - 1)(|Y| - 1) / (2 N ln 2) bits.

    OMP_NUM_THREADS=1 python benchmarks/bench_cluster_latent.py \
        --out benchmarks/results/cluster_latent.md
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import warnings

import numpy as np

from interplay.data.latent import make_latent_blocks
from interplay.exceptions import ConvergenceWarning, SmallSampleWarning
from interplay.info.estimate.cluster import cluster_sensitivity
from interplay.training.checkpoint import atomic_write

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


def table(n: int, components: int | None, ks: list[int], seed: int) -> tuple[str, float]:
    ds, truth = make_latent_blocks(n, shared=1, unique1=1, unique2=1, synergy=1,
                                   random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported per row below
        sens = cluster_sensitivity(ds.modalities["x1"], ds.modalities["x2"], ds.target, ks,
                                   n_components=components, random_state=seed)
    seconds = time.perf_counter() - start
    lines = [
        f"N = {n}, {'no PCA' if components is None else f'PCA({components})'} "
        f"(truth: R = U1 = U2 = S = {truth['redundancy']:.3f}, I = {truth['mi_joint']:.3f}; "
        f"{seconds:.1f} s for all counts)",
        "",
        "| clusters K | R | U1 | U2 | S | I(X1,X2;Y) | predicted bias | max atom error "
        "| BROJA solver |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, r, bias in zip(sens.n_clusters, sens.results, sens.bias, strict=True):
        err = max(abs(getattr(r, a) - truth[a]) for a in ATOMS)
        diag = r.diagnostics
        solver = "ok" if diag is None or diag.converged else \
            f"NOT converged, gap {diag.duality_gap:.2g} bits"
        lines.append(
            f"| {k} | {r.redundancy:.3f} | {r.unique1:.3f} | {r.unique2:.3f} | "
            f"{r.synergy:.3f} | {r.mi_joint:.3f} | {bias:.3f} | {err:.3f} | {solver} |"
        )
    return "\n".join(lines) + "\n", seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--clusters", type=int, nargs="+",
                        default=[2, 4, 6, 8, 12, 16, 20, 30, 40])
    parser.add_argument("--components", nargs="+", default=["2", "none"],
                        help="principal components per modality; 'none' clusters all columns")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the tables to this file")
    args = parser.parse_args()
    buffer = io.StringIO()
    for comp in args.components:
        components = None if comp.lower() == "none" else int(comp)
        for n in args.sizes:
            text, _ = table(n, components, [k for k in args.clusters if k <= n], args.seed)
            print(text, flush=True)
            buffer.write(text + "\n")
    if args.out:
        header = (f"<!-- {' '.join(['python', *sys.argv])} ; numpy {np.__version__} -->\n\n")
        atomic_write(args.out, lambda fh: fh.write((header + buffer.getvalue()).encode()))


if __name__ == "__main__":
    main()
