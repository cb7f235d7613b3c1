"""Fusion accuracy and robustness: every registered fusion against unimodal baselines.

For each dataset, every fusion of :func:`interplay.models.list_fusions`, one unimodal baseline
per modality and the unimodal ensemble are trained with the same encoders, optimiser, epochs and
early stopping, over several seeds, on CPU with one thread. Each trained model is then swept
(:func:`interplay.analysis.robustness_sweep`) on the test split: each modality dropped, and
Gaussian noise of rising level added to each modality in turn. Noise curves are compared with
the unimodal ensemble's curve of the same seed (relative and effective robustness, see
:mod:`interplay.analysis.robustness`).

Protocol (the same for every model; ``--quick`` shrinks it for a smoke run):

* data: the chosen modalities (``DATASETS``), one stratified train/validation/test split
  (65/10/25 %, split seed 0) shared by all seeds; every feature standardised with the training
  split's mean and standard deviation;
* encoders: vectors -> MLP (one hidden layer of 64), 8x8 images -> CNN (16 and 32 channels),
  MFCC frames -> 1-D conv (hidden 32, 2 layers), all to 16 features;
* fusions: registry defaults, fused size 32, linear classification head; a unimodal baseline
  is the same encoder with a linear head on its 16 features; the ensemble averages the
  probabilities of the unimodal baselines of the same seed (no further training);
* training: Adam, lr 1e-3, batch 64, at most 100 epochs, early stopping on the validation loss
  with patience 10, weights of the best epoch restored; complete data (no modality dropout).

Run single-threaded::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/fusion_table.py

It writes ``benchmarks/results/fusion_table.json``, ``docs/fusion-results.md`` and
``docs/figures/fusion_<dataset>_{noise,dropped}.svg``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from interplay.analysis import (
    effective_robustness,
    relative_robustness,
    robustness_auc,
    robustness_sweep,
)
from interplay.data import load_dataset
from interplay.exceptions import ConvergenceError
from interplay.info.estimate.resampling import _progress
from interplay.info.pid.result import _jsonable
from interplay.models import (
    MultimodalModel,
    UnimodalEnsemble,
    UnimodalModel,
    create_encoder,
    create_fusion,
    create_head,
    list_fusions,
)
from interplay.training import Task, Trainer, atomic_write, seed_everything, summarize_seeds

ROOT = Path(__file__).resolve().parent.parent
ENSEMBLE = "unimodal ensemble"


@dataclass(frozen=True)
class Protocol:
    """Everything that is the same for every model of the table."""

    seeds: tuple[int, ...] = (0, 1, 2)
    max_epochs: int = 100
    patience: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    encoder_dim: int = 16
    fused_dim: int = 32
    validation: float = 0.10
    test: float = 0.25
    split_seed: int = 0
    noise_levels: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    noise_repeats: int = 2
    max_samples: int | None = None


QUICK = Protocol(seeds=(0, 1), max_epochs=3, patience=2, noise_levels=(0.0, 1.0, 4.0),
                 noise_repeats=1, max_samples=400)


@dataclass(frozen=True)
class DatasetSpec:
    """A bundled dataset, the modalities used and why."""

    name: str
    modalities: tuple[str, ...]
    target: str
    why: str


DATASETS = {
    "mfeat": DatasetSpec(
        "mfeat", ("fou", "kar", "mor"), "digit",
        "three different feature families (Fourier contour coefficients, Karhunen-Loeve "
        "pixel coefficients, six morphological features), each imperfect alone (logistic "
        "regression 0.82 / 0.94 / 0.71) but 0.98 together, so fusion has room to help; fac "
        "and pix are left out because alone they are already near the ceiling (0.99 / 0.96)",
    ),
    "av-digits": DatasetSpec(
        "av-digits", ("image", "audio"), "digit",
        "both modalities: noisy 8x8 digit image and MFCCs of the spoken digit "
        "(logistic regression 0.72 / 0.88 alone, 0.96 together)",
    ),
}


# ------------------------------------------------------------------------------------ data
@dataclass
class Prepared:
    """Standardised float32 tensors of one dataset's splits."""

    kinds: dict[str, str]
    shapes: dict[str, tuple[int, ...]]
    n_classes: int
    train: tuple[dict[str, torch.Tensor], torch.Tensor]
    val: tuple[dict[str, torch.Tensor], torch.Tensor]
    test: tuple[dict[str, torch.Tensor], torch.Tensor]


