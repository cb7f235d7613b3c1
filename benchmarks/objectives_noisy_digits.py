"""The DVMIB study on ``noisy-digits``: which objective gives the best latents of the rotated view?

Abdelaleem, Nemenman & Martini (JMLR 2025) claim that methods whose graphs match the data's
two-view structure (DVSIB, beta-DVCCA) give better latents -- higher linear-probe accuracy with
fewer latent dimensions and fewer training samples -- than single-view beta-VAE and the others.
This script repeats their Noisy-MNIST comparison offline, on the bundled ``noisy-digits``
(view ``rotated``: a rotated and scaled digit; view ``noisy``: another image of the same digit on
a noisy background; the views share only the digit).

Protocol (every method the same):

* data: ``load_dataset("noisy-digits")`` (1797 pairs); one stratified split (seed 0) into a
  training pool of 1200 pairs and 597 test pairs; pixels in [0, 1], Bernoulli likelihoods;
* methods, all from :func:`interplay.objectives.create_objective` (no method-specific code):
  beta-VAE on the rotated view, DVIB (rotated -> Z -> digit, the supervised reference), beta-DVCCA
  and beta-DVCCA-private (rotated -> Z), DVSIB and DVSIB-private (``Z_rotated`` probed), and
  linear CCA (scikit-learn) between the two views as the classical reference;
* networks: one hidden layer of 128 (encoders, decoders, critics); InfoNCE on latent ~ latent
  edges with a separable critic; beta = ``--beta`` for every method (decoder weight, DVMIB's
  convention);
* training: Adam, lr 1e-3, batch 128, ``--steps`` steps whatever the number of samples;
* read-out: the mean of the rotated view's latent for the training pool and the test pairs,
  then :func:`interplay.objectives.linear_probe` (logistic regression, C from
  logspace(-3, 2, 11) on a 20% validation split of the training rows) -> test accuracy;
* sweeps: latent dimension (``--dims``) with all 1200 training pairs, and training pairs
  (``--samples``) at latent dimension ``--base-dim``; ``--seeds`` seeds (network initialisation,
  batch order, noise; the subsample of training pairs also changes with the seed).

Run (single-threaded workers; see docs/objectives.md for the measured wall time)::

    export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    nice -n 10 python benchmarks/objectives_noisy_digits.py

(``--sample-methods`` restricts the training-pairs sweep to fewer methods)

It writes ``benchmarks/results/objectives_noisy_digits.json`` and ``.md``,
``docs/figures/objectives_noisy_digits.svg`` and ``docs/figures/objectives_noisy_digits_tsne.svg``
(t-SNE maps of the test latents at the base dimension, seed 0).
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("beta-vae", "dvib", "beta-dvcca", "beta-dvcca-private", "dvsib", "dvsib-private",
           "dsib", "cca")
PROBED = {"beta-vae": "Z_rotated", "dvib": "Z", "beta-dvcca": "Z", "beta-dvcca-private": "Z",
          "dvsib": "Z_rotated", "dvsib-private": "Z_rotated", "dsib": "Z_rotated"}
#: Principal components kept per view before linear CCA.
PCA_DIM = 32
COLOURS = {"beta-vae": "#0072B2", "dvib": "#000000", "beta-dvcca": "#E69F00",
           "beta-dvcca-private": "#F0E442", "dvsib": "#D55E00", "dvsib-private": "#CC79A7",
           "dsib": "#56B4E9", "cca": "#009E73"}


@functools.lru_cache(maxsize=1)
def _data() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    from interplay.data import load_dataset

    ds = load_dataset("noisy-digits")
    views = {m: ds.modalities[m].reshape(len(ds.targets["digit"]), -1).astype(np.float32)
             for m in ("rotated", "noisy")}
    y = ds.targets["digit"]
    pool, test = train_test_split(np.arange(len(y)), train_size=1200, random_state=0,
                                  stratify=y)
    return views, y, pool, test


def _latents(job: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train one method on one subsample with one seed: (train latents, test latents, rows)."""
    import torch

    torch.set_num_threads(1)
    from interplay.objectives import create_objective, encode_arrays, fit_objective

    views, y, pool, test = _data()
    rng = np.random.default_rng(job["seed"])
    train = pool if job["n"] >= len(pool) else np.sort(rng.choice(pool, job["n"], replace=False))
    method, dim = job["method"], job["dim"]
    if method == "cca":
        from sklearn.cross_decomposition import CCA
        from sklearn.decomposition import PCA

        # CCA on raw 256-pixel views with a few hundred pairs finds spurious perfect
        # correlations; reduce each view to PCA_DIM components (fitted on the training pairs).
        k = min(PCA_DIM, len(train) // 4)
        pr = PCA(k, random_state=0).fit(views["rotated"][train])
        pn = PCA(k, random_state=0).fit(views["noisy"][train])
        cca = CCA(n_components=min(dim, k), max_iter=1000).fit(
            pr.transform(views["rotated"][train]), pn.transform(views["noisy"][train]))
        z_tr = cca.transform(pr.transform(views["rotated"][train]))
        z_te = cca.transform(pr.transform(views["rotated"][test]))
    else:
        torch.manual_seed(job["seed"])
        mods = {"rotated": 256} if method in ("beta-vae", "dvib") else {"rotated": 256,
                                                                      "noisy": 256}
        weights = {}
        if job.get("mi_weight", 1.0) != 1.0 and method in ("dvsib", "dvsib-private"):
            weights = {"mi:Z_rotated~Z_noisy": job["mi_weight"]}
        obj = create_objective(method, modalities=mods, latent_dim=dim, beta=job["beta"],
                               kind="bernoulli", hidden=(128,), term_weights=weights,
                               target_classes=10 if method == "dvib" else None)
        data = {m: views[m][train] for m in mods}
        epochs = max(1, round(job["steps"] * 128 / len(train)))
        fit_objective(obj, data, y[train] if method == "dvib" else None, epochs=epochs,
                      batch_size=min(128, len(train)), lr=1e-3, seed=job["seed"])
        z_tr = encode_arrays(obj, {"rotated": views["rotated"][train]}, PROBED[method])
        z_te = encode_arrays(obj, {"rotated": views["rotated"][test]}, PROBED[method])
    return z_tr, z_te, train


def _one(job: dict[str, Any]) -> dict[str, Any]:
    """Train one method on one subsample with one seed; return the probe's test accuracy."""
    from interplay.objectives import linear_probe

    start = time.perf_counter()
    z_tr, z_te, train = _latents(job)
    _, y, _, test = _data()
    acc = linear_probe(z_tr, y[train], z_test=z_te, y_test=y[test], seed=job["seed"]).accuracy
    return {**job, "accuracy": acc, "seconds": time.perf_counter() - start}


def _tsne_figure(methods: list[str], dim: int, steps: int, beta: float, path: Path) -> None:
    """t-SNE maps of the test pairs' rotated-view latents (seed 0, all training pairs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from interplay._atomic import atomic_write
    from interplay.objectives import embedding_plot

    _, y, _, test = _data()
    fig, axes = plt.subplots(1, len(methods), figsize=(3 * len(methods), 3.2))
    for ax, m in zip(axes, methods, strict=True):
        job = {"method": m, "dim": dim, "n": 1200, "seed": 0, "steps": steps, "beta": beta}
        embedding_plot(_latents(job)[1], y[test], ax, title=f"{m} (dim {dim})")
    axes[-1].legend(fontsize=6, markerscale=2, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="svg"))
    plt.close(fig)


def _summary(rows: list[dict[str, Any]], key: str, fixed: dict[str, int]
             ) -> dict[str, dict[int, tuple[float, float]]]:
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for m in METHODS:
        vals: dict[int, list[float]] = {}
        for r in rows:
            if r["method"] == m and all(r[k] == v for k, v in fixed.items()):
                vals.setdefault(r[key], []).append(r["accuracy"])
        out[m] = {k: (float(np.mean(v)), float(np.std(v))) for k, v in sorted(vals.items())}
    return out


def _table(summary: dict[str, dict[int, tuple[float, float]]], label: str) -> str:
    keys = sorted({k for s in summary.values() for k in s})
    lines = ["| method | " + " | ".join(f"{label} {k}" for k in keys) + " |",
             "|---" * (len(keys) + 1) + "|"]
    for m, s in summary.items():
        cells = [f"{s[k][0]:.3f} ± {s[k][1]:.3f}" if k in s else "" for k in keys]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _figure(by_dim: dict, by_n: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, summ, xlabel in ((axes[0], by_dim, "latent dimension"),
                             (axes[1], by_n, "training pairs")):
        for m, s in summ.items():
            ks = list(s)
            mu = np.array([s[k][0] for k in ks])
            sd = np.array([s[k][1] for k in ks])
            style = "--" if m in ("cca", "dvib") else "-"
            ax.errorbar(ks, mu, yerr=sd, label=m, color=COLOURS[m], ls=style, marker="o",
                        ms=4, capsize=3)
        ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("linear-probe test accuracy (rotated view)")
    axes[1].legend(fontsize=8, loc="lower right")
    fig.suptitle("noisy-digits: latents of the rotated view (mean ± std over seeds)")
    fig.tight_layout()
    from interplay._atomic import atomic_write

    atomic_write(path, lambda f: fig.savefig(f, format="svg"))
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the sweeps; write the JSON, the markdown table and the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--samples", type=int, nargs="+", default=[100, 300, 1200])
    parser.add_argument("--base-dim", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--beta", type=float, default=32.0)
    parser.add_argument("--mi-weight", type=float, default=1.0,
                        help="extra weight of DVSIB's shared-information edge (term_weights)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--sample-methods", nargs="+", choices=METHODS,
                        help="methods of the training-pairs sweep (default: --methods)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-tsne", action="store_true", help="skip the t-SNE figure")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks/results/objectives_noisy_digits.json")
    parser.add_argument("--cache", type=Path,
                        default=ROOT / "benchmarks/results/objectives_noisy_digits_runs.jsonl",
                        help="one line per finished run; runs found here are not repeated")
    parser.add_argument("--figure", type=Path,
                        default=ROOT / "docs/figures/objectives_noisy_digits.svg")
    args = parser.parse_args(argv)

    from interplay import __version__
    from interplay._atomic import atomic_write_text

    cells = {(d, 1200): args.methods for d in args.dims}
    for n in args.samples:
        cells.setdefault((args.base_dim, n), args.sample_methods or args.methods)
    extra = {"mi_weight": args.mi_weight} if args.mi_weight != 1.0 else {}
    jobs = [{"method": m, "dim": d, "n": n, "seed": s, "steps": args.steps, "beta": args.beta,
             **extra}
            for (d, n), methods in sorted(cells.items()) for m in methods
            for s in range(args.seeds)]
    start = time.perf_counter()
    def key(job: dict[str, Any]) -> tuple:
        return (*(job[k] for k in ("method", "dim", "n", "seed", "steps", "beta")),
                job.get("mi_weight", 1.0))

    done: dict[tuple, dict[str, Any]] = {}
    if args.cache.exists():  # finished runs of an interrupted invocation
        for line in args.cache.read_text().splitlines():
            row = json.loads(line)
            done[key(row)] = row
    rows = [done[key(j)] for j in jobs if key(j) in done]
    todo = [j for j in jobs if key(j) not in done]
    with ProcessPoolExecutor(max_workers=args.workers) as pool, args.cache.open("a") as cache:
        for i, row in enumerate(pool.map(_one, todo)):
            rows.append(row)
            cache.write(json.dumps(row) + "\n")
            cache.flush()
            print(f"[{i + 1}/{len(todo)}] {row['method']} dim={row['dim']} n={row['n']} "
                  f"seed={row['seed']}: {row['accuracy']:.3f} ({row['seconds']:.0f} s)",
                  flush=True)
    by_dim = {m: s for m, s in _summary(rows, "dim", {"n": 1200}).items() if s}
    by_n = {m: s for m, s in _summary(rows, "n", {"dim": args.base_dim}).items() if s}
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result = {"kind": "objectives_study", "interplay_version": __version__,
              "dataset": "noisy-digits", "settings": settings,
              "wall_seconds": time.perf_counter() - start, "runs": rows,
              "by_dim": {m: {str(k): v for k, v in s.items()} for m, s in by_dim.items()},
              "by_samples": {m: {str(k): v for k, v in s.items()} for m, s in by_n.items()}}
    atomic_write_text(args.out, json.dumps(result, indent=1))
    md = (f"Test accuracy of a linear probe on the rotated view's latent, mean ± std over "
          f"{args.seeds} seeds ({args.steps} steps, beta {args.beta}"
          f"{f', shared-information weight {args.mi_weight:g}' if args.mi_weight != 1 else ''})"
          f".\n\n"
          f"All 1200 training pairs:\n\n{_table(by_dim, 'dim')}\n\n"
          f"Latent dimension {args.base_dim}:\n\n{_table(by_n, 'n')}\n\n"
          f"Wall time {result['wall_seconds']:.0f} s with {args.workers} workers.\n")
    atomic_write_text(args.out.with_suffix(".md"), md)
    _figure(by_dim, by_n, args.figure)
    if not args.no_tsne:
        _tsne_figure(["beta-vae", "dvib", "dvsib", "dsib", "cca"], args.base_dim, args.steps,
                     args.beta, args.figure.with_name(args.figure.stem + "_tsne.svg"))
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
