"""Contrastive study: FactorCL against standard contrastive objectives, and binding through a hub.

Part A (FactorCL's synthetic claim): two modalities from Gaussian latent factors, shared ``s``
and unique ``u1``, ``u2``, each mixed by a fixed random tanh network; a binary label
``y = 1[sqrt(1 - r) w.s + sqrt(r) v.u1 > 0]`` whose unique share ``r`` runs from 0 (redundant:
the label is in what the views share) to 1 (unique to X1). Each objective trains two encoders
(same architecture, epochs and batch size for all); a linear probe on the frozen
``[enc1(x1), enc2(x2)]`` gives test accuracy. The data's PID (cluster estimator) is measured on
the same sets so the unique share is seen, not assumed.

Part B (binding): on mfeat, fou, kar, zer and mor are each aligned only with pix; retrieval
between non-hub pairs (never trained together) is compared with a model trained directly on the
pair and with chance, on held-out rows; then the modality gap of the bound fou/pix embeddings and
fou->pix retrieval as both are shifted along it.

Run:  python benchmarks/contrastive_study.py --out benchmarks/results/contrastive.json
      (add --quick for a smoke run)
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from interplay._atomic import atomic_write_text
from interplay.alignment import gap_sweep, modality_gap, mutual_knn, retrieval_metrics
from interplay.analysis.probe import linear_probe
from interplay.objectives.augment import GaussianNoise
from interplay.objectives.bind import BindModel, fit_bind
from interplay.objectives.contrastive import ClipLoss, nt_xent_loss, supcon_loss
from interplay.objectives.critics import mlp
from interplay.objectives.factorcl import FactorCL, fit_factorcl

METHODS = ("supervised", "clip", "simclr", "supcon", "factorcl_sup", "factorcl_ssl")


def make_factor_views(n: int, unique_share: float, seed: int, dim: int = 16,
                      latent: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of shared and unique Gaussian factors; label from both at a given unique share."""
    maps = np.random.default_rng(1000)  # the same mixing networks for every set
    w1 = [maps.standard_normal((2 * latent, dim)) / math.sqrt(2 * latent),
          maps.standard_normal((dim, dim)) / math.sqrt(dim)]
    w2 = [maps.standard_normal((2 * latent, dim)) / math.sqrt(2 * latent),
          maps.standard_normal((dim, dim)) / math.sqrt(dim)]
    ws, wu = maps.standard_normal(latent), maps.standard_normal(latent)
    rng = np.random.default_rng(seed)
    s, u1, u2 = (rng.standard_normal((n, latent)) for _ in range(3))

    def mix(z: np.ndarray, w: list[np.ndarray]) -> np.ndarray:
        h = np.tanh(z @ w[0])
        return h + 0.5 * np.tanh(h @ w[1]) + 0.05 * rng.standard_normal((n, dim))

    x1 = mix(np.hstack([s, u1]), w1)
    x2 = mix(np.hstack([s, u2]), w2)
    score = math.sqrt(1 - unique_share) * (s @ ws) / np.linalg.norm(ws) + math.sqrt(
        unique_share) * (u1 @ wu) / np.linalg.norm(wu)
    return x1.astype(np.float32), x2.astype(np.float32), (score > 0).astype(np.int64)


def _batches(n: int, b: int, gen: torch.Generator):
    order = torch.randperm(n, generator=gen)
    for i in range(0, n - 1, b):
        idx = order[i:i + b]
        if len(idx) >= 2:
            yield idx


