"""Contrastive binding on av-digits: image <-> audio CLIP/SigLIP, speaker nuisance, the gap.

av-digits pairs a noisy 8x8 handwritten digit (``image``, 64 features) with a spoken digit word
(``audio``, 20 x 13 MFCCs = 260 features) of the same digit, said by one of 24 synthetic voices
(target ``voice``). A two-modality :class:`~interplay.objectives.bind.BindModel` with the image as
hub is a CLIP (or SigLIP) pair. Image and audio of one row share only the digit: the image is a
random handwritten sample of that digit and the voice is drawn independently, so instance-level
retrieval is bounded by a class-level oracle (the paired clip is one of ~50 test clips of the
digit), and class-level top-1 (does the first hit show the same digit?) is the informative score.
The images carry no speaker information, so the speaker probe on the audio embedding asks whether
alignment with images strips the nuisance. av-digits has no third real modality (the voice and
the digit are targets, and a noisy copy of a modality is not a modality), so nothing is bound
through the hub beyond the pair.

For each seed: the untrained encoders; CLIP and SigLIP early-stopped on a validation loss (the
instance pairing is memorisable: training longer drives the training loss towards 0 and lowers
the held-out class-level and probe scores); and both trained all 20 epochs ("all epochs"). On
500 held-out rows: retrieval (R@1, R@10, median rank) both ways, class-level top-1, linear-probe
digit accuracy of each embedding, speaker accuracy of the audio embedding, the modality gap;
next to the raw features, chance and the class oracle. Then "Mind the Gap": both modalities
shifted along the gap vector (lambda from -1 to 2; lambda > 0 closes it) and retrieval,
zero-shot digit accuracy of the audio from image prototypes, an image-trained probe applied to
audio, and the within-audio probe.

Run:  OMP_NUM_THREADS=1 nice -n 10 python benchmarks/contrastive_av.py \
          --out benchmarks/results/contrastive_av.json --figure docs/figures/contrastive_av_gap.png
      (--quick: one seed, fewer epochs; --summarize FILE prints the tables of a result)
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interplay import __version__
from interplay._atomic import atomic_write_text
from interplay.alignment import modality_gap, retrieval_metrics, shift_along_gap
from interplay.analysis.probe import linear_probe
from interplay.objectives.bind import BindModel, fit_bind

LAMBDAS = [float(v) for v in np.arange(-1.0, 2.01, 0.25)]
MODELS = ("untrained", "clip early-stopped", "clip all epochs", "siglip early-stopped",
          "siglip all epochs")
SWEPT = ("clip early-stopped", "clip all epochs", "siglip early-stopped")
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")


def load(n_fit: int, n_val: int) -> dict[str, Any]:
    """av-digits flattened, standardised by the fit rows, split into fit / validation / test."""
    import interplay

    ds = interplay.load_dataset("av-digits")
    raw = {m: np.asarray(v, dtype=np.float64).reshape(ds.n_samples, -1)
           for m, v in ds.modalities.items()}
    order = np.random.default_rng(0).permutation(ds.n_samples)
    parts = {"fit": order[:n_fit], "val": order[n_fit:n_fit + n_val],
             "test": order[n_fit + n_val:]}
    fit = parts["fit"]
    out: dict[str, Any] = {"settings": ds.metadata.extra["settings"]}
    for name, rows in parts.items():
        out[name] = {m: ((a[rows] - a[fit].mean(0)) / (a[fit].std(0) + 1e-8)).astype(np.float32)
                     for m, a in raw.items()}
        out[name + "_y"] = {t: np.asarray(ds.targets[t])[rows] for t in ("digit", "voice")}
    return out


def embed(model: BindModel, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        z = model.embed({m: torch.as_tensor(v) for m, v in data.items()})
    return {m: v.numpy() for m, v in z.items()}


def val_loss(model: BindModel, val: dict[str, np.ndarray]) -> float:
    """The model's loss on the whole validation set as one batch (fixed size, so comparable)."""
    with torch.no_grad():
        return float(model({m: torch.as_tensor(v) for m, v in val.items()})["loss"])


def train(loss: str, data: dict[str, Any], seed: int, epochs: int, early: bool
          ) -> tuple[BindModel, dict[str, Any]]:
    """CLIP/SigLIP pair, image as hub; with ``early`` the epoch of least validation loss."""
    torch.manual_seed(seed)
    model = BindModel({m: a.shape[1] for m, a in data["fit"].items()}, hub="image", dim=64,
                      loss=loss)
    best, best_epoch, best_state, losses = np.inf, 0, None, []
    for epoch in range(1, epochs + 1):
        fit_bind(model, data["fit"], epochs=1, batch_size=128, seed=1000 * seed + epoch)
        losses.append(val_loss(model, data["val"]))
        if early and losses[-1] < best:
            best, best_epoch, best_state = losses[-1], epoch, copy.deepcopy(model.state_dict())
        if early and epoch - best_epoch >= 4:
            break
    if early and best_state is not None:
        model.load_state_dict(best_state)
    return model, {"epochs": best_epoch if early else epochs, "val_losses": losses}