def prepare(spec: DatasetSpec, protocol: Protocol) -> Prepared:
    """Load, subsample (``max_samples``), split stratified, standardise with training statistics.

    Images gain a channel axis, ``(N, H, W) -> (N, 1, H, W)``. Each entry of a sample is
    standardised on its own (per pixel, per MFCC frame and coefficient); constant entries keep
    a scale of 1.
    """
    ds = load_dataset(spec.name).select(modalities=list(spec.modalities))
    if protocol.max_samples is not None and protocol.max_samples < ds.n_samples:
        rows = np.random.default_rng(protocol.split_seed).permutation(ds.n_samples)
        ds = ds.select(samples=np.sort(rows[: protocol.max_samples]))
    parts = ds.split_indices(validation=protocol.validation, test=protocol.test,
                             seed=protocol.split_seed, stratify=spec.target)
    arrays, y = ds.to_numpy(target=spec.target)
    kinds = dict(ds.metadata.modality_kinds)
    for m in spec.modalities:
        if kinds[m] == "image":
            arrays[m] = arrays[m][:, None]
    stats = {}
    for m, x in arrays.items():
        train = x[parts[0]].astype(np.float64)
        sd = train.std(axis=0)
        stats[m] = (train.mean(axis=0), np.where(sd > 1e-8, sd, 1.0))

    def take(idx: np.ndarray) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        inputs = {m: torch.as_tensor((x[idx] - stats[m][0]) / stats[m][1], dtype=torch.float32)
                  for m, x in arrays.items()}
        return inputs, torch.as_tensor(y[idx], dtype=torch.long)

    return Prepared(kinds=kinds, shapes={m: x.shape[1:] for m, x in arrays.items()},
                    n_classes=int(np.unique(y).size), train=take(parts[0]), val=take(parts[1]),
                    test=take(parts[2]))


# ---------------------------------------------------------------------------------- models
def make_encoder(kind: str, shape: tuple[int, ...], dim: int) -> nn.Module:
    """The encoder every model uses for a modality of this kind (see the module docstring)."""
    if kind == "image":
        return create_encoder("image", shape, dim, channels=(16, 32))
    if kind in ("audio", "sequence"):
        return create_encoder("audio", shape, dim, hidden_dim=32, n_layers=2)
    return create_encoder("vector", int(np.prod(shape)), dim, hidden_dims=(64,))


def build_fusion_model(name: str, data: Prepared, protocol: Protocol) -> MultimodalModel:
    encoders = {m: make_encoder(data.kinds[m], data.shapes[m], protocol.encoder_dim)
                for m in data.shapes}
    fusion = create_fusion(name, {m: protocol.encoder_dim for m in data.shapes},
                           protocol.fused_dim)
    return MultimodalModel(encoders, fusion,
                           create_head("classification", protocol.fused_dim, data.n_classes))


def build_unimodal_model(modality: str, data: Prepared, protocol: Protocol) -> UnimodalModel:
    encoder = make_encoder(data.kinds[modality], data.shapes[modality], protocol.encoder_dim)
    return UnimodalModel(modality, encoder,
                         create_head("classification", protocol.encoder_dim, data.n_classes))


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def predictor(model: nn.Module, order: Sequence[str]) -> Callable[[Any, Any], torch.Tensor]:
    """``predict_fn(inputs, mask)`` for a robustness sweep whose mask columns are ``order``."""
    if isinstance(model, UnimodalModel):
        column = list(order).index(model.modality)
        return lambda inputs, mask: model(inputs, mask[:, column])
    return lambda inputs, mask: model(inputs, mask)


