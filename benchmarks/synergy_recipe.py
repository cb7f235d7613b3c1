"""Why no fusion learns av-digits-synergy, and the training recipe with which one does.

``av-digits-synergy`` asks for the parity of (seen digit + heard digit): each modality alone is
independent of the label. Two parts, both on the split of ``benchmarks/model_selection_real.py``
(stratified 65/10/25 %, split seed 0, features standardised with training statistics, the
fusion table's encoders: 8x8 image -> CNN, flattened MFCCs -> MLP, 16 features each):

* ``--why``: tensor fusion trained with label-only changes of the fusion table's protocol
  (no early stopping and more epochs, another learning rate, more capacity, raw features) and
  with the ``auxiliary_targets`` objective (per-modality heads on the ``image_digit`` and
  ``audio_digit`` targets; joint, or after a warm-up), 3 seeds each: the measured answer.
* ``--candidates``: every registered fusion, the balanced trainings
  (:data:`interplay.analysis.recommend.BALANCED`: a fusion trained with modality dropout or
  MMPareto) and the unimodal ensemble trained with the recipe (:data:`RECIPE`), 3 seeds;
  per-seed records in the cache format of ``model_selection_real.py`` (key
  ``"<set>|<model>|<seed>"``) so they merge into its cache.

Every run is cached in ``benchmarks/results/synergy_recipe.json`` as soon as it ends; a rerun
trains only what is missing and then prints the tables::

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/synergy_recipe.py --why --candidates
    python benchmarks/synergy_recipe.py            # tables from the cache
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
CACHE = RESULTS / "synergy_recipe.json"
SET = "av-digits-synergy:image+audio->parity"
ENSEMBLE = "ensemble"
AUX = {"image": "image_digit", "audio": "audio_digit"}
WHY_SEEDS = (0, 1, 2)
CANDIDATE_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Recipe:
    """How one model is trained (the fusion table's protocol is the default)."""

    label: str
    max_epochs: int = 100
    patience: int | None = 10
    restore_best: bool = True
    lr: float = 1e-3
    encoder_dim: int = 16
    fused_dim: int = 32
    standardize: bool = True
    image_encoder: str = "image"
    auxiliary: bool = False
    warmup_epochs: int = 0
    weight: float = 1.0


PROTOCOL = Recipe("fusion-table protocol (lr 1e-3, early stopping patience 10)")
#: The recipe of ``--candidates`` and of ``examples/configs/av_digits_synergy.yaml``.
RECIPE = Recipe("auxiliary targets, 20 warm-up epochs, patience 30", patience=30,
                auxiliary=True, warmup_epochs=20)
WHY = (
    PROTOCOL,
    replace(PROTOCOL, label="no early stopping, last of 300 epochs", max_epochs=300,
            patience=None, restore_best=False),
    replace(PROTOCOL, label="lr 1e-2, no early stopping, last of 150 epochs", max_epochs=150,
            patience=None, restore_best=False, lr=1e-2),
    replace(PROTOCOL, label="4x capacity (64 encoder / 128 fused features), no early "
            "stopping, last of 150 epochs", max_epochs=150, patience=None, restore_best=False,
            encoder_dim=64, fused_dim=128),
    replace(PROTOCOL, label="raw (unstandardised) features", standardize=False),
    Recipe("auxiliary targets, joint from the start, patience 30", patience=30,
           auxiliary=True),
    RECIPE,
    replace(RECIPE, label=RECIPE.label + ", MLP image encoder", image_encoder="vector"),
)


# ------------------------------------------------------------------------------ the cache
def load_cache(path: Path = CACHE) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())
    return {"kind": "synergy_recipe", "set": SET, "recipe": asdict(RECIPE), "why": {},
            "runs": {}}


def save_cache(cache: dict[str, Any], path: Path = CACHE) -> None:
    from interplay import __version__
    from interplay._atomic import atomic_write_text

    cache["interplay_version"] = __version__
    atomic_write_text(path, json.dumps(cache, indent=1, sort_keys=True))


# ------------------------------------------------------------------------------- training
_DATA: dict[tuple[bool, str], Any] = {}


def prepare(recipe: Recipe) -> Any:
    """The split of ``model_selection_real.py``, with the digits of each modality loaded as
    extra targets (read only by the auxiliary objective)."""
    from interplay.training.config import config_from_dict
    from interplay.training.run import prepare_data

    key = (recipe.standardize, recipe.image_encoder)
    if key not in _DATA:
        cfg = config_from_dict({
            "dataset": {"name": "av-digits-synergy", "standardize": recipe.standardize},
            "modalities": ["image", "audio"], "target": "parity",
            "split": {"validation": 0.10, "test": 0.25, "seed": 0, "stratify": True},
            "encoders": {"image": {"kind": recipe.image_encoder}, "audio": {"kind": "vector"}},
            "objective": {"name": "auxiliary_targets", "options": {"targets": AUX}},
        }, source="the synergy protocol")
        _DATA[key] = prepare_data(cfg)
    return _DATA[key]


