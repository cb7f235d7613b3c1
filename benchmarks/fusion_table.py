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
* encoders: 8x8 images -> CNN (16 and 32 channels); everything else, including the
  fixed-length 20x13 MFCC frames (flattened), -> MLP (one hidden layer of 64); all to 16
  features;
* fusions: registry defaults, fused size 32, linear classification head; a unimodal baseline
  is the same encoder with a linear head on its 16 features; the ensemble averages the
  probabilities of the unimodal baselines of the same seed (no further training);
* training: Adam, lr 1e-3, batch 64, at most 100 epochs, early stopping on the validation loss
  with patience 10, weights of the best epoch restored; complete data, except for the rows
  ``<fusion> + mdrop``: the same fusion trained with modality dropout (``Task(...,
  modality_dropout=0.3)``, ``--modality-dropout``);
* one more variant, ``gated, gate=modality``: the gated fusion with one gate weight per modality
  instead of one per fused feature, to show what the per-feature gate changes.

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

from interplay._json import jsonable as _jsonable
from interplay._progress import progress_bar as _progress
from interplay.analysis import (
    effective_robustness,
    relative_robustness,
    robustness_auc,
    robustness_sweep,
)
from interplay.balance import ModalityDropout
from interplay.exceptions import ConvergenceError
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
from interplay.training.config import config_from_dict
from interplay.training.run import RunData, prepare_data

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
    modality_dropout: float = 0.3
    mdrop_fusions: tuple[str, ...] = ("early", "late", "gated", "low_rank_tensor")


QUICK = Protocol(seeds=(0, 1), max_epochs=2, patience=1, noise_levels=(0.0, 1.0, 4.0),
                 noise_repeats=1, max_samples=400, mdrop_fusions=("late", "gated"))


@dataclass(frozen=True)
class Variant:
    """One fusion row of the table: a registered fusion, its options, how it is trained."""

    name: str
    fusion: str
    options: tuple[tuple[str, Any], ...] = ()
    modality_dropout: float = 0.0

    @property
    def kind(self) -> str:
        return "fusion" if self.name == self.fusion else "variant"


def variants(protocol: Protocol) -> list[Variant]:
    """Every registered fusion with its defaults, the per-modality gate, the mdrop rows."""
    rows = [Variant(name, name) for name in list_fusions()]
    rows.append(Variant("gated, gate=modality", "gated", (("gate", "modality"),)))
    if protocol.modality_dropout > 0:
        rows += [Variant(f"{name} + mdrop", name, modality_dropout=protocol.modality_dropout)
                 for name in protocol.mdrop_fusions]
    return rows


@dataclass(frozen=True)
class DatasetSpec:
    """A bundled dataset, the modalities used and why."""

    name: str
    modalities: tuple[str, ...]
    target: str
    why: str
    images: tuple[str, ...] = ()


DATASETS = {
    "mfeat": DatasetSpec(
        "mfeat", ("fou", "kar", "mor"), "digit",
        "three different feature families (Fourier contour coefficients, Karhunen-Loeve "
        "pixel coefficients, six morphological features), each imperfect alone (logistic "
        "regression, docs/datasets.md protocol: 0.82 / 0.94 / 0.71) but 0.98 together, so "
        "fusion has room to help; fac and pix are left out because alone they are already "
        "near the ceiling (0.99 / 0.96)",
    ),
    "av-digits": DatasetSpec(
        "av-digits", ("image", "audio"), "digit",
        "both modalities: noisy 8x8 digit image and MFCCs of the spoken digit "
        "(logistic regression, docs/datasets.md protocol: 0.72 / 0.88 alone, 0.96 together)",
        images=("image",),
    ),
}