# -------------------------------------------------------------------------------- one run
def train(model: nn.Module, data: Prepared, protocol: Protocol, seed: int) -> dict[str, Any]:
    """Fit ``model`` (already built under ``seed``); return metrics and timing of the run."""
    trainer = Trainer(max_epochs=protocol.max_epochs, batch_size=protocol.batch_size,
                      lr=protocol.lr, seed=seed, patience=protocol.patience, progress=False)
    start = time.perf_counter()
    result = trainer.fit(Task(model), data.train, data.val)
    return {"train_seconds": time.perf_counter() - start,
            "epochs": result.epochs_completed, "best_epoch": result.best_epoch,
            "val_accuracy": result.metrics["val_accuracy"]}


def sweep(model: nn.Module, data: Prepared, protocol: Protocol, seed: int,
          order: Sequence[str]) -> dict[str, Any]:
    """Test accuracy and the robustness sweep of a trained model."""
    model.eval()
    inputs, y = data.test
    result = robustness_sweep(predictor(model, order), inputs, y,
                              noise_levels=protocol.noise_levels, mask_order=order,
                              n_repeats=protocol.noise_repeats, random_state=seed)
    return {"test_accuracy": result.clean, "robustness": result.to_dict()}


def compare_curves(run: dict[str, Any], baseline: dict[str, Any],
                   levels: Sequence[float]) -> None:
    """Add relative and effective robustness of each noise curve against the baseline's."""
    ours, base = run["robustness"]["noisy"], baseline["robustness"]["noisy"]
    run["relative_robustness"] = {m: relative_robustness(ours[m], base[m], levels) for m in ours}
    run["effective_robustness"] = {m: effective_robustness(ours[m], base[m], levels)
                                   for m in ours}


# ------------------------------------------------------------------------------ a dataset
def run_dataset(spec: DatasetSpec, protocol: Protocol, fusions: Sequence[str],
                bar: Any) -> dict[str, Any]:
    """Train and sweep every model on one dataset over all seeds."""
    data = prepare(spec, protocol)
    order = tuple(data.shapes)
    models: dict[str, dict[str, Any]] = {}

    def record(name: str, kind: str, model: nn.Module, run: dict[str, Any]) -> None:
        entry = models.setdefault(name, {"kind": kind, "parameters": n_parameters(model),
                                         "runs": [], "failures": []})
        entry["runs"].append(run)

    job = bar.add_task(spec.name, total=len(protocol.seeds) * (len(fusions) + len(order)))
    for seed in protocol.seeds:
        unimodal = {}
        for m in order:
            seed_everything(seed)
            model = build_unimodal_model(m, data, protocol)
            run = {"seed": seed, **train(model, data, protocol, seed),
                   **sweep(model, data, protocol, seed, order)}
            record(f"{m} only", "unimodal", model, run)
            unimodal[m] = (model, run)
            bar.advance(job)
        ensemble = UnimodalEnsemble({m: mod for m, (mod, _) in unimodal.items()})
        base = {"seed": seed, "train_seconds": sum(r["train_seconds"] for _, r in unimodal.values()),
                **sweep(ensemble, data, protocol, seed, order)}
        record(ENSEMBLE, "ensemble", ensemble, base)
        for m in order:
            compare_curves(models[f"{m} only"]["runs"][-1], base, protocol.noise_levels)
        compare_curves(base, base, protocol.noise_levels)
        for name in fusions:
            seed_everything(seed)
            model = build_fusion_model(name, data, protocol)
            try:
                run = {"seed": seed, **train(model, data, protocol, seed),
                       **sweep(model, data, protocol, seed, order)}
            except ConvergenceError as exc:
                models.setdefault(name, {"kind": "fusion", "parameters": n_parameters(model),
                                         "runs": [], "failures": []})
                models[name]["failures"].append({"seed": seed, "error": str(exc)})
            else:
                compare_curves(run, base, protocol.noise_levels)
                record(name, "fusion", model, run)
            bar.advance(job)
    chance = models[ENSEMBLE]["runs"][0]["robustness"]["chance"]
    for entry in models.values():
        entry["summary"] = summarise(entry["runs"], order)
        entry["flags"] = flags(entry, chance)
    return {
        "modalities": list(order), "why": spec.why, "target": spec.target,
        "n_classes": data.n_classes,
        "n_train": int(data.train[1].shape[0]), "n_val": int(data.val[1].shape[0]),
        "n_test": int(data.test[1].shape[0]), "chance": chance,
        "robustness_baseline": ENSEMBLE, "models": models,
    }