def class_top1(za: np.ndarray, zb: np.ndarray, ya: np.ndarray, yb: np.ndarray) -> dict[str, float]:
    """Fraction of queries whose first hit shows the same digit, both ways."""
    m = retrieval_metrics(za, zb, positives=ya[:, None] == yb[None, :], ks=(1,))
    return {"a_to_b": m["a_to_b_R@1"], "b_to_a": m["b_to_a_R@1"]}


def probe(z_tr: np.ndarray, y_tr: np.ndarray, z_te: np.ndarray, y_te: np.ndarray,
          seed: int) -> float:
    return linear_probe(z_tr, y_tr, z_test=z_te, y_test=y_te, seed=seed).accuracy


def prototype_accuracy(img_fit: np.ndarray, y_fit: np.ndarray, aud: np.ndarray,
                       y: np.ndarray) -> float:
    """Zero-shot digit of each audio row: the digit whose mean image embedding is most similar."""
    unit = img_fit / np.linalg.norm(img_fit, axis=1, keepdims=True)
    protos = np.stack([unit[y_fit == c].mean(0) for c in range(10)])
    a = aud / np.linalg.norm(aud, axis=1, keepdims=True)
    return float(np.mean(np.argmax(a @ protos.T, axis=1) == y))


def evaluate(z_fit: dict[str, np.ndarray], z_te: dict[str, np.ndarray], data: dict[str, Any],
             seed: int) -> dict[str, float]:
    """Retrieval, class top-1, probes and the gap of one model's embeddings."""
    yf, yt = data["fit_y"], data["test_y"]
    r = retrieval_metrics(z_te["image"], z_te["audio"], ks=(1, 10))
    c = class_top1(z_te["image"], z_te["audio"], yt["digit"], yt["digit"])
    g = modality_gap(z_te["image"], z_te["audio"])
    out = {f"{d}_{k}": r[f"{src}_{k}"] for d, src in (("i2a", "a_to_b"), ("a2i", "b_to_a"))
           for k in ("R@1", "R@10", "median_rank")}
    out.update({"class_i2a": c["a_to_b"], "class_a2i": c["b_to_a"], "gap": g.norm,
                "cone_image": g.cone_a, "cone_audio": g.cone_b,
                "zero_shot_audio": prototype_accuracy(z_fit["image"], yf["digit"],
                                                      z_te["audio"], yt["digit"])})
    for m in ("image", "audio"):
        for t in ("digit", "voice"):
            out[f"probe_{m}_{t}"] = probe(z_fit[m], yf[t], z_te[m], yt[t], seed)
    return out


def sweep(z_fit: dict[str, np.ndarray], z_te: dict[str, np.ndarray], data: dict[str, Any],
          seed: int) -> list[dict[str, float]]:
    """Scores after shifting both modalities along their gap (estimated on fit + test rows)."""
    yf, yt = data["fit_y"]["digit"], data["test_y"]["digit"]
    n = len(yf)
    img = np.vstack([z_fit["image"], z_te["image"]])
    aud = np.vstack([z_fit["audio"], z_te["audio"]])
    vec = modality_gap(z_te["image"], z_te["audio"]).vector
    rows = []
    for lam in LAMBDAS:
        si, sa = shift_along_gap(img, aud, lam)
        ti, ta = si[n:], sa[n:]
        diff = ti.mean(0) - ta.mean(0)
        r = retrieval_metrics(ti, ta, ks=(1, 10))
        c = class_top1(ti, ta, yt, yt)
        rows.append({
            "lambda": lam,
            "gap": float(np.sign(diff @ vec) or 1.0) * float(np.linalg.norm(diff)),
            "i2a_R@1": r["a_to_b_R@1"], "i2a_R@10": r["a_to_b_R@10"],
            "class_i2a": c["a_to_b"], "class_a2i": c["b_to_a"],
            "zero_shot_audio": prototype_accuracy(si[:n], yf, ta, yt),
            "cross_probe_image_to_audio": probe(si[:n], yf, ta, yt, seed),
            "probe_audio_digit": probe(sa[:n], yf, ta, yt, seed),
        })
    return rows