# ------------------------------------------------------------------------------------ data
def prepare(spec: DatasetSpec, protocol: Protocol) -> RunData:
    """Load, subsample (``max_samples``), split stratified, standardise with training statistics.

    The same path as ``interplay train`` (:func:`interplay.training.run.prepare_data`): images
    keep their ``(1, H, W)`` shape for a CNN, every other modality is flattened to a vector;
    each entry of a sample is standardised on its own with training statistics (constant
    entries keep a scale of 1).
    """
    cfg = config_from_dict({
        "dataset": {"name": spec.name, "max_samples": protocol.max_samples},
        "modalities": list(spec.modalities), "target": spec.target,
        "split": {"validation": protocol.validation, "test": protocol.test,
                  "seed": protocol.split_seed, "stratify": True},
        "encoders": {m: {"kind": "image" if m in spec.images else "vector"}
                     for m in spec.modalities},
    }, source=f"the {spec.name} protocol")
    return prepare_data(cfg)


# ---------------------------------------------------------------------------------- models
def make_encoder(kind: str, shape: tuple[int, ...], dim: int) -> nn.Module:
    """The encoder every model uses for a modality of this kind (see the module docstring)."""
    if kind == "image":
        return create_encoder("image", shape, dim, channels=(16, 32))
    return create_encoder("vector", shape, dim, hidden_dims=(64,))


def build_fusion_model(variant: Variant, data: RunData, protocol: Protocol) -> MultimodalModel:
    encoders = {m: make_encoder(data.kinds[m], data.input_shapes[m], protocol.encoder_dim)
                for m in data.modalities}
    fusion = create_fusion(variant.fusion, {m: protocol.encoder_dim for m in data.modalities},
                           protocol.fused_dim, **dict(variant.options))
    return MultimodalModel(encoders, fusion,
                           create_head("classification", protocol.fused_dim, data.n_outputs))


def build_unimodal_model(modality: str, data: RunData, protocol: Protocol) -> UnimodalModel:
    encoder = make_encoder(data.kinds[modality], data.input_shapes[modality],
                           protocol.encoder_dim)
    return UnimodalModel(modality, encoder,
                         create_head("classification", protocol.encoder_dim, data.n_outputs))


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def predictor(model: nn.Module, order: Sequence[str]) -> Callable[[Any, Any], torch.Tensor]:
    """``predict_fn(inputs, mask)`` for a robustness sweep whose mask columns are ``order``."""
    if isinstance(model, UnimodalModel):
        column = list(order).index(model.modality)
        return lambda inputs, mask: model(inputs, mask[:, column]).logits
    return lambda inputs, mask: model(inputs, mask).logits


# -------------------------------------------------------------------------------- one run
def train(model: nn.Module, data: RunData, protocol: Protocol, seed: int,
          modality_dropout: float = 0.0) -> dict[str, Any]:
    """Fit ``model`` (already built under ``seed``); return metrics and timing of the run."""
    trainer = Trainer(max_epochs=protocol.max_epochs, batch_size=protocol.batch_size,
                      lr=protocol.lr, seed=seed, patience=protocol.patience, progress=False)
    start = time.perf_counter()
    balancer = ModalityDropout(modality_dropout) if modality_dropout > 0 else None
    result = trainer.fit(Task(model, balancer=balancer), data.train, data.validation)
    return {"train_seconds": time.perf_counter() - start,
            "epochs": result.epochs_completed, "best_epoch": result.best_epoch,
            "val_accuracy": result.metrics["val_accuracy"]}


def warm_up(data: RunData, protocol: Protocol) -> None:
    """One untimed epoch, so that one-off costs (lazy imports, allocator) miss the timings."""
    model = build_unimodal_model(data.modalities[0], data, protocol)
    Trainer(max_epochs=1, batch_size=protocol.batch_size, progress=False).fit(Task(model),
                                                                               data.train)


def sweep(model: nn.Module, data: RunData, protocol: Protocol, seed: int,
          order: Sequence[str]) -> dict[str, Any]:
    """Test accuracy, the robustness sweep and gate statistics of a trained model."""
    model.eval()
    inputs, y = data.test
    result = robustness_sweep(predictor(model, order), inputs, y,
                              noise_levels=protocol.noise_levels, mask_order=order,
                              n_repeats=protocol.noise_repeats, random_state=seed)
    return {"test_accuracy": result.clean, "robustness": result.to_dict(),
            **gate_statistics(model, inputs)}