def summarise(runs: list[dict[str, Any]], order: Sequence[str]) -> dict[str, Any] | None:
    """Mean and std over seeds of accuracy, time, drops, curve areas and robustness scores."""
    if not runs:
        return None
    rows = []
    for run in runs:
        rob = run["robustness"]
        row = {k: run[k] for k in ("test_accuracy", "train_seconds")}
        row.update({k: run[k] for k in ("val_accuracy", "epochs") if k in run})
        row.update({f"dropped_{m}": rob["dropped"][m] for m in order})
        for m in order:
            row[f"relative_{m}"] = run["relative_robustness"][m]
            row[f"effective_{m}"] = run["effective_robustness"][m]
        row["relative_mean"] = float(np.mean([run["relative_robustness"][m] for m in order]))
        row["effective_mean"] = float(np.mean([run["effective_robustness"][m] for m in order]))
        rows.append(row)
    summary = summarize_seeds(rows)
    curves = {m: np.mean([r["robustness"]["noisy"][m] for r in runs], axis=0).tolist()
              for m in order}
    return {**summary.to_dict(), "noise_curves": curves}


def flags(entry: dict[str, Any], chance: float) -> list[str]:
    """Problems worth a reader's attention: failed seeds, non-finite or near-chance accuracy."""
    found = [f"seed {f['seed']} failed: {f['error']}" for f in entry["failures"]]
    for run in entry["runs"]:
        acc = run["test_accuracy"]
        if not math.isfinite(acc) or acc < chance + 0.1:
            found.append(f"seed {run['seed']}: test accuracy {acc:.3f} is near chance "
                         f"({chance:.3f})")
    return found


# --------------------------------------------------------------------------------- output
def fmt(summary: dict[str, Any] | None, key: str, digits: int = 3) -> str:
    if summary is None or key not in summary["mean"]:
        return "n/a"
    mean, std = summary["mean"][key], summary["std"][key]
    if std is None or not math.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def ranked(models: dict[str, Any]) -> list[str]:
    """Model names by mean test accuracy, best first; failed models last."""
    def key(name: str) -> float:
        s = models[name]["summary"]
        return -s["mean"]["test_accuracy"] if s else math.inf
    return sorted(models, key=key)