def references(data: dict[str, Any]) -> dict[str, Any]:
    """Raw-feature probes, chance levels and the class oracle of instance retrieval."""
    yf, yt = data["fit_y"], data["test_y"]
    from sklearn.decomposition import PCA

    raw = {f"probe_{m}_{t}": probe(data["fit"][m], yf[t], data["test"][m], yt[t], 0)
           for m in ("image", "audio") for t in ("digit", "voice")}
    pca = PCA(64, random_state=0).fit(data["fit"]["audio"])
    for t in ("digit", "voice"):  # the audio at the embeddings' width, no training
        raw[f"probe_audio_pca64_{t}"] = probe(pca.transform(data["fit"]["audio"]), yf[t],
                                              pca.transform(data["test"]["audio"]), yt[t], 0)
    n = len(yt["digit"])
    same = yt["digit"][:, None] == yt["digit"][None, :]
    rng = np.random.default_rng(0)
    draws = [retrieval_metrics(same + 1e-3 * rng.random(same.shape), ks=(1, 10))
             for _ in range(20)]
    oracle = {k: float(np.mean([d[f"a_to_b_{k}"] for d in draws]))
              for k in ("R@1", "R@10", "median_rank")}
    voices = np.bincount(yt["voice"])
    chance = {"R@1": 1 / n, "R@10": 10 / n, "median_rank": (n + 1) / 2,
              "class_top1": float(same.mean()), "digit": 0.1,
              "voice_uniform": 1 / len(np.unique(yf["voice"])),
              "voice_majority": float(voices.max() / n)}
    return {"raw": raw, "chance": chance, "class_oracle": oracle}


def run(seeds: list[int], epochs: int, n_fit: int, n_val: int) -> dict[str, Any]:
    data = load(n_fit, n_val)
    result: dict[str, Any] = {
        "dataset": {"name": "av-digits", **data["settings"], "n_fit": n_fit, "n_validation":
                    n_val, "n_test": len(data["test_y"]["digit"]),
                    "features": {m: int(a.shape[1]) for m, a in data["fit"].items()}},
        "third_modality": "none: av-digits has image and audio only; digit and voice are "
                          "targets, and a noisy copy of a modality is not a modality",
        "references": references(data), "runs": [], "gap_sweep": []}
    for seed in seeds:
        for name in MODELS:
            t0 = time.perf_counter()
            if name == "untrained":
                torch.manual_seed(seed)
                model = BindModel({m: a.shape[1] for m, a in data["fit"].items()}, hub="image",
                                  dim=64)
                info: dict[str, Any] = {"epochs": 0, "val_losses": []}
            else:
                model, info = train(name.split()[0], data, seed, epochs, "early" in name)
            z_fit, z_te = embed(model, data["fit"]), embed(model, data["test"])
            row = {"seed": seed, "model": name, **info, **evaluate(z_fit, z_te, data, seed)}
            if name in SWEPT:
                result["gap_sweep"] += [{"seed": seed, "model": name, **r}
                                        for r in sweep(z_fit, z_te, data, seed)]
            row["seconds"] = time.perf_counter() - t0
            result["runs"].append(row)
            print(f"seed={seed} {name:21s} epochs={row['epochs']:2d} "
                  f"class i2a={row['class_i2a']:.3f} audio digit={row['probe_audio_digit']:.3f} "
                  f"voice={row['probe_audio_voice']:.3f} gap={row['gap']:.3f} "
                  f"({row['seconds']:.1f} s)", flush=True)
    return result


def _ms(rows: list[dict[str, Any]], key: str) -> str:
    v = [r[key] for r in rows]
    return f"{np.mean(v):.3f} ± {np.std(v):.3f}"