def gate_statistics(model: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
    """For a fusion with per-sample modality weights (``gated``): their mean per modality; the
    fraction of samples whose largest weight (averaged over the fused features) exceeds 0.9,
    a gate that picks one modality per sample; and the fraction of single gate entries (one
    per sample and fused feature) whose largest weight exceeds 0.9."""
    fusion = getattr(model, "fusion", None)
    if not hasattr(fusion, "weights"):
        return {}
    with torch.no_grad():
        gates = fusion.weights(model.encode(inputs), per_feature=True)
    w = gates.mean(dim=-1)
    return {"gate_mean": dict(zip(model.modalities, w.mean(dim=0).tolist(), strict=True)),
            "gate_above_0.9": float((w.max(dim=1).values > 0.9).double().mean()),
            "gate_entries_above_0.9": float((gates.max(dim=1).values > 0.9).double().mean())}


def compare_curves(run: dict[str, Any], baseline: dict[str, Any],
                   levels: Sequence[float]) -> None:
    """Add relative and effective robustness of each noise curve against the baseline's."""
    ours, base = run["robustness"]["noisy"], baseline["robustness"]["noisy"]
    run["relative_robustness"] = {m: relative_robustness(ours[m], base[m], levels) for m in ours}
    run["effective_robustness"] = {m: effective_robustness(ours[m], base[m], levels)
                                   for m in ours}


# ------------------------------------------------------------------------------ a dataset
def fit_and_sweep(model: nn.Module, data: RunData, protocol: Protocol, seed: int,
                  order: Sequence[str], modality_dropout: float = 0.0) -> dict[str, Any]:
    return {"seed": seed, **train(model, data, protocol, seed, modality_dropout),
            **sweep(model, data, protocol, seed, order)}


def run_dataset(spec: DatasetSpec, protocol: Protocol, fusions: Sequence[Variant],
                bar: Any) -> dict[str, Any]:
    """Train and sweep every model on one dataset over all seeds."""
    data = prepare(spec, protocol)
    order = data.modalities
    models: dict[str, dict[str, Any]] = {}

    def entry(name: str, kind: str, model: nn.Module, **about: Any) -> dict[str, Any]:
        return models.setdefault(name, {"kind": kind, "parameters": n_parameters(model),
                                        **about, "runs": [], "failures": []})

    warm_up(data, protocol)
    job = bar.add_task(spec.name, total=len(protocol.seeds) * (len(fusions) + len(order)))
    for seed in protocol.seeds:
        unimodal = {}
        for m in order:
            seed_everything(seed)
            unimodal[m] = build_unimodal_model(m, data, protocol)
            entry(f"{m} only", "unimodal", unimodal[m])["runs"].append(
                fit_and_sweep(unimodal[m], data, protocol, seed, order))
            bar.advance(job)
        ensemble = UnimodalEnsemble(unimodal)
        seconds = sum(models[f"{m} only"]["runs"][-1]["train_seconds"] for m in order)
        base = {"seed": seed, "train_seconds": seconds,
                **sweep(ensemble, data, protocol, seed, order)}
        entry(ENSEMBLE, "ensemble", ensemble)["runs"].append(base)
        for m in order:
            compare_curves(models[f"{m} only"]["runs"][-1], base, protocol.noise_levels)
        compare_curves(base, base, protocol.noise_levels)
        for variant in fusions:
            seed_everything(seed)
            model = build_fusion_model(variant, data, protocol)
            row = entry(variant.name, variant.kind, model, fusion=variant.fusion,
                        options=dict(variant.options),
                        modality_dropout=variant.modality_dropout)
            try:
                run = fit_and_sweep(model, data, protocol, seed, order, variant.modality_dropout)
            except ConvergenceError as exc:
                row["failures"].append({"seed": seed, "error": str(exc)})
            else:
                compare_curves(run, base, protocol.noise_levels)
                row["runs"].append(run)
            bar.advance(job)
    chance = models[ENSEMBLE]["runs"][0]["robustness"]["chance"]
    for e in models.values():
        e["summary"] = summarise(e["runs"], order)
        e["flags"] = flags(e, chance)
    return {
        "modalities": list(order), "why": spec.why, "target": spec.target,
        "n_classes": data.n_outputs,
        "n_train": int(data.train[1].shape[0]), "n_val": int(data.validation[1].shape[0]),
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
        if "gate_mean" in run:
            row.update({f"gate_{m}": run["gate_mean"][m] for m in order})
            row["gate_above_0.9"] = run["gate_above_0.9"]
            row["gate_entries_above_0.9"] = run["gate_entries_above_0.9"]
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
        cells = [f"`{name}`" if e["kind"] in ("fusion", "variant") else name, e["kind"],
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
    """Statements that follow from the numbers of one dataset; each is computed, none is typed
    in, and the interpretations are emitted only when the numbers that support them hold."""
    models = res["models"]
    ok = [n for n in ranked(models) if models[n]["summary"]]
    fusions = [n for n in ok if models[n]["kind"] == "fusion"]
    out = accuracy_findings(models, ok, fusions) if fusions else []
    if fusions:
        out += robustness_findings(models, fusions, res["modalities"])
        out += competition_finding(models, ok, fusions)
    gated = [n for n in ok if models[n]["kind"] in ("fusion", "variant")]
    out += gate_findings(models, gated, res["modalities"])
    out += mdrop_findings(models, res["modalities"])
    for n in models:
        out += [f"**`{n}`**: {f}." for f in models[n]["flags"]]
    return out


def _mean(models: dict[str, Any], name: str, key: str) -> float:
    return models[name]["summary"]["mean"][key]


def accuracy_findings(models: dict[str, Any], ok: list[str], fusions: list[str]) -> list[str]:
    acc = {n: _mean(models, n, "test_accuracy") for n in ok}
    sd = {n: models[n]["summary"]["std"]["test_accuracy"] or 0.0 for n in ok}
    best_uni = next(n for n in ok if models[n]["kind"] == "unimodal")
    ens = acc[ENSEMBLE]
    out = [f"Best fusion: `{fusions[0]}` ({acc[fusions[0]]:.3f}); weakest: `{fusions[-1]}` "
           f"({acc[fusions[-1]]:.3f}); best unimodal baseline: {best_uni} "
           f"({acc[best_uni]:.3f}); unimodal ensemble: {ens:.3f}."]
    above = [f"`{n}`" for n in fusions if acc[n] - sd[n] > ens + sd[ENSEMBLE]]
    below = [f"`{n}`" for n in fusions if acc[n] + sd[n] < ens - sd[ENSEMBLE]]
    text = ("Fusions above the ensemble by more than one std on both sides: "
            + (", ".join(above) or "none") + "; below it: " + (", ".join(below) or "none"))
    out.append(text + ("; the rest are within the seed spread."
                       if len(above) + len(below) < len(fusions) else "."))
    below_uni = [f"`{n}`" for n in fusions if acc[n] < acc[best_uni]]
    if below_uni:
        out.append(f"Fusions below the best unimodal baseline: {', '.join(below_uni)}.")
    return out


def robustness_findings(models: dict[str, Any], fusions: list[str],
                        order: Sequence[str]) -> list[str]:
    rel = {n: _mean(models, n, "relative_mean") for n in fusions}
    eff = {n: _mean(models, n, "effective_mean") for n in fusions}
    most, least = max(rel, key=rel.get), min(rel, key=rel.get)
    out = [f"Under noise, relative to the ensemble (averaged over the noised modality): most "
           f"robust area `{most}` ({rel[most]:.3f}), least `{least}` ({rel[least]:.3f}); "
           f"effective robustness ranges from {min(eff.values()):+.3f} to "
           f"{max(eff.values()):+.3f}."]
    for m in order:
        drop = {n: _mean(models, n, f"dropped_{m}") for n in fusions}
        lo, hi = min(drop, key=drop.get), max(drop, key=drop.get)
        out.append(f"With `{m}` dropped, the ensemble keeps "
                   f"{_mean(models, ENSEMBLE, f'dropped_{m}'):.3f}; the fusions range from "
                   f"{drop[lo]:.3f} (`{lo}`) to {drop[hi]:.3f} (`{hi}`).")
    return out


def competition_finding(models: dict[str, Any], ok: list[str], fusions: list[str]) -> list[str]:
    """When the ensemble beats every fusion: the evidence for modality competition."""
    if _mean(models, ENSEMBLE, "test_accuracy") <= _mean(models, fusions[0], "test_accuracy"):
        return []
    unimodal = [n for n in ok if models[n]["kind"] == "unimodal"]
    strongest = unimodal[0].removesuffix(" only")
    stops = [r["epochs"] for n in fusions for r in models[n]["runs"]]
    others = ", ".join(f"{n} {_mean(models, n, 'epochs'):.0f}" for n in unimodal[1:])
    drop = [_mean(models, n, f"dropped_{strongest}") for n in fusions]
    late = []
    if "late" in fusions:
        late = [f"`late` is architecturally close to the ensemble (a linear head on the mean of "
                f"per-modality linear maps averages per-modality logits, where the ensemble "
                f"averages probabilities), yet trained jointly it reaches "
                f"{_mean(models, 'late', 'test_accuracy'):.3f} against the ensemble's "
                f"{_mean(models, ENSEMBLE, 'test_accuracy'):.3f}."]
    return [
        f"No fusion reaches the unimodal ensemble. The numbers fit modality competition in "
        f"joint training (Wang et al. 2020, 'What makes training multi-modal classification "
        f"networks hard?'; Peng et al. 2022, OGM-GE): early stopping ends joint training after "
        f"a median of {np.median(stops):.0f} epochs, while the baselines of the weaker "
        f"modalities stop after (mean epochs) {others}; and with the strongest modality "
        f"`{strongest}` dropped the fusions keep {min(drop):.3f} to {max(drop):.3f} where the "
        f"ensemble keeps {_mean(models, ENSEMBLE, f'dropped_{strongest}'):.3f}, so the other "
        f"encoders carry less inside a fusion than alone. Modality balancing (gradient "
        f"modulation, modality dropout) targets this; the `+ mdrop` rows try modality dropout.",
        *late,
    ]


def gate_findings(models: dict[str, Any], fusions: list[str], order: Sequence[str]) -> list[str]:
    out = []
    for n in fusions:
        s = models[n]["summary"]
        if "gate_above_0.9" not in s["mean"]:
            continue
        weights = ", ".join(f"{m} {fmt(s, f'gate_{m}', 2)}" for m in order)
        out.append(f"`{n}` gate on the test split: mean weights {weights}; fraction of samples "
                   f"with one weight (averaged over the fused features) above 0.9: "
                   f"{fmt(s, 'gate_above_0.9', 2)}; of single gate entries (sample x fused "
                   f"feature) above 0.9: {fmt(s, 'gate_entries_above_0.9', 2)}.")
        if s["mean"]["gate_above_0.9"] > 0.5 and models[n].get("modality_dropout"):
            out.append(f"`{n}` mostly picks a single modality per complete sample, but trained "
                       "with modalities missing, its other projections also learned from the "
                       "samples that lacked the favoured one (see the dropped columns).")
        elif s["mean"]["gate_above_0.9"] > 0.5:
            out.append(f"`{n}` mostly picks a single modality per sample: its softmax gate "
                       "saturates, and a modality whose weight is near 0 sends almost no "
                       "gradient into its projection, so once saturated the gate tends to stay on "
                       "the modality it favours.")
        elif s["mean"]["gate_entries_above_0.9"] > 0.5:
            out.append(f"`{n}` saturates feature by feature, not sample by sample: most single "
                       "gates pick one modality, but different features pick different "
                       "modalities, so every modality keeps a share of each sample's fused "
                       "representation.")
    pair = ("gated", "gated, gate=modality")
    if all(n in models and models[n]["summary"] for n in pair):
        cols = ["test_accuracy"] + [f"dropped_{m}" for m in order] + ["gate_above_0.9"]
        labels = (["test accuracy"] + [f"{m} dropped" for m in order]
                  + ["samples with one weight above 0.9"])
        text = "; ".join(f"{label} {_mean(models, pair[0], c):.3f} vs "
                         f"{_mean(models, pair[1], c):.3f}" for c, label in zip(cols, labels,
                                                                                strict=True))
        out.append(f"One gate per fused feature (`gated`) against one gate per modality "
                   f"(`gated, gate=modality`): {text}.")
    return out


def mdrop_pairs(models: dict[str, Any]) -> list[tuple[str, str]]:
    """(fusion, the same fusion trained with modality dropout), both with results."""
    return [(n[: -len(" + mdrop")], n) for n in models
            if n.endswith(" + mdrop") and models[n]["summary"]
            and models.get(n[: -len(" + mdrop")], {}).get("summary")]


def mdrop_table(res: dict[str, Any]) -> list[str]:
    """Each fusion without and with modality dropout: accuracy, dropped columns, robustness."""
    models, order = res["models"], res["modalities"]
    keys = ["test_accuracy"] + [f"dropped_{m}" for m in order] + ["relative_mean"]
    head = (["fusion", "test accuracy"] + [f"{m} dropped" for m in order]
            + ["relative robustness (mean)"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for plain, mdrop in mdrop_pairs(models):
        cells = [f"`{plain}`"]
        for k in keys:
            a, b = _mean(models, plain, k), _mean(models, mdrop, k)
            cells.append(f"{a:.3f} → {b:.3f} ({b - a:+.3f})")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def mdrop_findings(models: dict[str, Any], order: Sequence[str]) -> list[str]:
    pairs = mdrop_pairs(models)
    if not pairs:
        return []
    p = models[pairs[0][1]]["modality_dropout"]

    def change(key: str) -> list[float]:
        return [_mean(models, b, key) - _mean(models, a, key) for a, b in pairs]

    clean = change("test_accuracy")
    dropped = [d for m in order for d in change(f"dropped_{m}")]
    rel = change("relative_mean")
    return [f"Modality dropout (p = {p:g}) over {len(pairs)} fusions: accuracy with one "
            f"modality dropped changed by {min(dropped):+.3f} to {max(dropped):+.3f} (higher "
            f"in {sum(d > 0 for d in dropped)} of {len(dropped)} fusion-modality pairs); clean "
            f"accuracy by {min(clean):+.3f} to {max(clean):+.3f}; relative noise robustness by "
            f"{min(rel):+.3f} to {max(rel):+.3f}."]


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
                   "ls": {"unimodal": "--", "variant": ":"}.get(models[n]["kind"], "-")}
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
        "Reproduce:",
        "",
        "```bash",
        f"OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 {results['command']}",
        "```",
        "",
        "(`--render-only` redraws the figures and this page from the JSON without training.)",
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
        f"- Encoders (the same for every model): 8x8 images -> CNN (16, 32 channels, stride "
        f"2); feature vectors and the fixed-length 20x13 MFCC frames (flattened to 260) -> MLP "
        f"(one hidden layer of 64); each to {p['encoder_dim']} features.",
        f"- Fusions: registry defaults (`create_fusion(name, dims, {p['fused_dim']})`), then a "
        f"linear classification head. Unimodal baseline: the same encoder and a linear head. "
        "Unimodal ensemble: the unimodal baselines of the same seed, probabilities averaged "
        "over the modalities present (no extra training; its train time is their sum).",
        f"- Training: Adam, lr {p['lr']}, batch {p['batch_size']}, at most {p['max_epochs']} "
        f"epochs, early stopping on the validation loss (patience {p['patience']}), best weights "
        "restored; complete data, except the rows `<fusion> + mdrop`: the same fusion trained "
        f"with modality dropout, each modality of each training sample dropped with "
        f"probability {p['modality_dropout']:g} (never all of them; validation on complete "
        "data). `gated, gate=modality`: the gated fusion with one gate weight per modality "
        "instead of one per fused feature.",
        f"- Robustness (test split): each modality dropped (input zeroed = its training mean, "
        f"and its mask column False, which mask-aware fusions honour); Gaussian noise "
        f"`x + level * std(x) * eps` on one modality at a time, levels "
        f"({', '.join(f'{v:g}' for v in levels)}); "
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
        if mdrop_pairs(res["models"]):
            lines += [f"### Training with modality dropout (p = {p['modality_dropout']:g})",
                      "", "Mean over seeds, without → with modality dropout (change).", "",
                      *mdrop_table(res), ""]
        for fig in figures.get(name, []):
            rel = os.path.relpath(fig, path.parent)
            lines += [f"![{fig.stem}]({rel})", ""]
        lines += ["### What the numbers say", ""]
        lines += [f"- {c}" for c in conclusions(res)]
        lines.append("")
    lines += [
        "## Caveats",
        "",
        f"- One split per dataset and {len(p['seeds'])} seeds: differences smaller than about "
        "two standard deviations are not resolved.",
        "- Every model has the same small encoders and no tuning per fusion; a fusion that "
        "needs more epochs, another learning rate or wider encoders is shown at a disadvantage.",
        "- The attention fusions receive one encoded vector per modality, so they attend over "
        "one token per modality, not over sequences of frames or patches.",
        "- Train times were taken on a shared 2-core machine and are noisy; compare them only "
        "within a factor of about two.",
        "- Apart from the `+ mdrop` rows, models are trained on complete data: accuracy with a "
        "modality dropped shows what each architecture does out of the box. Modality dropout "
        f"was tried with one rate ({p['modality_dropout']:g}) and no tuning.",
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
                        help="smoke run: 2 seeds, 2 epochs, 400 samples, 3 noise levels")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="subsample each dataset to this many samples")
    parser.add_argument("--modality-dropout", type=float, default=None, metavar="P",
                        help="drop rate of the '<fusion> + mdrop' rows (default 0.3; 0: no "
                             "such rows)")
    parser.add_argument("--mdrop-fusions", nargs="+", choices=sorted(list_fusions()),
                        default=None, metavar="FUSION",
                        help="fusions that also get a '+ mdrop' row (default: early late "
                             "gated low_rank_tensor)")
    parser.add_argument("--json", type=Path,
                        default=ROOT / "benchmarks" / "results" / "fusion_table.json")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "fusion-results.md")
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument("--render-only", action="store_true",
                        help="train nothing: redraw the figures and the Markdown from --json")
    args = parser.parse_args(argv)
    if args.render_only and not args.json.is_file():
        parser.error(f"--render-only reads the results from --json, but {args.json} is missing")
    if args.max_samples is not None and args.max_samples < 100:
        parser.error(f"--max-samples must be at least 100, got {args.max_samples}")
    if args.modality_dropout is not None and not 0.0 <= args.modality_dropout < 1.0:
        parser.error(f"--modality-dropout must be in [0, 1), got {args.modality_dropout}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write the JSON, the figures and the Markdown; return the results."""
    args = parse_args(argv)
    if args.render_only:
        results = json.loads(args.json.read_text())
        render(results, args.doc, args.figures)
        return results
    torch.set_num_threads(1)
    protocol = QUICK if args.quick else Protocol()
    if args.max_samples is not None:
        protocol = replace(protocol, max_samples=args.max_samples)
    if args.modality_dropout is not None:
        protocol = replace(protocol, modality_dropout=args.modality_dropout)
    if args.mdrop_fusions is not None:
        protocol = replace(protocol, mdrop_fusions=tuple(args.mdrop_fusions))
    fusions = variants(protocol)
    shown = sys.argv[1:] if argv is None else list(argv)
    results: dict[str, Any] = {
        "command": " ".join(["python benchmarks/fusion_table.py", *shown]),
        "protocol": asdict(protocol), "fusions": list(list_fusions()),
        "variants": [asdict(v) for v in fusions],
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
    text = json.dumps(_jsonable(results), indent=1)
    atomic_write(args.json, lambda fh: fh.write(text.encode()))
    render(results, args.doc, args.figures)
    return results


def render(results: dict[str, Any], doc: Path, figures: Path) -> None:
    """Write the figures and the Markdown page of a results dict (fresh or read from JSON)."""
    levels = results["protocol"]["noise_levels"]
    paths = {name: write_figures(name, res, levels, figures)
             for name, res in results["datasets"].items()}
    write_markdown(doc, results, paths)


if __name__ == "__main__":
    main()
