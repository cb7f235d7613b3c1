"""1 vs 2 vs 3 layers on in-context Markov chains of order 1, 2, 3 (docs/dynamics.md).

Trains one transformer per (order, depth, seed) with one head per layer and the same width,
at most two processes at a time with one torch thread each, writes every run's record to
``OUT/runs/k{order}_L{layers}_s{seed}.json`` (a finished run is not trained again), then the
summary ``OUT/summary.json`` / ``OUT/summary.md`` and the figures ``docs/figures/dynamics_*.png``
(training curves, excess loss by position, attention maps of the 2-layer models).

Usage::

    nice -n 10 python benchmarks/dynamics_markov.py                  # the whole grid
    python benchmarks/dynamics_markov.py --summarise-only            # tables and figures only
    nice -n 10 python benchmarks/dynamics_markov.py --orders 1 --layers 1 2 --seeds 0 --steps 500
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "dynamics_markov"
FIGURES = ROOT / "docs" / "figures"
#: The experiment's fixed settings (tuned on order 1, then order 3; see docs/dynamics.md).
SETTINGS: dict[str, Any] = dict(length=64, d_model=32, batch_size=32, lr=3e-3, eval_every=50,
                                eval_seqs=256)
#: Okabe-Ito colours for 1, 2, 3 layers.
COLOURS = {1: "#E69F00", 2: "#0072B2", 3: "#009E73"}


def _run_one(job: tuple[int, int, int, int, str]) -> tuple[str, float]:
    order, layers, seed, steps, path = job
    import torch

    torch.set_num_threads(1)
    from interplay._atomic import atomic_write_text
    from interplay.dynamics import MarkovConfig, train_markov

    cfg = MarkovConfig(order=order, n_layers=layers, n_heads=1, steps=steps, seed=seed,
                       **SETTINGS)
    result = train_markov(cfg)  # one torch thread (the library's policy for small work)
    atomic_write_text(path, json.dumps(result) + "\n")
    return path, result["seconds"]


def run_grid(args: argparse.Namespace) -> None:
    runs = args.out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    jobs = []
    for order in args.orders:
        for layers in args.layers:
            for seed in args.seeds:
                path = runs / f"k{order}_L{layers}_s{seed}.json"
                if not path.exists():
                    jobs.append((order, layers, seed, args.steps, str(path)))
    # 1 and 2 layers (the claim) seed by seed, then 3 layers; the slowest first within a seed
    jobs.sort(key=lambda j: (j[1] > 2, j[2], -j[1], -j[0]))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for path, seconds in pool.map(_run_one, jobs):
            print(f"{Path(path).name}: {seconds:.0f} s (elapsed {time.perf_counter() - t0:.0f} s)",
                  flush=True)
    print(f"grid: {len(jobs)} runs in {time.perf_counter() - t0:.0f} s wall", flush=True)


def _load(out: Path) -> dict[tuple[int, int, int], dict[str, Any]]:
    found = {}
    for path in sorted((out / "runs").glob("k*_L*_s*.json")):
        r = json.loads(path.read_text())
        c = r["config"]
        found[(c["order"], c["n_layers"], c["seed"])] = r
    return found


def _mean_std(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def _best(induction: list[list[float | None]]) -> float:
    """The highest induction score over layers and heads (None where no key matched)."""
    return max(v for layer in induction for v in layer if v is not None)


def summarise(out: Path) -> dict[str, Any]:
    runs = _load(out)
    if not runs:
        raise SystemExit(f"no runs under {out / 'runs'}")
    orders = sorted({k for k, _, _ in runs})
    depths = sorted({L for _, L, _ in runs})
    rows = []
    for k in orders:
        for L in depths:
            rs = [r for (kk, LL, _), r in sorted(runs.items()) if kk == k and LL == L]
            if not rs:
                continue
            ref = rs[0]["references"]
            ex = _mean_std([r["final"]["excess"] for r in rs])
            kl = _mean_std([r["final"]["kl"] for r in rs])
            ind = _mean_std([_best(r["final"]["induction"]) for r in rs])
            gap = [r["references"]["unigram"] - r["references"]["kgram"] for r in rs]
            closed = _mean_std([1 - r["final"]["excess"] / g for r, g in zip(rs, gap, strict=True)])
            rows.append({
                "order": k, "layers": L, "seeds": [r["config"]["seed"] for r in rs],
                "steps": rs[0]["config"]["steps"], "n_parameters": rs[0]["n_parameters"],
                "excess_mean": ex[0], "excess_std": ex[1], "kl_mean": kl[0], "kl_std": kl[1],
                "gap_closed_mean": closed[0], "gap_closed_std": closed[1],
                "induction_best_mean": ind[0], "induction_best_std": ind[1],
                "kgram_loss": ref["kgram"], "unigram_loss": ref["unigram"],
                "true_loss": ref["true"], "induction_chance": rs[0]["induction_chance"],
                "seconds_mean": float(np.mean([r["seconds"] for r in rs])),
            })
    from interplay import __version__
    from interplay._atomic import atomic_write_text

    summary = {"kind": "dynamics_markov_summary", "interplay_version": __version__,
               "settings": SETTINGS, "units": "bits", "rows": rows}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    lines = ["| k | layers | params | excess over k-gram (bits) | KL to k-gram (bits) | "
             "unigram-to-k-gram gap closed | best induction score (chance) | s/run |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['order']} | {r['layers']} | {r['n_parameters']} | "
            f"{r['excess_mean']:.4f} ± {r['excess_std']:.4f} | "
            f"{r['kl_mean']:.4f} ± {r['kl_std']:.4f} | "
            f"{100 * r['gap_closed_mean']:.0f}% ± {100 * r['gap_closed_std']:.0f}% | "
            f"{r['induction_best_mean']:.2f} ± {r['induction_best_std']:.2f} "
            f"({r['induction_chance']:.2f}) | {r['seconds_mean']:.0f} |")
    lines.append("")
    lines.append("References on seed 0's evaluation set (bits/symbol, symbols with a context): "
                 + "; ".join(f"k={r['order']}: k-gram {r['kgram_loss']:.4f}, unigram "
                             f"{r['unigram_loss']:.4f}, true table {r['true_loss']:.4f}"
                             for r in rows if r["layers"] == depths[0]))
    atomic_write_text(out / "summary.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    _plot(runs, orders, depths)
    return summary


def _plot(runs: dict[tuple[int, int, int], dict[str, Any]], orders: list[int],
          depths: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    FIGURES.mkdir(parents=True, exist_ok=True)
    # 1. training curves: excess loss over the estimator, and the last layer's induction score
    fig, axes = plt.subplots(2, len(orders), figsize=(4.2 * len(orders), 6.4), squeeze=False,
                             sharex=True)
    for col, k in enumerate(orders):
        for L in depths:
            rs = [r for (kk, LL, _), r in sorted(runs.items()) if kk == k and LL == L]
            for i, r in enumerate(rs):
                steps = r["curves"]["step"]
                ex = np.maximum(np.asarray(r["curves"]["excess"]), 1e-4)
                ind = [_best(row) for row in r["curves"]["induction"]]
                label = f"{L} layer{'s' if L > 1 else ''}" if i == 0 else None
                axes[0, col].plot(steps, ex, color=COLOURS.get(L), lw=1.2, alpha=0.85,
                                  label=label)
                axes[1, col].plot(steps, ind, color=COLOURS.get(L), lw=1.2, alpha=0.85,
                                  label=label)
            if rs and L == depths[0]:
                gap = rs[0]["references"]["unigram"] - rs[0]["references"]["kgram"]
                axes[0, col].axhline(gap, color="0.4", ls="--", lw=0.9,
                                     label="unigram estimator")
                axes[1, col].axhline(rs[0]["induction_chance"], color="0.4", ls=":", lw=0.9,
                                     label="uniform attention")
        axes[0, col].set_yscale("log")
        axes[0, col].set_title(f"order k = {k}")
        axes[1, col].set_xlabel("training step")
        axes[1, col].set_ylim(0, 1)
    axes[0, 0].set_ylabel("excess loss over k-gram estimator (bits)")
    axes[1, 0].set_ylabel("best induction score over layers")
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "dynamics_curves.png", dpi=120)
    plt.close(fig)

    # 2. final excess loss by position (mean over seeds): where the remaining excess sits
    fig, axes = plt.subplots(1, len(orders), figsize=(4.2 * len(orders), 3.2), squeeze=False,
                             sharey=True)
    for col, k in enumerate(orders):
        ax = axes[0, col]
        for L in depths:
            rs = [r for (kk, LL, _), r in sorted(runs.items()) if kk == k and LL == L]
            if rs:
                by = np.mean([r["final"]["excess_by_position"] for r in rs], axis=0)
                ax.plot(np.arange(1, by.size + 1)[k - 1:], by[k - 1:], color=COLOURS.get(L),
                        lw=1.2, label=f"{L} layer{'s' if L > 1 else ''} ({len(rs)} seeds)")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(f"order k = {k}")
        ax.set_xlabel("position t of the predicted symbol")
    axes[0, 0].set_ylabel("excess loss over k-gram (bits)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "dynamics_by_position.png", dpi=120)
    plt.close(fig)

    # 3. attention maps of a trained 2-layer model (seed 0), first 32 positions
    two = [k for k in orders if (k, 2, 0) in runs]
    if two:
        n = 32
        fig, axes = plt.subplots(len(two), 2, figsize=(8.4, 4.0 * len(two)), squeeze=False)
        for row, k in enumerate(two):
            r = runs[(k, 2, 0)]
            seq = r["final"]["example_sequence"][:n]
            for layer in range(2):
                att = np.asarray(r["final"]["attention_example"][layer][0])[:n, :n]
                ax = axes[row, layer]
                ax.imshow(att, cmap="viridis", vmin=0, vmax=1)
                if layer == 1:  # outline the keys an induction head should attend to
                    from interplay.dynamics import matching_mask

                    full = r["final"]["example_sequence"]
                    mask = matching_mask(np.asarray([full]), k, 2)[0][:n, :n]
                    ys, xs = np.nonzero(mask)
                    ax.scatter(xs, ys, s=3, facecolors="none", edgecolors="#D55E00", lw=0.5)
                ax.set_xticks(range(n))
                ax.set_xticklabels(seq, fontsize=5)
                ax.set_yticks(range(n))
                ax.set_yticklabels(seq, fontsize=5)
                ind = r["final"]["induction"][layer][0]
                ax.set_title(f"k = {k}, layer {layer + 1} (induction score {ind:.2f})",
                             fontsize=9)
                ax.set_xlabel("key position (symbol)", fontsize=8)
                ax.set_ylabel("query position (symbol)", fontsize=8)
        fig.suptitle("Trained 2-layer models, seed 0; circles: keys whose preceding k symbols "
                     "match the query's context", fontsize=9)
        fig.tight_layout()
        fig.savefig(FIGURES / "dynamics_attention.png", dpi=120)
        plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--layers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--summarise-only", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not args.summarise_only:
        run_grid(args)
    summarise(args.out)


if __name__ == "__main__":
    main()
