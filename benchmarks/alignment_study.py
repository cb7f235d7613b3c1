"""Emergence of alignment between independently trained unimodal encoders (Tjandrasuwita et
al., ICML 2025), reproduced small, plus the same measurement on real multi-view data.

Part 1 (synthetic, ``make_rus_alignment``): for every uniqueness U = 8 - r, heterogeneity depth
D_phi and seed, one MLP encoder per modality (ReLU, width 64, ``depth`` hidden layers) is
trained on its own to predict the label; nothing ties the two. On held-out samples the hidden
layers of both are clamped at the 0.95 quantile and L2-normalised, and alignment is the
maximum over layer pairs of mutual-kNN (k = 50 of n = 2048, the paper's k/n) and of debiased
linear CKA. Reported per D_phi: Spearman rho between maximum alignment and U (the paper:
-0.95, -0.83, -0.98, -0.98, -1.0 at D_phi = 1, 3, 5, 7, 9), and per U the Spearman correlation
between alignment and the transformed modality's test accuracy across encoder depths, D_phi
and seeds (the paper: about 0.65-0.7 at U = 0-1, about 0-0.1 at U = 7-8). Chance: mutual-kNN
k/(n-1); a permutation null is computed for the best layer pair of one setting per U.

Part 3 (av-digits, ``--parts av-digits``): image and audio encoders of each depth, snapshots
after 1, 3, 10 and 30 epochs; Spearman correlation between their alignment and each
modality's test accuracy (the paper's AVMNIST: 0.887 image, 0.723 audio).

Part 2 (mfeat, six views of 2000 handwritten digits): alignment of every pair of raw
(standardised) views against the pair's PID redundancy about the digit from ``pairwise_pid``
with the cluster estimator.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/alignment_study.py \\
        --out benchmarks/results/alignment_study.json --figure docs/figures/alignment_emergence.svg
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from typing import Any

import numpy as np

from interplay._atomic import atomic_write_text
from interplay.alignment import (
    chance_mutual_knn,
    cka,
    clamp_quantile,
    knn_indices,
    l2_normalize,
    layerwise,
    mutual_knn,
    permutation_null,
)
from interplay.data import make_rus_alignment

WIDTH = 64
#: Okabe-Ito colours (colour-blind safe).
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"]


def spearman(x: Any, y: Any) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def train_encoder(x: np.ndarray, y: np.ndarray, x_eval: np.ndarray, y_eval: np.ndarray,
                  depth: int, seed: int, epochs: int) -> tuple[float, list[np.ndarray]]:
    """Train an MLP classifier; return its held-out accuracy and its hidden activations."""
    return train_checkpoints(x, y, x_eval, y_eval, depth, seed, [epochs])[0]


def train_checkpoints(x: np.ndarray, y: np.ndarray, x_eval: np.ndarray, y_eval: np.ndarray,
                      depth: int, seed: int, checkpoints: list[int]
                      ) -> list[tuple[float, list[np.ndarray]]]:
    """Train an MLP classifier; after each number of epochs in ``checkpoints``, its held-out
    accuracy and hidden activations."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    mean, std = x.mean(0), x.std(0) + 1e-8
    layers: list[nn.Module] = []
    d_in = x.shape[1]
    for _ in range(depth):
        layers += [nn.Linear(d_in, WIDTH), nn.ReLU()]
        d_in = WIDTH
    body = nn.Sequential(*layers)
    head = nn.Linear(WIDTH, int(y.max()) + 1)
    model = nn.Sequential(body, head)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt = torch.tensor((x - mean) / std, dtype=torch.float32)
    yt = torch.tensor(y)
    gen = torch.Generator().manual_seed(seed)
    xe = torch.tensor((x_eval - mean) / std, dtype=torch.float32)
    out = []
    for epoch in range(1, max(checkpoints) + 1):
        for idx in torch.randperm(len(xt), generator=gen).split(256):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        if epoch not in checkpoints:
            continue
        hidden = []
        with torch.no_grad():
            h = xe
            for layer in body:
                h = layer(h)
                if isinstance(layer, nn.ReLU):
                    hidden.append(h.numpy().astype(np.float64))
            acc = float((head(h).argmax(1).numpy() == y_eval).mean())
        out.append((acc, hidden))
    return out


def knn_layerwise(na: list[np.ndarray], nb: list[np.ndarray]) -> tuple[float, tuple[int, int]]:
    """Max mutual-kNN over layer pairs from precomputed neighbour indices (one kNN per layer,
    not one per pair); equal to ``layerwise(..., mutual_knn).best``."""
    best, arg = -1.0, (0, 0)
    for i, a in enumerate(na):
        for j, b in enumerate(nb):
            both = np.sort(np.concatenate([a, b], axis=1), axis=1)
            score = float(np.mean(np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)))
            if score / a.shape[1] > best:
                best, arg = score / a.shape[1], (i, j)
    return best, arg