def accuracy_table(res: dict[str, Any]) -> list[str]:
    order = res["modalities"]
    head = (["model", "kind", "test accuracy", "parameters", "train s", "epochs"]
            + [f"{m} dropped" for m in order])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in ranked(res["models"]):
        e, s = res["models"][name], res["models"][name]["summary"]
        cells = [f"`{name}`" if e["kind"] == "fusion" else name, e["kind"],
                 fmt(s, "test_accuracy"), f"{e['parameters']:,}", fmt(s, "train_seconds", 1),
                 fmt(s, "epochs", 0) if e["kind"] != "ensemble" else "-"]
        cells += [fmt(s, f"dropped_{m}") for m in order]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def robustness_table(res: dict[str, Any], levels: Sequence[float]) -> list[str]:
    order = res["modalities"]
    head = (["model"] + [f"mean acc., noise on {m}" for m in order]
            + ["relative (mean)", "effective (mean)"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in ranked(res["models"]):
        s = res["models"][name]["summary"]
        if s is None:
            continue
        aucs = [robustness_auc(s["noise_curves"][m], levels) for m in order]
        cells = [name] + [f"{a:.3f}" for a in aucs]
        cells += [fmt(s, "relative_mean"), fmt(s, "effective_mean")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def conclusions(res: dict[str, Any]) -> list[str]:
    """Statements that follow from the numbers of one dataset (no hand-written claims)."""
    models = res["models"]
    ok = [n for n in ranked(models) if models[n]["summary"]]
    acc = {n: models[n]["summary"]["mean"]["test_accuracy"] for n in ok}
    sd = {n: models[n]["summary"]["std"]["test_accuracy"] or 0.0 for n in ok}
    fusions = [n for n in ok if models[n]["kind"] == "fusion"]
    unimodal = [n for n in ok if models[n]["kind"] == "unimodal"]
    ens = acc[ENSEMBLE]
    out = []
    if fusions:
        best, worst = fusions[0], fusions[-1]
        out.append(f"Best fusion: `{best}` ({acc[best]:.3f}); weakest: `{worst}` "
                   f"({acc[worst]:.3f}); best unimodal baseline: {unimodal[0]} "
                   f"({acc[unimodal[0]]:.3f}); unimodal ensemble: {ens:.3f}.")
        above = [f"`{n}`" for n in fusions if acc[n] - sd[n] > ens + sd[ENSEMBLE]]
        below = [f"`{n}`" for n in fusions if acc[n] + sd[n] < ens - sd[ENSEMBLE]]
        out.append("Fusions above the ensemble by more than one std on both sides: "
                   + (", ".join(above) or "none") + "; below it: " + (", ".join(below) or "none")
                   + "; the rest are within the seed spread.")
        below_uni = [f"`{n}`" for n in fusions if acc[n] < acc[unimodal[0]]]
        if below_uni:
            out.append("Fusions below the best unimodal baseline: " + ", ".join(below_uni) + ".")
        rel = {n: models[n]["summary"]["mean"]["relative_mean"] for n in fusions}
        eff = {n: models[n]["summary"]["mean"]["effective_mean"] for n in fusions}
        most, least = max(rel, key=rel.get), min(rel, key=rel.get)
        out.append(f"Under noise, relative to the ensemble (averaged over the noised modality): "
                   f"most robust area `{most}` ({rel[most]:.3f}), least `{least}` "
                   f"({rel[least]:.3f}); effective robustness ranges from "
                   f"{min(eff.values()):+.3f} to {max(eff.values()):+.3f}.")
        for m in res["modalities"]:
            drop = {n: models[n]["summary"]["mean"][f"dropped_{m}"] for n in fusions + [ENSEMBLE]}
            worst_drop = min(drop, key=drop.get)
            out.append(f"With `{m}` dropped, the ensemble keeps {drop[ENSEMBLE]:.3f}; the fusions "
                       f"range from {min(drop[n] for n in fusions):.3f} (`{worst_drop}`) to "
                       f"{max(drop[n] for n in fusions):.3f}.")
    for n in models:
        for f in models[n]["flags"]:
            out.append(f"**`{n}`**: {f}.")
    return out


def write_figures(name: str, res: dict[str, Any], levels: Sequence[float],
                  folder: Path) -> list[Path]:
    """Noise curves per modality and accuracies with each modality dropped, as SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 8})
    folder.mkdir(parents=True, exist_ok=True)
    order, models = res["modalities"], res["models"]
    names = [n for n in ranked(models) if models[n]["summary"]]
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, 20))
    style = {n: {"color": "black", "lw": 2.2} if models[n]["kind"] == "ensemble"
             else {"color": colours[i % 20], "lw": 1.2,
                   "ls": "--" if models[n]["kind"] == "unimodal" else "-"}
             for i, n in enumerate(names)}

    fig, axes = plt.subplots(1, len(order), figsize=(3.2 * len(order) + 1.6, 3.0), sharey=True)
    for ax, m in zip(np.atleast_1d(axes), order, strict=True):
        for n in names:
            ax.plot(levels, models[n]["summary"]["noise_curves"][m], marker=".", label=n,
                    **style[n])
        ax.axhline(res["chance"], color="grey", lw=0.8, ls=":")
        ax.set(title=f"noise on {m}", xlabel="noise level (x std)")
    np.atleast_1d(axes)[0].set_ylabel("test accuracy (mean over seeds)")
    np.atleast_1d(axes)[-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    noise = folder / f"fusion_{name}_noise.svg"
    fig.savefig(noise, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(names) + 1.5), 3.0))
    x = np.arange(len(names))
    keys = ["test_accuracy"] + [f"dropped_{m}" for m in order]
    labels = ["all present"] + [f"{m} dropped" for m in order]
    width = 0.8 / len(keys)
    for i, (k, label) in enumerate(zip(keys, labels, strict=True)):
        means = [models[n]["summary"]["mean"][k] for n in names]
        stds = [models[n]["summary"]["std"][k] or 0.0 for n in names]
        ax.bar(x + (i - (len(keys) - 1) / 2) * width, means, width, yerr=stds, label=label,
               error_kw={"lw": 0.6})
    ax.axhline(res["chance"], color="grey", lw=0.8, ls=":")
    ax.set_xticks(x, names, rotation=35, ha="right")
    ax.set_ylabel("test accuracy")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=len(keys), frameon=False)
    dropped = folder / f"fusion_{name}_dropped.svg"
    fig.savefig(dropped, bbox_inches="tight")
    plt.close(fig)
    return [noise, dropped]


def write_markdown(path: Path, results: dict[str, Any], figures: dict[str, list[Path]]) -> None:
    p = results["protocol"]
    levels = p["noise_levels"]
    lines = [
        "# Fusion models on mfeat and av-digits: accuracy and robustness",
        "",
        "Every registered fusion next to one unimodal baseline per modality and the unimodal "
        "ensemble, trained with the same encoders, optimiser, epoch budget and early stopping, "
        f"over {len(p['seeds'])} seeds (accuracy: mean ± sample std over the seeds). Written by "
        "`benchmarks/fusion_table.py`; raw numbers in `benchmarks/results/fusion_table.json`.",
        "",
        "Reproduce (about the stated total time on one core):",
        "",
        "```bash",
        f"OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 {results['command']}",
        "```",
        "",
        f"Measured with torch {results['environment']['torch']}, numpy "
        f"{results['environment']['numpy']}, Python {results['environment']['python']}, on CPU "
        f"with {results['environment']['torch_threads']} thread; total "
        f"{results['total_seconds'] / 60:.1f} min.",
        "",
        "## Protocol",
        "",
        f"- Split: one stratified train/validation/test split "
        f"({1 - p['validation'] - p['test']:.0%}/{p['validation']:.0%}/{p['test']:.0%}, split "
        f"seed {p['split_seed']}) shared by all seeds, so the std measures training randomness "
        "(initialisation, shuffling, noise draws), not split variation. Features standardised "
        "with the training split's statistics."
        + (f" Subsampled to {p['max_samples']} samples." if p["max_samples"] else ""),
        f"- Encoders (the same for every model): vectors -> MLP (one hidden layer of 64), 8x8 "
        f"images -> CNN (16, 32 channels, stride 2), MFCC frames -> 1-D conv (hidden 32, 2 "
        f"layers), each to {p['encoder_dim']} features.",
        f"- Fusions: registry defaults (`create_fusion(name, dims, {p['fused_dim']})`), then a "
        f"linear classification head. Unimodal baseline: the same encoder and a linear head. "
        "Unimodal ensemble: the unimodal baselines of the same seed, probabilities averaged "
        "over the modalities present (no extra training; its train time is their sum).",
        f"- Training: Adam, lr {p['lr']}, batch {p['batch_size']}, at most {p['max_epochs']} "
        f"epochs, early stopping on the validation loss (patience {p['patience']}), best weights "
        "restored; complete data only (no modality dropout during training).",
        f"- Robustness (test split): each modality dropped (input zeroed = its training mean, "
        f"and its mask column False, which mask-aware fusions honour); Gaussian noise "
        f"`x + level * std(x) * eps` on one modality at a time, levels {levels}, "
        f"{p['noise_repeats']} draw(s) per level. *Baseline curve*: the unimodal ensemble of "
        "the same seed, with noise on the same modality. Relative robustness = "
        "AUC(model) / AUC(ensemble); effective robustness = AUC(model - its clean score) - "
        "AUC(ensemble - its clean score), AUC being the mean accuracy over the noise range "
        "(trapezoid). Both are averaged over the noised modalities in the tables; the JSON has "
        "them per modality and per seed.",
        "",
    ]
    for name, res in results["datasets"].items():
        lines += [
            f"## {name}",
            "",
            f"Modalities {', '.join(f'`{m}`' for m in res['modalities'])}: {res['why']}. "
            f"{res['n_train']} train / {res['n_val']} validation / {res['n_test']} test samples, "
            f"{res['n_classes']} classes, chance (majority class) {res['chance']:.3f}.",
            "",
            "### Accuracy",
            "",
            *accuracy_table(res),
            "",
            "### Robustness to noise",
            "",
            *robustness_table(res, levels),
            "",
        ]
        for fig in figures.get(name, []):
            rel = os.path.relpath(fig, path.parent)
            lines += [f"![{fig.stem}]({rel})", ""]
        lines += ["### What the numbers say", ""]
        lines += [f"- {c}" for c in conclusions(res)]
        lines.append("")
    lines += [
        "## Caveats",
        "",
        "- One split per dataset and three seeds: differences smaller than about two standard "
        "deviations are not resolved.",
        "- Every model has the same small encoders and no tuning per fusion; a fusion that "
        "needs more epochs, another learning rate or wider encoders is shown at a disadvantage.",
        "- The attention fusions receive one pooled vector per modality (the shared encoders "
        "pool over frames), so they attend over one token per modality, not over sequences.",
        "- Models are trained on complete data. Accuracy with a modality dropped shows what "
        "each architecture does out of the box; training with modality dropout would change "
        "it.",
        "- av-digits is split at random, not by speaker: voices seen in training also speak in "
        "the test split.",
        "",
    ]
    text = "\n".join(lines)
    atomic_write(path, lambda fh: fh.write(text.encode()))


# ----------------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS),
                        default=list(DATASETS), help="datasets to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 seeds, 3 epochs, 400 samples, 3 noise levels")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="subsample each dataset to this many samples")
    parser.add_argument("--json", type=Path,
                        default=ROOT / "benchmarks" / "results" / "fusion_table.json")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "fusion-results.md")
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args(argv)
    if args.max_samples is not None and args.max_samples < 100:
        parser.error(f"--max-samples must be at least 100, got {args.max_samples}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write the JSON, the figures and the Markdown; return the results."""
    args = parse_args(argv)
    torch.set_num_threads(1)
    protocol = QUICK if args.quick else Protocol()
    if args.max_samples is not None:
        protocol = replace(protocol, max_samples=args.max_samples)
    fusions = list(list_fusions())
    shown = sys.argv[1:] if argv is None else list(argv)
    results: dict[str, Any] = {
        "command": " ".join(["python benchmarks/fusion_table.py", *shown]),
        "protocol": asdict(protocol), "fusions": fusions,
        "environment": {"torch": torch.__version__, "numpy": np.__version__,
                        "python": platform.python_version(),
                        "torch_threads": torch.get_num_threads(),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "datasets": {},
    }
    start = time.perf_counter()
    with _progress(not args.progress) as bar:
        for name in args.datasets:
            results["datasets"][name] = run_dataset(DATASETS[name], protocol, fusions, bar)
    results["total_seconds"] = time.perf_counter() - start
    figures = {name: write_figures(name, res, protocol.noise_levels, args.figures)
               for name, res in results["datasets"].items()}
    text = json.dumps(_jsonable(results), indent=1)
    atomic_write(args.json, lambda fh: fh.write(text.encode()))
    write_markdown(args.doc, results, figures)
    return results


if __name__ == "__main__":
    main()