def train_baseline(method: str, x1: np.ndarray, x2: np.ndarray, y: np.ndarray, *, feat: int,
                   epochs: int, batch: int, seed: int) -> tuple[nn.Module, nn.Module]:
    """Two encoders trained by one of the standard objectives."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    e1, e2 = mlp(x1.shape[1], feat, (128,)), mlp(x2.shape[1], feat, (128,))
    extra: nn.Module = nn.Linear(2 * feat, 2) if method == "supervised" else ClipLoss()
    opt = torch.optim.Adam([*e1.parameters(), *e2.parameters(), *extra.parameters()], lr=1e-3)
    t1, t2, ty = torch.as_tensor(x1), torch.as_tensor(x2), torch.as_tensor(y)
    aug = GaussianNoise(0.3)
    for _ in range(epochs):
        for idx in _batches(len(t1), batch, gen):
            a, b, yb = t1[idx], t2[idx], ty[idx]
            if method == "supervised":
                loss = nn.functional.cross_entropy(extra(torch.cat([e1(a), e2(b)], 1)), yb)
            elif method == "clip":
                loss = extra(e1(a), e2(b))
            elif method == "simclr":
                loss = (nt_xent_loss(e1(aug(a, gen)), e1(aug(a, gen)))
                        + nt_xent_loss(e2(aug(b, gen)), e2(aug(b, gen))))
            else:  # supcon: two augmented views per sample, label-aware positives
                labels = torch.cat([yb, yb])
                loss = (supcon_loss(torch.cat([e1(aug(a, gen)), e1(aug(a, gen))]), labels)
                        + supcon_loss(torch.cat([e2(aug(b, gen)), e2(aug(b, gen))]), labels))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return e1, e2


def represent(method: str, model: object, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    t1, t2 = torch.as_tensor(x1), torch.as_tensor(x2)
    with torch.no_grad():
        if method.startswith("factorcl"):
            return model.embed(t1, t2).numpy()  # type: ignore[attr-defined]
        e1, e2 = model  # type: ignore[misc]
        return torch.cat([e1(t1), e2(t2)], 1).numpy()


def data_pid(x1: np.ndarray, x2: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    import interplay

    r = interplay.quantify(x1, x2, y, estimator="cluster", random_state=seed)
    return {k: float(getattr(r, k)) for k in ("redundancy", "unique1", "unique2", "synergy")}


def part_a(shares: list[float], seeds: list[int], n_train: int, n_test: int, epochs: int
           ) -> list[dict[str, object]]:
    rows = []
    for share in shares:
        for seed in seeds:
            x1, x2, y = make_factor_views(n_train + n_test, share, seed)
            tr, te = slice(0, n_train), slice(n_train, None)
            pid = data_pid(x1[tr], x2[tr], y[tr], seed)
            for method in METHODS:
                t0 = time.perf_counter()
                if method.startswith("factorcl"):
                    torch.manual_seed(seed)
                    mode = method.split("_")[1]
                    model: object = FactorCL((x1.shape[1], x2.shape[1]),
                                             n_classes=2 if mode == "sup" else None, mode=mode,
                                             feat_dim=16, hidden=(128,))
                    fit_factorcl(model, x1[tr], x2[tr], y[tr] if mode == "sup" else None,
                                 augment=(GaussianNoise(0.3), GaussianNoise(0.3)),
                                 epochs=epochs, batch_size=256, seed=seed)
                else:
                    model = train_baseline(method, x1[tr], x2[tr], y[tr], feat=32,
                                           epochs=epochs, batch=256, seed=seed)
                z_tr = represent(method, model, x1[tr], x2[tr])
                z_te = represent(method, model, x1[te], x2[te])
                acc = linear_probe(z_tr, y[tr], z_test=z_te, y_test=y[te], seed=seed).accuracy
                rows.append({"unique_share": share, "seed": seed, "method": method,
                             "accuracy": acc, "seconds": time.perf_counter() - t0, **pid})
                print(f"share={share:.2f} seed={seed} {method:13s} acc={acc:.3f} "
                      f"U1={pid['unique1']:.3f} R={pid['redundancy']:.3f}", flush=True)
    return rows


def _standardise(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return ((x - ref.mean(0)) / (ref.std(0) + 1e-8)).astype(np.float32)


def part_b(seeds: list[int], epochs: int) -> dict[str, object]:
    import interplay

    ds = interplay.load_dataset("mfeat")
    mods = ["pix", "fou", "kar", "zer", "mor"]
    rng = np.random.default_rng(0)
    order = rng.permutation(ds.n_samples)
    tr, te = order[:1500], order[1500:]
    arrays = {m: np.asarray(ds.modalities[m], dtype=np.float64) for m in mods}
    train = {m: _standardise(a[tr], a[tr]) for m, a in arrays.items()}
    test = {m: _standardise(a[te], a[tr]) for m, a in arrays.items()}
    pairs = [("fou", "kar"), ("fou", "zer"), ("kar", "zer"), ("fou", "mor")]
    out: dict[str, list] = {"retrieval": [], "gap": [], "gap_sweep": []}
    for seed in seeds:
        torch.manual_seed(seed)
        bound = BindModel({m: a.shape[1] for m, a in train.items()}, hub="pix", dim=64)
        before = _embed(bound, test)
        fit_bind(bound, train, epochs=epochs, batch_size=128, seed=seed)
        after = _embed(bound, test)
        for a, b in pairs:
            torch.manual_seed(seed)
            direct = BindModel({a: train[a].shape[1], b: train[b].shape[1]}, hub=b, dim=64)
            fit_bind(direct, {a: train[a], b: train[b]}, epochs=epochs, batch_size=128,
                     seed=seed)
            zd = _embed(direct, {a: test[a], b: test[b]})
            for model, z in (("untrained", before), ("bound via pix", after), ("direct pair", zd)):
                m = retrieval_metrics(z[a], z[b], ks=(1, 10))
                out["retrieval"].append({
                    "seed": seed, "pair": f"{a}-{b}", "model": model,
                    "R@1": m["a_to_b_R@1"], "R@10": m["a_to_b_R@10"],
                    "median_rank": m["a_to_b_median_rank"],
                    "mutual_knn": mutual_knn(z[a], z[b], k=10),
                    "gap": modality_gap(z[a], z[b]).norm,
                })
        for name, z in (("untrained", before), ("bound via pix", after)):
            out["gap"].append({"seed": seed, "model": name,
                               **{f"{m}-pix": modality_gap(z[m], z["pix"]).norm
                                  for m in ("fou", "kar", "zer", "mor")}})
        if seed == seeds[0]:
            out["gap_sweep"] = gap_sweep(
                after["fou"], after["pix"],
                lambda sa, sb: retrieval_metrics(sa, sb, ks=(1,))["a_to_b_R@1"],
                lambdas=[float(v) for v in np.arange(-1.0, 2.01, 0.25)])
    out["chance"] = {"R@1": 1 / len(te), "R@10": 10 / len(te),
                     "median_rank": (len(te) + 1) / 2}
    return out


def _embed(model: BindModel, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        z = model.embed({m: torch.as_tensor(v) for m, v in data.items()})
    return {m: v.numpy() for m, v in z.items()}


def summarize(result: dict, figure: Path | None) -> str:
    """Markdown tables (mean +- std over seeds) and, optionally, the FactorCL figure."""
    lines = []
    rows = result.get("factorcl", [])
    if rows:
        shares = sorted({r["unique_share"] for r in rows})
        lines.append("| method | " + " | ".join(f"unique share {s:g}" for s in shares) + " |")
        lines.append("|---" * (len(shares) + 1) + "|")
        stats: dict[str, list[tuple[float, float]]] = {}
        for m in METHODS:
            cells = []
            for s in shares:
                acc = [r["accuracy"] for r in rows if r["method"] == m and r["unique_share"] == s]
                cells.append((float(np.mean(acc)), float(np.std(acc))))
            stats[m] = cells
            lines.append(f"| {m} | " + " | ".join(f"{a:.3f} ± {d:.3f}" for a, d in cells) + " |")
        for atom in ("redundancy", "unique1", "unique2", "synergy"):
            vals = [np.mean([r[atom] for r in rows if r["unique_share"] == s
                             and r["method"] == METHODS[0]]) for s in shares]
            lines.append(f"| data PID: {atom} (bits) | " + " | ".join(f"{v:.3f}" for v in vals)
                         + " |")
        if figure is not None:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6, 3.6))
            markers = "osD^vx"
            for (m, cells), mk in zip(stats.items(), markers, strict=False):
                ax.errorbar(shares, [c[0] for c in cells], yerr=[c[1] for c in cells],
                            marker=mk, capsize=3, label=m)
            ax.set_xlabel("unique share r of the label (0 = shared factors, 1 = unique to X1)")
            ax.set_ylabel("linear-probe test accuracy")
            ax.set_title("FactorCL vs contrastive baselines (mean ± std, 3 seeds)")
            ax.legend(fontsize=7, ncol=2)
            fig.tight_layout()
            fig.savefig(figure, dpi=120)
            plt.close(fig)
    b = result.get("binding")
    if b:
        lines.append("")
        lines.append("| pair | model | R@1 | R@10 | median rank | mutual kNN | gap |")
        lines.append("|---|---|---|---|---|---|---|")
        keys = sorted({(r["pair"], r["model"]) for r in b["retrieval"]},
                      key=lambda k: (k[0], ["untrained", "bound via pix", "direct pair"].index(
                          k[1])))
        for pair, model in keys:
            sel = [r for r in b["retrieval"] if r["pair"] == pair and r["model"] == model]
            cell = [f"{np.mean([r[k] for r in sel]):.3f} ± {np.std([r[k] for r in sel]):.3f}"
                    for k in ("R@1", "R@10", "median_rank", "mutual_knn", "gap")]
            lines.append(f"| {pair} | {model} | " + " | ".join(cell) + " |")
        c = b["chance"]
        lines.append(f"| any | chance | {c['R@1']:.3f} | {c['R@10']:.3f} | "
                     f"{c['median_rank']:.0f} | | |")
        lines.append("")
        lines.append("| λ | signed gap fou–pix | fou→pix R@1 |")
        lines.append("|---|---|---|")
        for r in b["gap_sweep"]:
            lines.append(f"| {r['lambda']:+.2f} | {r['gap']:+.3f} | {r['value']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/contrastive.json"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--part", choices=("a", "b", "both"), default="both")
    p.add_argument("--summarize", type=Path, default=None,
                   help="print the tables of an existing result JSON (no training)")
    p.add_argument("--figure", type=Path, default=None, help="with --summarize: write the plot")
    args = p.parse_args()
    if args.summarize is not None:
        print(summarize(json.loads(args.summarize.read_text()), args.figure))
        return
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    if args.quick:
        shares, seeds, n_train, n_test, epochs, bind_epochs = [0.0, 1.0], [0], 500, 300, 3, 3
    else:
        shares, seeds, n_train, n_test, epochs, bind_epochs = [0.0, 0.5, 1.0], [0, 1, 2], \
            1500, 1000, 10, 25
    result: dict[str, object] = {"kind": "contrastive_study"}
    if args.part in ("a", "both"):
        result["factorcl"] = part_a(shares, seeds, n_train, n_test, epochs)
    if args.part in ("b", "both"):
        result["binding"] = part_b(seeds[:2], bind_epochs)
    result["seconds"] = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1))
    print(f"wrote {args.out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