def preprocess(x: np.ndarray) -> np.ndarray:
    # a dead (all-zero) ReLU row has no direction: give it a tiny constant one
    z = clamp_quantile(x, 0.95)
    z[np.all(z == 0, axis=1)] = 1e-12
    return l2_normalize(z)


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    n_train, n_eval, k = args.n_train, args.n_eval, args.k
    rows = []
    t0 = time.time()
    for seed, u in itertools.product(range(args.seeds), args.uniqueness):
        r = 8 - u
        enc1: dict[int, tuple[float, list[np.ndarray], list[np.ndarray]]] = {}
        for dphi in args.dphi:
            d = make_rus_alignment(n_train + n_eval, redundancy=r, depth=dphi,
                                   random_state=seed, data_seed=1000 + seed)
            tr, ev = slice(0, n_train), slice(n_train, None)
            for depth in args.depths:
                if depth not in enc1:
                    acc, h = train_encoder(d.x1[tr], d.y[tr], d.x1[ev], d.y[ev], depth, seed,
                                           args.epochs)
                    hp = [preprocess(z) for z in h]
                    enc1[depth] = (acc, hp, [knn_indices(z, k) for z in hp])
                acc2, h2 = train_encoder(d.x2[tr], d.y[tr], d.x2[ev], d.y[ev], depth, seed,
                                         args.epochs)
                acc1, h1p, n1 = enc1[depth]
                h2p = [preprocess(z) for z in h2]
                knn_best, knn_arg = knn_layerwise(n1, [knn_indices(z, k) for z in h2p])
                ck = layerwise(h1p, h2p, lambda a, b: cka(a, b, debiased=True))
                row = {"seed": seed, "U": u, "dphi": dphi, "depth": depth, "acc1": acc1,
                       "acc2": acc2, "mutual_knn": knn_best, "debiased_cka": ck.best,
                       "knn_argmax": knn_arg}
                if seed == 0 and dphi == args.dphi[0] and depth == args.depths[-1]:
                    i, j = knn_arg
                    null = permutation_null(mutual_knn, h1p[i], h2p[j], args.permutations,
                                            random_state=0, k=k)
                    row["knn_null"] = null.to_dict()
                rows.append(row)
                print(f"[{time.time() - t0:6.0f}s] seed={seed} U={u} dphi={dphi} "
                      f"depth={depth} acc=({acc1:.3f}, {acc2:.3f}) kNN={knn_best:.3f} "
                      f"CKA={ck.best:.3f}", flush=True)
    summary: dict[str, Any] = {"rho_alignment_U": {}, "rho_alignment_acc": {}}
    for metric in ("mutual_knn", "debiased_cka"):
        per = {}
        for dphi in args.dphi:
            sel = [r for r in rows if r["dphi"] == dphi]
            # the paper's curve: per U, the largest (seed-mean) alignment over encoder depths
            curve = [max(np.mean([r[metric] for r in sel if r["U"] == u and r["depth"] == dep])
                         for dep in args.depths) for u in args.uniqueness]
            per[str(dphi)] = {
                "rho_points": spearman([r["U"] for r in sel], [r[metric] for r in sel]),
                "rho_curve": spearman(args.uniqueness, curve), "curve": curve}
        summary["rho_alignment_U"][metric] = per
        summary["rho_alignment_acc"][metric] = {
            str(u): spearman([r[metric] for r in rows if r["U"] == u],
                             [r["acc2"] for r in rows if r["U"] == u])
            for u in args.uniqueness}
    return {"rows": rows, "summary": summary, "chance_mutual_knn": chance_mutual_knn(n_eval, k),
            "seconds": time.time() - t0}


def mfeat(args: argparse.Namespace) -> dict[str, Any]:
    from interplay.data import load_dataset
    from interplay.estimators import pairwise_pid

    ds = load_dataset("mfeat")
    views = {m: ds.modalities[m] for m in ds.modality_names}
    std = {m: (v - v.mean(0)) / (v.std(0) + 1e-12) for m, v in views.items()}
    t0 = time.time()
    sweep = pairwise_pid(ds, estimator="cluster", progress=False, random_state=0)
    pairs = []
    for name, res in zip(sweep.names, sweep.results, strict=True):
        a, b = name.split(", ")
        pairs.append({"pair": name, "redundancy": float(res.redundancy),
                      "synergy": float(res.synergy), "mi_joint": float(res.mi_joint),
                      "mutual_knn": mutual_knn(std[a], std[b], 10),
                      "debiased_cka": cka(std[a], std[b], debiased=True)})
    red = [p["redundancy"] for p in pairs]
    return {"pairs": pairs, "chance_mutual_knn": chance_mutual_knn(ds.n_samples, 10),
            "rho_knn_redundancy": spearman([p["mutual_knn"] for p in pairs], red),
            "rho_cka_redundancy": spearman([p["debiased_cka"] for p in pairs], red),
            "seconds": time.time() - t0}