def summarize(result: dict[str, Any], figure: Path | None) -> str:
    """Markdown tables (mean ± std over seeds) and, optionally, the gap-sweep figure."""
    runs, ref = result["runs"], result["references"]
    ch, orc, raw = ref["chance"], ref["class_oracle"], ref["raw"]
    by = {m: [r for r in runs if r["model"] == m] for m in MODELS}
    lines = ["| model | epochs | image→audio R@1 | R@10 | median rank | audio→image R@1 | "
             "class top-1 image→audio | class top-1 audio→image |",
             "|---|---|---|---|---|---|---|---|"]
    for m, rows in by.items():
        lines.append(f"| {m} | {_ms(rows, 'epochs')} | " + " | ".join(_ms(rows, k) for k in (
            "i2a_R@1", "i2a_R@10", "i2a_median_rank", "a2i_R@1", "class_i2a", "class_a2i"))
                     + " |")
    lines.append(f"| class oracle | | {orc['R@1']:.3f} | {orc['R@10']:.3f} | "
                 f"{orc['median_rank']:.1f} | {orc['R@1']:.3f} | 1 | 1 |")
    lines.append(f"| chance | | {ch['R@1']:.3f} | {ch['R@10']:.3f} | {ch['median_rank']:.1f} | "
                 f"{ch['R@1']:.3f} | {ch['class_top1']:.3f} | {ch['class_top1']:.3f} |")
    lines += ["", "| model | gap image–audio | cone image | cone audio |", "|---|---|---|---|"]
    for m, rows in by.items():
        lines.append(f"| {m} | " + " | ".join(_ms(rows, k) for k in (
            "gap", "cone_image", "cone_audio")) + " |")
    lines += ["", "| representation | image digit | audio digit | audio speaker | image speaker "
              "| zero-shot audio digit (image prototypes) |", "|---|---|---|---|---|---|"]
    lines.append(f"| raw features (64 / 260 wide) | {raw['probe_image_digit']:.3f} | "
                 f"{raw['probe_audio_digit']:.3f} | {raw['probe_audio_voice']:.3f} | "
                 f"{raw['probe_image_voice']:.3f} | |")
    lines.append(f"| raw audio, first 64 principal components | | "
                 f"{raw['probe_audio_pca64_digit']:.3f} | "
                 f"{raw['probe_audio_pca64_voice']:.3f} | | |")
    for m, rows in by.items():
        lines.append(f"| {m} (64 wide) | " + " | ".join(_ms(rows, k) for k in (
            "probe_image_digit", "probe_audio_digit", "probe_audio_voice", "probe_image_voice",
            "zero_shot_audio")) + " |")
    lines.append(f"| chance | {ch['digit']:.3f} | {ch['digit']:.3f} | {ch['voice_uniform']:.3f} "
                 f"(majority {ch['voice_majority']:.3f}) | {ch['voice_uniform']:.3f} | "
                 f"{ch['digit']:.3f} |")
    sw = result["gap_sweep"]
    keys = ("gap", "class_i2a", "zero_shot_audio", "cross_probe_image_to_audio",
            "probe_audio_digit")
    for m in SWEPT:
        lines += ["", f"{m}:", "", "| λ | signed gap | class top-1 image→audio | zero-shot audio "
                  "digit | image-trained probe on audio | audio probe |",
                  "|---|---|---|---|---|---|"]
        for lam in (lam for lam in LAMBDAS if lam in (-1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0)):
            rows = [r for r in sw if r["model"] == m and abs(r["lambda"] - lam) < 1e-9]
            lines.append(f"| {lam:+.2f} | " + " | ".join(_ms(rows, k) for k in keys) + " |")
    if figure is not None:
        _figure(sw, figure)
    return "\n".join(lines)


def _figure(sw: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("class_i2a", "class top-1 image→audio"),
              ("zero_shot_audio", "zero-shot audio digit\n(image prototypes)"),
              ("cross_probe_image_to_audio", "image-trained probe\napplied to audio"),
              ("probe_audio_digit", "audio digit probe\n(within modality)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(12, 3.6), sharex=True)
    for ax, (key, title) in zip(axes, panels, strict=True):
        for m, colour, mk in zip(SWEPT, OKABE_ITO[:3], "osD", strict=True):
            mean, std = [], []
            for lam in LAMBDAS:
                v = [r[key] for r in sw if r["model"] == m and abs(r["lambda"] - lam) < 1e-9]
                mean.append(np.mean(v))
                std.append(np.std(v))
            mean_a, std_a = np.array(mean), np.array(std)
            ax.plot(LAMBDAS, mean_a, marker=mk, ms=3, color=colour, label=m)
            ax.fill_between(LAMBDAS, mean_a - std_a, mean_a + std_a, color=colour, alpha=0.2)
        ax.axvline(0.0, color="0.6", lw=0.8, ls=":")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("λ (>0 closes the gap)")
    axes[0].set_ylabel("held-out accuracy")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(SWEPT), fontsize=8)
    fig.suptitle("av-digits image↔audio: scores as embeddings move along the modality gap "
                 "(mean ± std over seeds)", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/contrastive_av.json"))
    p.add_argument("--figure", type=Path, default=None, help="write the gap-sweep plot here")
    p.add_argument("--quick", action="store_true", help="one seed, 6 epochs (smoke run)")
    p.add_argument("--summarize", type=Path, default=None,
                   help="print the tables of an existing result JSON (no training)")
    args = p.parse_args()
    if args.summarize is not None:
        print(summarize(json.loads(args.summarize.read_text()), args.figure))
        return
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    seeds, epochs = ([0], 6) if args.quick else ([0, 1, 2], 20)
    body = run(seeds, epochs, n_fit=1097, n_val=200)
    result = {"kind": "contrastive_av", "interplay_version": __version__,
              "settings": {"seeds": seeds, "max_epochs": epochs, "dim": 64, "hidden": [256],
                           "batch_size": 128, "lr": 1e-3, "hub": "image", "patience": 4,
                           "lambdas": LAMBDAS},
              **body, "seconds": time.perf_counter() - t0}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1))
    print(summarize(result, args.figure))
    print(f"wrote {args.out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