def make_task(model: Any, recipe: Recipe, data: Any, targets: dict[str, str],
              balancer: Any = None) -> Any:
    from interplay.training import AuxiliaryTargetsObjective, Task

    if not recipe.auxiliary:
        return Task(model, balancer=balancer)
    return Task(model, objective=AuxiliaryTargetsObjective(
        targets, weight=recipe.weight, warmup_epochs=recipe.warmup_epochs,
        classes=data.extra_classes), balancer=balancer)


def fit(model: Any, recipe: Recipe, data: Any, seed: int,
        targets: dict[str, str], balancer: Any = None) -> dict[str, Any]:
    """Train ``model`` (built under ``seed``) with ``recipe`` (and ``balancer``, if any);
    metrics of the restored epoch."""
    from interplay.training import Trainer

    task = make_task(model, recipe, data, targets, balancer)
    parts = ([data.with_extra_targets(p) for p in ("train", "validation")] if recipe.auxiliary
             else [data.train, data.validation])
    trainer = Trainer(max_epochs=recipe.max_epochs, batch_size=64, lr=recipe.lr, seed=seed,
                      patience=recipe.patience, restore_best=recipe.restore_best,
                      progress=False)
    start = time.perf_counter()
    result = trainer.fit(task, *parts)
    return {"train_seconds": time.perf_counter() - start, "epochs": result.epochs_completed,
            "best_epoch": result.best_epoch, "val_accuracy": result.metrics["val_accuracy"],
            "train_accuracy": result.metrics["train_accuracy"]}


def protocol_for(recipe: Recipe) -> Any:
    import fusion_table as ft

    return ft.Protocol(encoder_dim=recipe.encoder_dim, fused_dim=recipe.fused_dim,
                       noise_levels=(0.0,), noise_repeats=1)


def test_accuracy(model: Any, data: Any, seed: int) -> float:
    """Clean test accuracy, measured as ``model_selection_real.py`` does (the sweep's clean
    point)."""
    import fusion_table as ft

    return float(ft.sweep(model, data, ft.Protocol(noise_levels=(0.0,), noise_repeats=1), seed,
                          data.modalities)["test_accuracy"])


def digit_accuracies(model: Any, data: Any, recipe: Recipe) -> dict[str, float]:
    """Test accuracy of each modality's digit from its own encoding: a linear probe fitted on
    the training encodings (what the encoders learnt, whatever the objective)."""
    import torch
    from sklearn.linear_model import LogisticRegression

    model.eval()
    out = {}
    with torch.no_grad():
        train = model(data.train[0]).embeddings
        test = model(data.test[0]).embeddings
    for m, name in AUX.items():
        if m not in train:
            continue
        probe = LogisticRegression(max_iter=2000).fit(
            train[m].numpy(), data.extra_targets["train"][name].numpy())
        out[m] = float(probe.score(test[m].numpy(), data.extra_targets["test"][name].numpy()))
    return out


def run_fusion(name: str, recipe: Recipe, seed: int, probe: bool = False) -> dict[str, Any]:
    """A registered fusion, or a balanced training (``interplay.analysis.recommend.BALANCED``),
    trained with
    ``recipe``."""
    import fusion_table as ft
    from model_selection_analysis import fusion_and_balancer

    from interplay.training import seed_everything

    data = prepare(recipe)
    seed_everything(seed)
    fusion, balancer = fusion_and_balancer(name)
    model = ft.build_fusion_model(ft.Variant(name, fusion), data, protocol_for(recipe))
    record = {"parameters": ft.n_parameters(model),
              **fit(model, recipe, data, seed, AUX, balancer),
              "test_accuracy": test_accuracy(model, data, seed)}
    if probe:
        record["digit_probe"] = digit_accuracies(model, data, recipe)
    return record


def run_ensemble(recipe: Recipe, seed: int) -> dict[str, Any]:
    """Unimodal models (each with its own modality's auxiliary head under the recipe), their
    parity probabilities averaged."""
    import fusion_table as ft

    from interplay.models import UnimodalEnsemble
    from interplay.training import seed_everything

    data = prepare(recipe)
    protocol = protocol_for(recipe)
    unimodal, seconds = {}, 0.0
    for m in data.modalities:
        seed_everything(seed)
        unimodal[m] = ft.build_unimodal_model(m, data, protocol)
        seconds += fit(unimodal[m], recipe, data, seed, {m: AUX[m]})["train_seconds"]
    ensemble = UnimodalEnsemble(unimodal)
    return {"parameters": ft.n_parameters(ensemble), "train_seconds": seconds,
            "test_accuracy": test_accuracy(ensemble, data, seed)}