def av_digits(args: argparse.Namespace) -> dict[str, Any]:
    """Image vs audio encoders on av-digits: alignment against each modality's accuracy."""
    from interplay.data import load_dataset

    ds = load_dataset("av-digits")
    x = {m: ds.modalities[m].reshape(ds.n_samples, -1).astype(np.float64)
         for m in ("image", "audio")}
    y = ds.target
    t0 = time.time()
    rows = []
    checkpoints = [1, 3, 10, 30]
    for seed in range(args.seeds):
        tr, _, te = ds.split_indices(validation=0.0, test=0.3, seed=seed, stratify=True)
        for depth in args.depths:
            runs = {m: train_checkpoints(x[m][tr], y[tr], x[m][te], y[te], depth, seed,
                                         checkpoints) for m in x}
            for c, (img, aud) in zip(checkpoints, zip(runs["image"], runs["audio"],
                                                        strict=True), strict=True):
                hi, ha = [preprocess(h) for h in img[1]], [preprocess(h) for h in aud[1]]
                rows.append({"seed": seed, "depth": depth, "epochs": c, "acc_image": img[0],
                             "acc_audio": aud[0],
                             "mutual_knn": layerwise(hi, ha, mutual_knn, k=10).best,
                             "debiased_cka": layerwise(
                                 hi, ha, lambda a, b: cka(a, b, debiased=True)).best})
                print(f"[{time.time() - t0:6.0f}s] av-digits {rows[-1]}", flush=True)
    raw = {m: (v - v.mean(0)) / (v.std(0) + 1e-12) for m, v in x.items()}
    n_te = len(te)
    return {"rows": rows, "chance_mutual_knn": chance_mutual_knn(n_te, 10),
            "raw_mutual_knn": mutual_knn(raw["image"], raw["audio"], 10),
            "raw_debiased_cka": cka(raw["image"], raw["audio"], debiased=True),
            "rho": {metric: {mod: spearman([r[metric] for r in rows],
                                           [r[f"acc_{mod}"] for r in rows])
                             for mod in ("image", "audio")}
                    for metric in ("mutual_knn", "debiased_cka")},
            "seconds": time.time() - t0}


def figure(result: dict[str, Any], path: str, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    syn = result["synthetic"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, metric, title in ((axes[0], "mutual_knn", f"mutual kNN (k={args.k})"),
                              (axes[1], "debiased_cka", "debiased linear CKA")):
        for c, dphi in zip(COLOURS, args.dphi, strict=False):
            per = syn["summary"]["rho_alignment_U"][metric][str(dphi)]
            ax.plot(args.uniqueness, per["curve"], "o-", color=c,
                    label=f"D_phi={dphi} (rho={per['rho_curve']:.2f})")
        if metric == "mutual_knn":
            ax.axhline(syn["chance_mutual_knn"], color="grey", ls=":", label="chance k/(n-1)")
        else:
            ax.axhline(0.0, color="grey", ls=":", label="chance 0")
        ax.set_xlabel("uniqueness U (label bits not shared)")
        ax.set_ylabel("max alignment over layer pairs")
        ax.set_title(title)
        ax.legend(fontsize=7)
    mf = result.get("mfeat")
    ax = axes[2]
    if mf:
        x = [p["redundancy"] for p in mf["pairs"]]
        y = [p["mutual_knn"] for p in mf["pairs"]]
        ax.scatter(x, y, color=COLOURS[0])
        for p, xi, yi in zip(mf["pairs"], x, y, strict=True):
            ax.annotate(p["pair"], (xi, yi), fontsize=6)
        ax.axhline(mf["chance_mutual_knn"], color="grey", ls=":", label="chance")
        ax.set_xlabel("PID redundancy about the digit (bits, cluster estimator)")
        ax.set_ylabel("mutual kNN (k=10) of the raw views")
        ax.set_title(f"mfeat view pairs (rho={mf['rho_knn_redundancy']:.2f})")
    fig.tight_layout()
    fig.savefig(path + ".tmp.svg")
    os.replace(path + ".tmp.svg", path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--uniqueness", type=int, nargs="+", default=[0, 2, 4, 6, 8])
    p.add_argument("--dphi", type=int, nargs="+", default=[1, 3, 5])
    p.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 4])
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--n-train", type=int, default=8192)
    p.add_argument("--n-eval", type=int, default=2048)
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--permutations", type=int, default=20)
    p.add_argument("--parts", nargs="+", default=["synthetic", "mfeat"],
                   choices=["synthetic", "mfeat", "av-digits"])
    p.add_argument("--out", default=None)
    p.add_argument("--figure", default=None)
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    parts = {"synthetic": synthetic, "mfeat": mfeat, "av-digits": av_digits}
    result: dict[str, Any] = {"kind": "alignment_study", "args": vars(args)}
    for part in args.parts:
        result[part] = parts[part](args)
        shown = {k: v for k, v in result[part].items() if k not in ("rows", "pairs")}
        print(json.dumps(shown, indent=1, default=str), flush=True)
    if args.out:
        from interplay._json import dumps

        atomic_write_text(args.out, dumps(result) + "\n")
    if args.figure and "synthetic" in result:
        figure(result, args.figure, args)


if __name__ == "__main__":
    main()