def train_why(cache: dict[str, Any]) -> None:
    for seed in WHY_SEEDS:
        for recipe in WHY:
            runs = cache["why"].setdefault(recipe.label, {"recipe": asdict(recipe), "seeds": {}})
            if str(seed) in runs["seeds"]:
                continue
            runs["seeds"][str(seed)] = run_fusion("tensor", recipe, seed, probe=True)
            save_cache(cache)
            r = runs["seeds"][str(seed)]
            print(f"tensor | {recipe.label} | seed {seed}: test {r['test_accuracy']:.3f}, train "
                  f"{r['train_accuracy']:.3f}, best epoch {r['best_epoch']}/{r['epochs']} "
                  f"({r['train_seconds']:.0f} s)", flush=True)


def train_candidates(cache: dict[str, Any]) -> None:
    from interplay.analysis.recommend import BALANCED
    from interplay.exceptions import ConvergenceError
    from interplay.models import list_fusions

    for seed in CANDIDATE_SEEDS:
        for name in (ENSEMBLE, *list_fusions(), *BALANCED):
            key = f"{SET}|{name}|{seed}"
            if key in cache["runs"]:
                continue
            try:
                record = (run_ensemble(RECIPE, seed) if name == ENSEMBLE
                          else run_fusion(name, RECIPE, seed))
            except ConvergenceError as exc:
                print(f"{key}: failed ({exc})", flush=True)
                continue
            cache["runs"][key] = {k: v for k, v in record.items() if k != "train_accuracy"}
            save_cache(cache)
            print(f"{key}: {record['test_accuracy']:.3f} ({record['train_seconds']:.0f} s)",
                  flush=True)


# ------------------------------------------------------------------------------- tables
def _mean_sd(values: Sequence[float]) -> str:
    sd = np.std(values, ddof=1) if len(values) > 1 else float("nan")
    return f"{np.mean(values):.3f} ± {sd:.3f}"


def tables(cache: dict[str, Any]) -> list[str]:
    lines = ["| recipe (tensor fusion, 3 seeds) | test accuracy | train accuracy | epoch kept "
             "| image / audio digit probe | s per run |", "|---|---:|---:|---:|---:|---:|"]
    for recipe in WHY:
        seeds = list(cache["why"].get(recipe.label, {}).get("seeds", {}).values())
        if not seeds:
            continue
        probe = {m: np.mean([s["digit_probe"][m] for s in seeds]) for m in AUX}
        lines.append(
            f"| {recipe.label} | {_mean_sd([s['test_accuracy'] for s in seeds])} | "
            f"{np.mean([s['train_accuracy'] for s in seeds]):.3f} | "
            f"{', '.join(str(s['best_epoch']) for s in seeds) if recipe.restore_best else 'last'}"
            " | "
            f"{probe['image']:.2f} / {probe['audio']:.2f} | "
            f"{np.mean([s['train_seconds'] for s in seeds]):.0f} |")
    lines += ["", f"| model, trained with the recipe ({len(CANDIDATE_SEEDS)} seeds) | test "
              "accuracy | parameters | s per run |", "|---|---:|---:|---:|"]
    names = sorted({k.split("|")[1] for k in cache["runs"]})
    rows = []
    for name in names:
        recs = [v for k, v in cache["runs"].items() if k.split("|")[1] == name]
        rows.append((np.mean([r["test_accuracy"] for r in recs]), name, recs))
    for _, name, recs in sorted(rows, reverse=True):
        lines.append(f"| {name} | {_mean_sd([r['test_accuracy'] for r in recs])} | "
                     f"{recs[0]['parameters']} | "
                     f"{np.mean([r['train_seconds'] for r in recs]):.0f} |")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--why", action="store_true",
                        help="train the label-only and auxiliary recipes (tensor, 3 seeds)")
    parser.add_argument("--candidates", action="store_true",
                        help="train every fusion, the balanced trainings and the ensemble with "
                             "the recipe (3 seeds)")
    args = parser.parse_args(argv)
    cache = load_cache()
    if args.why or args.candidates:
        import torch

        torch.set_num_threads(1)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        start = time.perf_counter()
        if args.why:
            train_why(cache)
        if args.candidates:
            train_candidates(cache)
        cache.setdefault("train_seconds_log", []).append(time.perf_counter() - start)
        save_cache(cache)
    print("\n".join(tables(cache)))


if __name__ == "__main__":
    main()
